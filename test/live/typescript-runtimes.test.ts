import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { build } from 'esbuild';
import ts from 'typescript';
import { repoRoot, runNode } from '../helpers.js';
import { declarationsOf, declarationsOfFile, isDeclared } from './declarations.js';

// One leak, visits.ts, run the ways TypeScript services are run; each way must report its sites at
// the lines where visits.ts declares them (V8 records the allocating function's declaration; when
// TurboFan inlines trackVisit into its callers, one of them is charged: any of the three is right).
// The children start together, before the tests wait for them: the suite stays a few seconds longer.

const fixtures = `${repoRoot}/test/fixtures/typescript`;
const visitsFile = `${fixtures}/visits.ts`;
const harness = 'test/fixtures/typescript/sample-visits.mjs';
const visitsDeclarations = declarationsOfFile(visitsFile);
const LEAKING = ['trackVisit', 'handleVisit', 'drive'];
const leakLines = LEAKING.map((name) => visitsDeclarations.find((declaration) => declaration.name === name)?.line);

const nodeMajor = Number(process.versions.node.split('.')[0]);
const [, minor = 0] = process.versions.node.split('.').map(Number);
/** Node's type stripping: behind a flag from 22.6, on by default from 22.18 and 23.6. */
const stripFlagSupported = nodeMajor > 22 || (nodeMajor === 22 && minor >= 6);
const stripsByDefault = Boolean((process.features as { typescript?: unknown }).typescript);
const tsxCli = createRequire(import.meta.url).resolve('tsx/cli');

interface Site {
  functionName: string;
  file: string;
  line: number;
  column: number;
  size: number;
  text: string;
}

interface HarnessReport {
  sites: Site[];
  warnings: string[];
  kept: number;
  /** The Prometheus page of a monitor, with --metrics. */
  page?: string;
}

/** Runs the harness under `nodeArgs` on `module`; started now, awaited by a test. */
function sample(nodeArgs: string[], module: string, harnessArgs: string[] = []): Promise<HarnessReport> {
  const run = runNode([...nodeArgs, harness, module, ...harnessArgs]).then((output) => JSON.parse(output) as HarnessReport);
  run.catch(() => {}); // the test that awaits it reports the failure
  return run;
}

async function bundleVisits(): Promise<string> {
  const outfile = `${repoRoot}/.test-build/bundles/visits-app.js`;
  mkdirSync(`${repoRoot}/.test-build/bundles`, { recursive: true });
  await build({ entryPoints: [`${fixtures}/bundle-entry.ts`], bundle: true, sourcemap: true, platform: 'node', format: 'esm', outfile, logLevel: 'error' });
  return outfile;
}

const runs = {
  tsx: sample(['--import', 'tsx'], visitsFile),
  tsNode: sample(['--enable-source-maps', '--loader', 'ts-node/esm'], visitsFile),
  tsNodeWithoutMaps: sample(['--loader', 'ts-node/esm'], visitsFile, ['--metrics']),
  stripFlag: stripFlagSupported ? sample(['--experimental-strip-types'], visitsFile) : undefined,
  plain: stripsByDefault ? sample([], visitsFile) : undefined,
  bundle: bundleVisits().then((bundle) => sample([], bundle)),
  express: runNode([tsxCli, 'test/fixtures/typescript/express-server.ts']).then((output) => JSON.parse(output) as ExpressReport),
};
runs.bundle.catch(() => {});
runs.express.catch(() => {});

/** The label sets of one metric on a Prometheus page. */
function seriesOf(page: string, metric: string): Array<Record<string, string>> {
  return page
    .split('\n')
    .filter((line) => line.startsWith(`${metric}{`))
    .map((line) => Object.fromEntries([...line.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1] as string, m[2] as string])));
}

/** The sites of visits.ts are its functions at their declaration lines, and the largest is the leak. */
function assertAtDeclarations(report: HarnessReport): void {
  const inVisits = report.sites.filter((site) => site.file === visitsFile);
  const listing = report.sites.map((site) => `${site.functionName} ${site.text}`).join('\n');
  assert.equal(report.kept, 20_000);
  assert.ok(inVisits.length > 0, `no site in visits.ts:\n${listing}`);
  for (const site of inVisits) {
    assert.ok(isDeclared(site, visitsDeclarations), `${site.functionName} at line ${site.line} is no function of visits.ts:\n${listing}`);
  }
  const [top] = inVisits;
  assert.ok(top && leakLines.includes(top.line), `the largest site of visits.ts is not the leak:\n${listing}`);
  // Code the compiler added has no mapping (tsx's `__name` helper, on line 1 of its output): when
  // a sample lands in it, that site is marked compiled, with the warning. No function of visits.ts is.
  const compiled = report.sites.filter((site) => site.file.startsWith(visitsFile) && site.file !== visitsFile);
  for (const site of compiled) {
    assert.ok(!visitsDeclarations.some((declaration) => declaration.name === site.functionName), `${site.functionName} of visits.ts is marked compiled:\n${listing}`);
  }
  assert.deepEqual(report.warnings, compiled.length > 0 ? ['HEAPWATCH_W_TYPESCRIPT_UNMAPPED'] : []);
}

test('tsx (node --import tsx): sites at their .ts lines, through the maps tsx hands to Node', async () => {
  assertAtDeclarations(await runs.tsx);
});

test('ts-node in its ESM loader mode, with --enable-source-maps: sites at their .ts lines', async () => {
  assertAtDeclarations(await runs.tsNode);
});

test('ts-node without --enable-source-maps: sites at their compiled positions, marked [compiled], and a coded warning', async () => {
  const report = await runs.tsNodeWithoutMaps;
  const listing = report.sites.map((site) => `${site.functionName} ${site.text}`).join('\n');
  assert.ok(!report.sites.some((site) => site.file === visitsFile), `a site is reported at a line of visits.ts:\n${listing}`);
  const compiled = report.sites.filter((site) => site.file === `${visitsFile} [compiled]`);
  assert.ok(compiled.length > 0, listing);
  // The positions are those of the code ts-node runs: visits.ts as the TypeScript compiler emits it.
  const emitted = ts.transpileModule(readFileSync(visitsFile, 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  }).outputText;
  const emittedDeclarations = declarationsOf(emitted, 'visits.js');
  for (const site of compiled) {
    assert.ok(isDeclared(site, emittedDeclarations), `${site.functionName} at ${site.line} is no function of the compiled code:\n${listing}`);
    assert.match(site.text, /^test\/fixtures\/typescript\/visits\.ts \[compiled\]:\d+:\d+: size=/);
  }
  assert.deepEqual(report.warnings, ['HEAPWATCH_W_TYPESCRIPT_UNMAPPED']);

  // On /metrics, `line` carries the column too: functions on one compiled line stay apart.
  const series = seriesOf(report.page ?? '', 'heapwatch_site_live_bytes').filter((labels) => labels['file']?.includes('visits.ts'));
  assert.ok(series.length > 0, report.page);
  for (const labels of series) {
    assert.equal(labels['file'], 'test/fixtures/typescript/visits.ts [compiled]');
    const [line, column] = (labels['line'] ?? '').split(':').map(Number);
    assert.ok(column !== undefined && isDeclared({ functionName: labels['function'] ?? '', line: line ?? 0 }, emittedDeclarations), JSON.stringify(labels));
  }
});

test("Node's type stripping behind its flag (node --experimental-strip-types): sites at their .ts lines, no map needed", { skip: !stripFlagSupported && `Node ${process.version} cannot strip types; Node 22.6 and later can` }, async () => {
  assertAtDeclarations(await (runs.stripFlag as Promise<HarnessReport>));
});

test("Node's type stripping by default (plain node app.ts): sites at their .ts lines, no map needed", { skip: !stripsByDefault && `Node ${process.version} does not run TypeScript without a flag; Node 22.18, 23.6 and later do` }, async () => {
  assertAtDeclarations(await (runs.plain as Promise<HarnessReport>));
});

test('an esbuild bundle (--bundle --sourcemap) of a small app: sites in the original module', async () => {
  assertAtDeclarations(await runs.bundle);
});

interface ExpressReport {
  suspected: boolean;
  requests: number;
  page: string;
  records: Array<{ msg?: string; heapwatch?: { event?: string; site?: { function: string; file: string; line: number } } }>;
}

test('npx tsx server.ts with Express 5 and app.use(heapwatch()): /metrics and the leak record name the .ts declaration lines', async () => {
  const report = await runs.express;
  const serverDeclarations = declarationsOfFile(`${fixtures}/express-server.ts`);
  const declarationsByFile: Record<string, ReturnType<typeof declarationsOfFile>> = {
    'test/fixtures/typescript/visits.ts': visitsDeclarations,
    'test/fixtures/typescript/express-server.ts': serverDeclarations,
  };
  const series = seriesOf(report.page, 'heapwatch_site_live_bytes');
  const ours = series.filter((labels) => (labels['file'] ?? '').startsWith('test/fixtures/typescript/'));
  assert.ok(ours.length > 0, report.page);
  for (const labels of ours) {
    const declarations = declarationsByFile[labels['file'] ?? ''];
    assert.ok(declarations, `a series names ${labels['file']}`);
    const site = { functionName: labels['function'] ?? '', line: Number(labels['line']) };
    assert.ok(isDeclared(site, declarations), `${JSON.stringify(labels)} is no function of its file`);
  }
  assert.ok(report.suspected, `no suspicion after ${report.requests} requests`);
  const leak = report.records.find((record) => record.heapwatch?.event === 'leak-suspected');
  const site = leak?.heapwatch?.site;
  assert.ok(site, JSON.stringify(report.records));
  const declarations = declarationsByFile[site.file];
  assert.ok(declarations && isDeclared({ functionName: site.function, line: site.line }, declarations), JSON.stringify(site));
  assert.match(leak?.msg ?? '', /^heapwatch: leak suspected at \S+ \(test\/fixtures\/typescript\/(visits|express-server)\.ts:\d+\): /);
});
