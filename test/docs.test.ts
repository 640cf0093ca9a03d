import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { test } from 'node:test';
import { ErrorCode, WarningCode } from '../src/errors.js';
import { Registry } from 'prom-client';
import { defaults } from '../src/options/defaults.js';
import { HEAPWATCH_OPTION_NAMES } from '../src/express/options.js';
import { createHeapMonitor, OtelInstrument, PrometheusMetric, registerPrometheusMetrics } from '../src/index.js';
import { repoRoot } from './helpers.js';

const readme = readFileSync(`${repoRoot}/README.md`, 'utf8');
const doc = (name: string): string => readFileSync(`${repoRoot}/docs/${name}`, 'utf8');
const api = doc('api.md');
const metrics = doc('metrics.md');

test('the README opens with the two set-up commands: the demo and the tests', () => {
  const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
  assert.match(firstBlock, /^npm ci && npm start\b/m);
  assert.match(firstBlock, /^npm ci && npm test\b/m);
  assert.ok(readme.indexOf('```sh') < 20, 'the commands come first');
});

test('docs/api.md documents every error and warning code, and no other', () => {
  const documented = [...api.matchAll(/^\| `(HEAPWATCH_[A-Z_]+)` \|/gm)].map((m) => m[1]).sort();
  const defined = [...Object.values(ErrorCode), ...Object.values(WarningCode)].sort();
  assert.deepEqual(documented, defined);
});

test('the default options are exactly these, and docs/api.md states each one', () => {
  assert.deepEqual(
    { ...defaults },
    {
      samplingIntervalBytes: 524288,
      stackDepth: 64,
      allocations: false,
      bufferSampling: false,
      bufferSamplingIntervalBytes: 524_288,
      reader: 'auto',
      intervalMs: 10_000,
      windowMs: 3_600_000,
      warmupMs: 600_000,
      growthThresholdBytes: 2_097_152,
      topSites: 10,
      maxTrackedSites: 2000,
      readingBudgetMs: 100,
      forcedGcPauseBudgetMs: 100,
      memoryNearLimitFraction: 0.9,
      unexplainedGrowthThresholdBytes: 33_554_432,
    },
  );
  assert.ok(Object.isFrozen(defaults));
  for (const [name, value] of Object.entries(defaults)) {
    const row = api.split('\n').find((line) => line.startsWith(`| \`${name}\` |`));
    assert.ok(row, `the options table has a row for ${name}`);
    assert.ok(row.includes(typeof value === 'string' ? `'${value}'` : `\`${value}\``), `${name}'s row states ${value}`);
  }
});

test('docs/concepts.md shows examples/tracemalloc.mjs as it is', () => {
  const example = readFileSync(`${repoRoot}/examples/tracemalloc.mjs`, 'utf8');
  assert.ok(doc('concepts.md').includes(example), 'the example in the docs is the file, verbatim');
});

/** The rows of the first table after `heading` in `text` whose header starts with `| first |`: first cells → the rest. */
function tableAfter(text: string, heading: string, first: string): Map<string, string[]> {
  assert.ok(text.includes(heading), `the document has the heading ${heading}`);
  const after = text.slice(text.indexOf(heading));
  const lines = after.split('\n');
  const start = lines.findIndex((line) => line.startsWith(`| ${first} |`));
  const rows = new Map<string, string[]>();
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    const [name = '', ...rest] = line.split('|').slice(1, -1).map((cell) => cell.trim());
    rows.set(name, rest);
  }
  return rows;
}

test("the README's quick start is the one line", () => {
  const quickStart = readme.slice(readme.indexOf('## Quick start'), readme.indexOf('## The demo'));
  assert.match(quickStart, /```js\napp\.use\(heapwatch\(\)\);[^\n]*\n```/);
});

test('docs/api.md has a row for every heapwatch() option with its default, unit and meaning', () => {
  const options = tableAfter(api, '## `heapwatch(options?)`', 'option');
  assert.deepEqual([...options.keys()], HEAPWATCH_OPTION_NAMES.map((name) => `\`${name}\``));
  for (const [name, [fallback, unit, meaning]] of options) {
    assert.ok(fallback && unit && meaning && meaning.length > 10, `${name} has a default, a unit and a meaning`);
  }
});

test('the metric table of docs/metrics.md lists exactly the Prometheus metrics heapwatch registers, with their types', async () => {
  const registry = new Registry();
  const unregister = registerPrometheusMetrics(createHeapMonitor({ logger: false }), registry);
  const registered = Object.fromEntries((await registry.getMetricsAsJSON()).map((metric) => [`\`${metric.name}\``, metric.type]));
  unregister();
  const documented = Object.fromEntries([...tableAfter(metrics, '## Prometheus', 'metric')].map(([name, [type]]) => [name, type]));
  assert.deepEqual(documented, registered);
  assert.deepEqual(Object.keys(registered).sort(), Object.values(PrometheusMetric).map((name) => `\`${name}\``).sort());
});

test('the OpenTelemetry table names every instrument', () => {
  const documented = [...tableAfter(metrics, '## OpenTelemetry', 'instrument').keys()].flatMap((cell) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]));
  assert.deepEqual(documented.sort(), Object.values(OtelInstrument).sort());
});

test('every relative link of the README and docs/ points to a file that exists', () => {
  // The Markdown files: docs/ also holds the README's screenshot.
  const files = ['README.md', ...readdirSync(`${repoRoot}/docs`).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`)];
  for (const file of files) {
    const text = readFileSync(`${repoRoot}/${file}`, 'utf8');
    for (const [, target = ''] of text.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
      if (/^[a-z]+:/.test(target)) continue;
      assert.ok(existsSync(resolve(repoRoot, dirname(file), target)), `${file} links to ${target}, which exists`);
    }
  }
});

test('every row of RELIABILITY.md names a test or a script, and every file it links exists', () => {
  const reliability = readFileSync(`${repoRoot}/RELIABILITY.md`, 'utf8');
  assert.match(readme, /\]\(RELIABILITY\.md\)/, 'the README links it');
  // The promises' tables; the long runs' figures at the end are results, not promises.
  const promises = reliability.slice(0, reliability.indexOf('## Long runs'));
  const rows = promises.split('\n').filter((line) => line.startsWith('| ') && !/^\| (fault|input|load|promise) \|/.test(line));
  assert.ok(rows.length >= 25, `${rows.length} rows`);
  for (const row of rows) assert.match(row, /(test\/|scripts\/|bench\/)[\w/.-]+\.(ts|sh|mjs)/, row);
  const linked = [...reliability.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)].map((m) => m[1] as string).filter((target) => !/^[a-z]+:/.test(target));
  assert.ok(linked.filter((target) => target.startsWith('test/')).length >= 15);
  for (const target of linked) assert.ok(existsSync(resolve(repoRoot, target)), `RELIABILITY.md links to ${target}, which exists`);
});

test("the README's demo output names recordOrderView at the line the demo declares it", () => {
  const demo = readFileSync(`${repoRoot}/examples/express-demo.mjs`, 'utf8').split('\n');
  const declared = demo.findIndex((line) => /^function recordOrderView\(/.test(line)) + 1;
  const shown = [...readme.matchAll(/recordOrderView[^\n]*?(?:"line":|express-demo\.mjs:|\(line )(\d+)/g)].map((m) => Number(m[1]));
  assert.ok(shown.length >= 3, 'the README shows the demo’s record, page and summary');
  assert.deepEqual([...new Set(shown)], [declared]);
});

test("every framework entry point of package.json's exports has its row in docs/api.md, its section and one line in docs/frameworks.md, and its example", () => {
  const { exports } = JSON.parse(readFileSync(`${repoRoot}/package.json`, 'utf8')) as { exports: Record<string, unknown> };
  const entries = Object.keys(exports).filter((key) => key !== '.' && key !== './package.json').map((key) => `heapwatch${key.slice(1)}`);
  assert.deepEqual(entries, ['heapwatch/fastify', 'heapwatch/koa', 'heapwatch/hono']);
  const frameworks = doc('frameworks.md');
  for (const entry of entries) {
    assert.ok(api.includes(`| \`${entry}\` |`), `docs/api.md has a row for ${entry}`);
    assert.ok(frameworks.includes(`import { heapwatch } from '${entry}';`), `docs/frameworks.md shows the import of ${entry}`);
    assert.ok(existsSync(`${repoRoot}/examples/${entry.slice('heapwatch/'.length)}.mjs`), `examples/ has ${entry}'s example`);
  }
  const registerOptions = tableAfter(api, '## `heapwatch/fastify`, `heapwatch/koa`, `heapwatch/hono`', 'option');
  assert.deepEqual([...registerOptions.keys()], ['`prefix`', '`logLevel`', '`logSerializers`']);
  for (const [name, [fallback, unit, meaning]] of registerOptions) {
    assert.ok(fallback && unit && meaning && meaning.length > 10, `${name} has a default, a unit and a meaning`);
  }
});
