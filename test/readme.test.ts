import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ErrorCode, WarningCode } from '../src/errors.js';
import { defaults } from '../src/options/defaults.js';
import { repoRoot } from './helpers.js';

const readme = readFileSync(`${repoRoot}/README.md`, 'utf8');

test('the README opens with the two set-up commands: the demo and the tests', () => {
  const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
  assert.match(firstBlock, /^npm ci && npm start\b/m);
  assert.match(firstBlock, /^npm ci && npm test\b/m);
  assert.ok(readme.indexOf('```sh') < 20, 'the commands come first');
});

test('the README documents every error and warning code, and no other', () => {
  const documented = [...readme.matchAll(/^\| `(HEAPWATCH_[A-Z_]+)` \|/gm)].map((m) => m[1]).sort();
  const defined = [...Object.values(ErrorCode), ...Object.values(WarningCode)].sort();
  assert.deepEqual(documented, defined);
});

test('the default options are exactly these, and the README states each one', () => {
  assert.deepEqual(
    { ...defaults },
    {
      samplingIntervalBytes: 131072,
      stackDepth: 64,
      reader: 'auto',
      intervalMs: 10_000,
      windowMs: 600_000,
      growthThresholdBytes: 2_097_152,
      topSites: 10,
      maxTrackedSites: 2000,
    },
  );
  assert.ok(Object.isFrozen(defaults));
  for (const [name, value] of Object.entries(defaults)) {
    const row = readme.split('\n').find((line) => line.startsWith(`| \`${name}\` |`));
    assert.ok(row, `the options table has a row for ${name}`);
    assert.ok(row.includes(typeof value === 'string' ? `'${value}'` : `\`${value}\``), `${name}'s row states ${value}`);
  }
});

test('the README shows examples/tracemalloc.mjs as it is', () => {
  const example = readFileSync(`${repoRoot}/examples/tracemalloc.mjs`, 'utf8');
  assert.ok(readme.includes(example), 'the example in the README is the file, verbatim');
});
