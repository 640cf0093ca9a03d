import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import ts from 'typescript';
import type { Frame } from '../../src/snapshot/frame.js';
import { TypeScriptPositions, fitsSource } from '../../src/snapshot/typescript-position.js';
import { repoRoot } from '../helpers.js';

const visits = `${repoRoot}/test/fixtures/typescript/visits.ts`;
const dir = `${repoRoot}/.test-build/variants/typescript-position`;
mkdirSync(`${dir}/node_modules/dep`, { recursive: true });
const FUNCTIONS = ['trackVisit', 'handleVisit', 'drive'];

/** A copy of visits.ts under another name: warnings are once per file and process. */
function copyOfVisits(name: string): string {
  copyFileSync(visits, `${dir}/${name}`);
  return `${dir}/${name}`;
}

/** Each function of the text where V8 places it: its name, and the `(` of its parameter list. */
function framesIn(text: string, file: string): Frame[] {
  const lines = text.split('\n');
  return FUNCTIONS.map((functionName) => {
    const index = lines.findIndex((line) => line.includes(` ${functionName}`));
    return { functionName, file, line: index + 1, column: (lines[index] ?? '').indexOf('(') + 1 };
  });
}

/** The same functions in the code ts-node runs: visits.ts as the TypeScript compiler emits it. */
function compiledFramesOf(file: string): Frame[] {
  const emitted = ts.transpileModule(readFileSync(file, 'utf8'), { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } });
  return framesIn(emitted.outputText, file);
}

async function warningsDuring(action: () => void): Promise<Array<Error & { code?: string }>> {
  const warnings: Array<Error & { code?: string }> = [];
  const listener = (warning: Error & { code?: string }) => warnings.push(warning);
  process.on('warning', listener);
  try {
    action();
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off('warning', listener);
  }
  return warnings;
}

test("keeps the positions of a file Node strips the types of: they are the file's own", async () => {
  const file = copyOfVisits('stripped.ts');
  const positions = new TypeScriptPositions(() => assert.fail('no file is compiled'), true);
  const frames = [...framesIn(readFileSync(file, 'utf8'), file), { functionName: '(anonymous)', file, line: 1, column: 1 }];
  const warnings = await warningsDuring(() => {
    for (const frame of frames) assert.equal(positions.withoutMap(frame), frame, frame.functionName);
  });
  assert.deepEqual(warnings, []);
});

test('holds a file for compiled from its first position that is not its own: marked, warned about once, and so it stays', async () => {
  const file = copyOfVisits('transformed.ts');
  const compiledFiles: string[] = [];
  const positions = new TypeScriptPositions((compiled) => compiledFiles.push(compiled), true);
  const compiledFrames = compiledFramesOf(file);
  for (const [i, frame] of compiledFrames.entries()) {
    assert.notEqual(frame.line, framesIn(readFileSync(file, 'utf8'), file)[i]?.line, 'the compiled lines differ, so the test can tell');
  }
  const warnings = await warningsDuring(() => {
    for (const frame of compiledFrames) {
      assert.deepEqual({ ...positions.withoutMap(frame) }, { ...frame, file: `${file} [compiled]` });
    }
    // A position that would fit is not taken at face value any more.
    const [own] = framesIn(readFileSync(file, 'utf8'), file);
    assert.equal(positions.withoutMap(own as Frame).file, `${file} [compiled]`);
  });
  assert.deepEqual(compiledFiles, [file]);
  assert.deepEqual(
    warnings.map((warning) => warning.code),
    ['HEAPWATCH_W_TYPESCRIPT_UNMAPPED'],
  );
  assert.match(warnings[0]?.message ?? '', /transformed\.ts .*--enable-source-maps/);
});

test("marks every position where Node cannot have stripped the types: before Node 22, in .tsx files, under node_modules", () => {
  const ownFrame = (file: string): Frame => framesIn(readFileSync(file, 'utf8'), file)[0] as Frame;
  const node20 = copyOfVisits('on-node-20.ts');
  assert.equal(new TypeScriptPositions(undefined, false).withoutMap(ownFrame(node20)).file, `${node20} [compiled]`);
  for (const file of [copyOfVisits('component.tsx'), copyOfVisits('node_modules/dep/index.ts')]) {
    assert.equal(new TypeScriptPositions(undefined, true).withoutMap(ownFrame(file)).file, `${file} [compiled]`);
  }
});

test('a position fits where V8 places a function: the parameter list, an arrow without parentheses, a getter, a class at its first field', () => {
  const lines = [
    'class Store {', // 1
    '  // entries by id', // 2
    '  items = new Map<string, number>();', // 3
    '  get size(): number { return this.items.size; }', // 4
    '}', // 5
    'const twice = x => x * 2;', // 6
  ];
  const at = (functionName: string, line: number, column: number): boolean => fitsSource({ functionName, file: 'f.ts', line, column }, lines);
  assert.ok(at('Store', 3, 3), "a class's field initializers, at its first field");
  assert.ok(at('get size', 4, 11));
  assert.ok(at('twice', 6, 15));
  assert.ok(at('(anonymous)', 1, 1), "the module's own code");
  assert.ok(!at('Other', 3, 3), 'another name');
  assert.ok(!at('twice', 6, 17), 'not where a function starts');
  assert.ok(!at('twice', 6, 40), 'past the end of the line');
  assert.ok(!at('twice', 9, 1), 'past the end of the file');
});
