import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SuspicionTracker } from '../../src/growth/suspicion.js';
import type { TrendAssessment } from '../../src/growth/trend.js';

const T = 1000;
const assessment = (growthBytes: number, rising: boolean): TrendAssessment => ({
  growthBytes,
  rising,
  quarterMedians: [0, 0, 0, growthBytes],
  pValue: rising ? 0.001 : 1,
  noiseBytes: 0,
  totalGrowthBytes: growthBytes,
});

test('raises only a rising and confirmed site, once', () => {
  const tracker = new SuspicionTracker(T, 10_000);
  assert.equal(tracker.update('a', assessment(2000, true), false, 0), undefined, 'not confirmed');
  assert.equal(tracker.update('a', assessment(2000, false), true, 1), undefined, 'not rising');
  assert.equal(tracker.update('a', assessment(2000, true), true, 2), 'raised');
  assert.equal(tracker.update('a', assessment(3000, true), true, 3), undefined, 'already raised');
  assert.equal(tracker.isSuspect('a'), true);
  assert.equal(tracker.suspectSince('a'), 2);
});

test('clears with hysteresis: only when growth falls under half the threshold', () => {
  const tracker = new SuspicionTracker(T, 10_000);
  tracker.update('a', assessment(2000, true), true, 0);
  assert.equal(tracker.update('a', assessment(600, false), false, 1), undefined, '600 ≥ T/2 keeps it');
  assert.equal(tracker.update('a', assessment(400, false), false, 2), 'cleared');
  assert.equal(tracker.isSuspect('a'), false);
});

test('a cleared site is not raised again during the cooldown', () => {
  const tracker = new SuspicionTracker(T, 10_000);
  tracker.update('a', assessment(2000, true), true, 0);
  tracker.update('a', assessment(0, false), false, 1000);
  assert.equal(tracker.update('a', assessment(2000, true), true, 5000), undefined);
  tracker.expireCooldowns(11_000);
  assert.equal(tracker.update('a', assessment(2000, true), true, 11_000), 'raised');
});
