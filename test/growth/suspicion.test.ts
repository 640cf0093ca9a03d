import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SuspicionTracker } from '../../src/growth/suspicion.js';

const short = { ms: 40_000, thresholdBytes: 2000 };

test('raises a site once, remembering when and over which horizon', () => {
  const tracker = new SuspicionTracker(10_000);
  assert.equal(tracker.raise('a', short, 2), true);
  assert.equal(tracker.raise('a', short, 3), false, 'already raised');
  assert.equal(tracker.isSuspect('a'), true);
  assert.equal(tracker.suspectSince('a'), 2);
  assert.deepEqual(tracker.raisedOver('a'), short);
  assert.deepEqual([...tracker.keys()], ['a']);
  assert.equal(tracker.count, 1);
});

test('a cleared site is not raised again during the cooldown', () => {
  const tracker = new SuspicionTracker(10_000);
  tracker.raise('a', short, 0);
  assert.equal(tracker.clear('a', 1000), true);
  assert.equal(tracker.clear('a', 1001), false, 'no longer a suspect');
  assert.equal(tracker.isSuspect('a'), false);
  assert.equal(tracker.raisedOver('a'), undefined);
  assert.equal(tracker.raise('a', short, 5000), false);
  tracker.expireCooldowns(11_000);
  assert.equal(tracker.raise('a', short, 11_000), true);
});
