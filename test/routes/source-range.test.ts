import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { sourceRangeOf } from '../../src/routes/source-range.js';
import { functionLocation } from '../../src/v8/function-location.js';

// This compiled file's own text: the ranges below are checked against it, character by character.
const lines = readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n');

/** The character at a `line × 2³² + column` position of this file (1-based). */
function charAt(position: number): string | undefined {
  const line = Math.floor(position / 2 ** 32);
  const column = position - line * 2 ** 32;
  return lines[line - 1]?.[column - 1];
}

function rangeOf(fn: Function) {
  const location = functionLocation(fn);
  assert.ok(location, `V8 gave no location for ${fn.name}`);
  return sourceRangeOf(location);
}

function declared(a: number, b: number): number {
  const inner = () => a + b;
  return inner();
}
const arrow = (x: number, y: number): number => {
  return x + y;
};
const bare = async (x: number) => x * 2;
const object = {
  method(value: string) {
    return value.length;
  },
};
class Orders {
  show(id: string): string {
    return `order ${id}`;
  }
}

test('a function range starts at its parameter list, as the frames of a heap profile do, and ends at its last character', () => {
  for (const fn of [declared, arrow, object.method, Orders.prototype.show]) {
    const range = rangeOf(fn);
    assert.equal(charAt(range.start), '(', fn.name);
    assert.equal(charAt(range.end), '}', fn.name);
    assert.ok(range.end > range.start);
  }
  // An async arrow is declared at `async`; one line, no braces: up to the body's last character.
  const range = rangeOf(bare);
  assert.equal(charAt(range.start), 'a');
  assert.equal(charAt(range.end), '2');
});

test('a bound function has the range of the function it is bound to', () => {
  assert.deepEqual(rangeOf(declared.bind(null, 1)), rangeOf(declared));
});

test('V8 gives no location for built-in functions: no range, and no throw', () => {
  assert.equal(functionLocation(Math.max), undefined);
  assert.equal(functionLocation(Array.prototype.push), undefined);
});

test('the end counts \\r\\n as one line end, like \\n', () => {
  const base = { scriptId: 1, line: 10, column: 5 };
  const unix = sourceRangeOf({ ...base, source: 'function f(a) {\n  return a;\n}' });
  const windows = sourceRangeOf({ ...base, source: 'function f(a) {\r\n  return a;\r\n}' });
  assert.deepEqual(windows, unix);
  assert.equal(unix.end, 12 * 2 ** 32 + 1);
  // On the declaration's line: the column advances from the parameter list, or an arrow's first token.
  assert.equal(sourceRangeOf({ ...base, source: 'function f(a) { return a; }' }).end, 10 * 2 ** 32 + 21);
  assert.equal(sourceRangeOf({ ...base, source: 'x => x' }).end, 10 * 2 ** 32 + 10);
  assert.equal(sourceRangeOf({ ...base, source: 'async x => x' }).end, 10 * 2 ** 32 + 16);
});
