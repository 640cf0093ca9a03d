import assert from 'node:assert/strict';
import { test } from 'node:test';
import { frameKey } from '../../src/snapshot/frame.js';
import { FrameInterner } from '../../src/snapshot/frame-interner.js';
import type { ProfileNode } from '../../src/v8/profile.js';

const node = (name: string, lineNumber: number, columnNumber = 1, scriptName = 'file:///app/server.js'): ProfileNode => ({
  name,
  scriptName,
  lineNumber,
  columnNumber,
  allocations: [],
  children: [],
});

test('one frame object per function across readings, with its key and file path', () => {
  const interner = new FrameInterner(10);
  interner.startReading();
  const first = interner.frameOf(node('handler', 3, 5));
  interner.startReading();
  assert.equal(interner.frameOf(node('handler', 3, 5)), first);
  assert.deepEqual(first, { functionName: 'handler', file: '/app/server.js', line: 3, column: 5 });
  assert.equal(frameKey(first), '/app/server.js:3:5:handler');
  // Two functions declared at one position (an arrow and its named wrapper, say) stay apart.
  const other = interner.frameOf(node('', 3, 5));
  assert.equal(other.functionName, '(anonymous)');
  assert.notEqual(other, first);
  assert.equal(interner.frameOf(node('', 3, 5)), other);
  assert.equal(interner.frameOf(node('handler', 3, 5)), first);
});

test('past its cap it keeps the frames in use and lets go of the others between readings', () => {
  const interner = new FrameInterner(4);
  interner.startReading();
  const kept = [1, 2, 3, 4].map((line) => interner.frameOf(node(`f${line}`, line)));
  // Full: a fifth function gets a frame, equal but not interned, so not the same object twice.
  const extra = interner.frameOf(node('f5', 5));
  assert.deepEqual(extra, { functionName: 'f5', file: '/app/server.js', line: 5, column: 1 });
  assert.notEqual(interner.frameOf(node('f5', 5)), extra);
  assert.equal(frameKey(extra), '/app/server.js:5:1:f5', 'a frame built past the cap still has its key');

  // The next reading uses f1 and f2 only; at the one after, f3 and f4 make room for f5.
  interner.startReading();
  assert.equal(interner.frameOf(node('f1', 1)), kept[0]);
  assert.equal(interner.frameOf(node('f2', 2)), kept[1]);
  interner.startReading();
  const f5 = interner.frameOf(node('f5', 5));
  assert.equal(interner.frameOf(node('f5', 5)), f5, 'f5 is interned now');
  assert.equal(interner.frameOf(node('f1', 1)), kept[0], 'frames in use keep their identity');
  assert.notEqual(interner.frameOf(node('f3', 3)), kept[2], 'f3 was let go');
});
