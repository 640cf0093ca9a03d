import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';
import { SourceMapResolver } from '../../src/snapshot/source-map.js';
import { repoRoot, runNode } from '../helpers.js';

const tsSource = `${repoRoot}/test/fixtures/leaky-service.ts`;
/** Compiled by the test build's tsc, with an external .js.map beside it. */
const compiledWithMapFile = `${repoRoot}/.test-build/test/fixtures/leaky-service.js`;
const REMEMBER_TS_LINE = 18;

/** Compiles the fixture again with the TypeScript API, once with an inline map, once with none. */
function compileVariant(name: string, sourceMaps: 'inline' | 'none'): string {
  const { outputText } = ts.transpileModule(readFileSync(tsSource, 'utf8'), {
    fileName: 'leaky-service.ts',
    compilerOptions: {
      module: ts.ModuleKind.ESNext,
      target: ts.ScriptTarget.ES2022,
      inlineSourceMap: sourceMaps === 'inline',
      sourceRoot: pathToFileURL(`${repoRoot}/test/fixtures/`).href,
    },
  });
  const dir = `${repoRoot}/.test-build/variants`;
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}/${name}.js`, outputText);
  return `${dir}/${name}.js`;
}

interface ChildReport {
  site: { functionName: string; file: string; line: number; column: number };
  line: string;
  traceback: string[];
}

async function topSiteOf(compiled: string, reader: 'native' | 'inspector'): Promise<ChildReport> {
  return JSON.parse(await runNode(['test/fixtures/source-map-child.mjs', compiled, reader])) as ChildReport;
}

for (const reader of ['native', 'inspector'] as const) {
  test(`reports a site in compiled TypeScript at its .ts line, with an external map (${reader} reader)`, async () => {
    const jsLine = readFileSync(compiledWithMapFile, 'utf8').split('\n').findIndex((l) => l.includes('function remember')) + 1;
    assert.notEqual(jsLine, REMEMBER_TS_LINE, 'the compiled line differs, so the test can tell');
    const report = await topSiteOf(compiledWithMapFile, reader);
    assert.equal(report.site.functionName, 'remember');
    assert.equal(report.site.file, tsSource);
    assert.equal(report.site.line, REMEMBER_TS_LINE);
    assert.match(report.line, /^test\/fixtures\/leaky-service\.ts:18: size=/);
    // The innermost frames may be built-ins (`repeat`); the site's frame is mapped too.
    assert.ok(
      report.traceback.some((line) => /^remember \(test\/fixtures\/leaky-service\.ts:18:\d+\)$/.test(line)),
      report.traceback.join('\n'),
    );
  });
}

test('reports a site at its .ts line with an inline source map, and at the .js line without any', async () => {
  const inline = await topSiteOf(compileVariant('inline-map', 'inline'), 'native');
  assert.equal(inline.site.file, tsSource);
  assert.equal(inline.site.line, REMEMBER_TS_LINE);

  const bare = compileVariant('no-map', 'none');
  const plain = await topSiteOf(bare, 'native');
  const jsLine = readFileSync(bare, 'utf8').split('\n').findIndex((l) => l.includes('function remember')) + 1;
  assert.equal(plain.site.file, bare);
  assert.equal(plain.site.line, jsLine);
});

test('maps a frame through the compiled file\'s map, and caches the answer', () => {
  const resolver = new SourceMapResolver();
  const jsLines = readFileSync(compiledWithMapFile, 'utf8').split('\n');
  const line = jsLines.findIndex((l) => l.includes('function remember')) + 1;
  const column = (jsLines[line - 1] ?? '').indexOf('(') + 1;
  const frame = { functionName: 'remember', file: compiledWithMapFile, line, column };
  const mapped = resolver.resolve(frame);
  assert.deepEqual({ ...mapped }, { functionName: 'remember', file: tsSource, line: REMEMBER_TS_LINE, column: mapped.column });
  assert.equal(resolver.resolve({ ...frame }), mapped, 'the second lookup is the cached frame');
  const builtin = { functionName: 'push', file: '', line: 0, column: 0 };
  assert.equal(resolver.resolve(builtin), builtin);
});

test('warns once with a code and keeps the compiled position when a map cannot be read', async () => {
  const dir = `${repoRoot}/.test-build/variants`;
  mkdirSync(dir, { recursive: true });
  const broken = `${dir}/broken-map.js`;
  writeFileSync(broken, 'export function f() { return []; }\n//# sourceMappingURL=broken-map.js.map\n');
  writeFileSync(`${broken}.map`, '{ this is not json');
  const warning = once(process, 'warning');
  const resolver = new SourceMapResolver();
  const frame = { functionName: 'f', file: broken, line: 1, column: 18 };
  assert.equal(resolver.resolve(frame), frame);
  const [emitted] = (await warning) as [Error & { code?: string }];
  assert.equal(emitted.code, 'HEAPWATCH_W_SOURCE_MAP_UNREADABLE');
  assert.match(emitted.message, /broken-map\.js/);
});

test("maps a module's own code (anonymous, at 1:1) to 1:1 of its only source, and leaves a bundle's where it is", async () => {
  const resolver = new SourceMapResolver();
  const moduleCode = { functionName: '(anonymous)', file: compiledWithMapFile, line: 1, column: 1 };
  assert.deepEqual({ ...resolver.resolve(moduleCode) }, { ...moduleCode, file: tsSource });

  // Two modules in one file: the bundle's own code holds the top level of both.
  const { build } = await import('esbuild');
  const bundle = `${repoRoot}/.test-build/variants/two-modules.js`;
  await build({ entryPoints: [`${repoRoot}/test/fixtures/typescript/bundle-entry.ts`], bundle: true, sourcemap: true, format: 'esm', outfile: bundle, logLevel: 'error' });
  const bundleCode = { functionName: '(anonymous)', file: bundle, line: 1, column: 1 };
  assert.equal(resolver.resolve(bundleCode), bundleCode);
});
