import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assessTrend, medianOfQuarters, quarterGrowth } from '../../src/growth/trend.js';

const MiB = 1024 * 1024;
const options = { growthThresholdBytes: 2 * MiB, samplingIntervalBytes: 32 * 1024 };
const points = 21;
/** A series from a function of the position in the window (0 to 1), with a deterministic wobble. */
const series = (f: (x: number) => number) => Array.from({ length: points }, (_, i) => f(i / (points - 1)) + ((i * 7919) % 13) * 1000);
/** Totals that grow as much as the site: a process where nothing else shrinks. */
const alongside = (bytes: number[]) => quarterGrowth(bytes.map((b) => b + 50 * MiB));

test('medians of quarters: the outer quarters have the same length', () => {
  assert.deepEqual(medianOfQuarters([1, 2, 3, 4, 5, 6, 7, 8]), [1.5, 3.5, 5.5, 7.5]);
  assert.deepEqual(medianOfQuarters([0, 0, 0, 0, 9, 9, 9, 9, 9]), [0, 0, 9, 9]);
});

test('a steady rise past the threshold is rising', () => {
  const bytes = series((x) => 10 * MiB + x * 5 * MiB);
  const verdict = assessTrend(bytes, alongside(bytes), options);
  assert.equal(verdict.rising, true);
  assert.ok(verdict.growthBytes > 2 * MiB && verdict.pValue < 0.01);
});

test('a rise under the threshold is not', () => {
  const bytes = series((x) => 10 * MiB + x * 1.5 * MiB);
  assert.equal(assessTrend(bytes, alongside(bytes), options).rising, false);
});

test('a cache that warmed up in the first half and levelled off is not', () => {
  const bytes = series((x) => 10 * MiB + Math.min(x, 0.45) * 12 * MiB);
  const verdict = assessTrend(bytes, alongside(bytes), options);
  assert.ok(verdict.growthBytes > 2 * MiB, 'it did grow');
  assert.equal(verdict.rising, false);
});

test('a one-time step in the first half is not (one in the second half is left to the clean readings)', () => {
  const bytes = series((x) => 10 * MiB + (x > 0.3 ? 8 * MiB : 0));
  assert.equal(assessTrend(bytes, alongside(bytes), options).rising, false);
});

test('a sawtooth of batches built and dropped is not', () => {
  const bytes = series((x) => 10 * MiB + (Math.floor(x * 10) % 2) * 30 * MiB);
  assert.equal(assessTrend(bytes, alongside(bytes), options).rising, false);
});

test('a site that grows while the whole does not (entries moving between functions) is not', () => {
  const bytes = series((x) => 10 * MiB + x * 5 * MiB);
  const flatTotal = bytes.map(() => 80 * MiB);
  assert.equal(assessTrend(bytes, quarterGrowth(flatTotal), options).rising, false);
});

test('growth within the sampling noise of a large site is not', () => {
  // A 110 MB site at 512 KiB is known within ±7.8 MB: 15 MiB of growth is not evidence.
  const coarse = { growthThresholdBytes: 2 * MiB, samplingIntervalBytes: 512 * 1024 };
  const bytes = series((x) => 100 * MiB + x * 20 * MiB);
  const verdict = assessTrend(bytes, alongside(bytes), coarse);
  assert.ok(verdict.noiseBytes > 7 * MiB);
  assert.equal(verdict.rising, false);
  assert.equal(assessTrend(bytes, alongside(bytes), options).rising, true, 'at 32 KiB it is');
});
