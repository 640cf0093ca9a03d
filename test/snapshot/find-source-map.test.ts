import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { originalPositionFor } from '@jridgewell/trace-mapping';
import ts from 'typescript';
import { findSourceMap } from '../../src/snapshot/find-source-map.js';
import { repoRoot } from '../helpers.js';

const tsSource = `${repoRoot}/test/fixtures/leaky-service.ts`;
const REMEMBER_TS_LINE = 18;
const dir = `${repoRoot}/.test-build/variants/find-source-map`;
mkdirSync(dir, { recursive: true });

/** leaky-service.ts compiled with its map inline (in the comment) or as a separate text. */
function compile(mapKind: 'inline' | 'separate'): { code: string; map: string | undefined } {
  const { outputText, sourceMapText } = ts.transpileModule(readFileSync(tsSource, 'utf8'), {
    fileName: tsSource,
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, inlineSourceMap: mapKind === 'inline', sourceMap: mapKind === 'separate' },
  });
  return { code: outputText.replace(/\n\/\/# sourceMappingURL=\S+\n?$/, mapKind === 'inline' ? '$&' : '\n'), map: sourceMapText };
}

/** The .ts line that the compiled `remember` maps to through a found map. */
function rememberLine(file: string, found: NonNullable<ReturnType<typeof findSourceMap>>): number | null {
  const lines = readFileSync(file, 'utf8').split('\n');
  const line = lines.findIndex((text) => text.includes('function remember')) + 1;
  return originalPositionFor(found.map, { line, column: (lines[line - 1] ?? '').indexOf('(') }).line;
}

test("prefers the map Node holds for a loaded module: it is found when the file on disk no longer names one", async () => {
  const file = `${dir}/held.js`;
  const { code } = compile('inline');
  writeFileSync(file, code);
  process.setSourceMapsEnabled(true);
  try {
    await import(pathToFileURL(file).href);
  } finally {
    process.setSourceMapsEnabled(false);
  }
  // The same code, without its map: only Node's copy can answer now.
  writeFileSync(file, code.replace(/\/\/# sourceMappingURL=\S+\n?$/, ''));
  const found = findSourceMap(file);
  assert.equal(found?.origin, 'node');
  assert.equal(rememberLine(file, found), REMEMBER_TS_LINE);
});

test("reads the map a file's sourceMappingURL names, then a .map beside a file that names none", () => {
  const inline = `${dir}/inline.js`;
  writeFileSync(inline, compile('inline').code);
  const viaComment = findSourceMap(inline);
  assert.equal(viaComment?.origin, 'comment');
  assert.equal(rememberLine(inline, viaComment), REMEMBER_TS_LINE);

  const beside = `${dir}/beside.js`;
  const { code, map } = compile('separate');
  assert.doesNotMatch(code, /sourceMappingURL/);
  writeFileSync(beside, code);
  writeFileSync(`${beside}.map`, map ?? '');
  const found = findSourceMap(beside);
  assert.equal(found?.origin, 'beside');
  assert.equal(rememberLine(beside, found), REMEMBER_TS_LINE);
});

test('finds nothing for a file without a map, nor for a file that does not exist', () => {
  const plain = `${dir}/plain.js`;
  writeFileSync(plain, 'export function f() { return []; }\n');
  assert.equal(findSourceMap(plain), null);
  assert.equal(findSourceMap(`${dir}/missing.js`), null);
});
