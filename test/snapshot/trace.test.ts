import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tracesFromProfile } from '../../src/snapshot/trace.js';
import { profileNode as node } from './profile-node.js';

test('flattens the call tree into one trace per allocating node, with its exact stack', () => {
  // main ─┬─ handler ─┬─ parse ── push*   (the first subtree is deep, its sibling must not inherit it)
  //       │           └─ render*
  //       └─ timer*
  const root = node('(root)', [
    node('main', [node('handler', [node('parse', [node('push', [], 16, 10)]), node('render', [], 100, 2)]), node('timer', [], 40, 1)]),
  ]);
  const traces = tracesFromProfile(root);
  const stacks = traces.map((trace) => [trace.traceback.frames.map((frame) => frame.functionName).join(' < '), trace.size, trace.count]);
  assert.deepEqual(stacks, [
    ['push < parse < handler < main', 160, 10],
    ['render < handler < main', 200, 2],
    ['timer < main', 40, 1],
  ]);
  // The built-in is skipped when choosing the site.
  assert.equal(traces[0]?.traceback.site.functionName, 'parse');
});
