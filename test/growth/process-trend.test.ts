import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assessProcessTrend, wanderPerMs, withoutSteepestStretch } from '../../src/growth/process-trend.js';
import type { BytesSeries } from '../../src/growth/series.js';

const MiB = 1024 * 1024;

/** A series read once a second, from values in MiB. */
function seconds(valuesMiB: readonly number[]): BytesSeries {
  return { bytes: valuesMiB.map((value) => value * MiB), timestamps: valuesMiB.map((_, i) => i * 1000) };
}

/** A steady rise of `perSecondMiB` from 50 MiB over `count` readings. */
const ramp = (count: number, perSecondMiB: number): number[] => Array.from({ length: count }, (_, i) => 50 + i * perSecondMiB);

test('a steady rise past the threshold is rising; the same rise under it is not', () => {
  const series = seconds(ramp(31, 2));
  const rising = assessProcessTrend(series, 16 * MiB, wanderPerMs(series));
  assert.ok(rising);
  assert.equal(rising.growthBytes, 60 * MiB);
  assert.equal(rising.spanMs, 30_000);
  assert.equal(rising.noiseBytes, 0, 'a series that never falls has no wander');
  assert.equal(rising.rising, true);
  assert.equal(assessProcessTrend(series, 64 * MiB, 0)?.rising, false, 'under a threshold of 64 MiB');
});

test('one step is not a trend: a native cache filled at once, V8 keeping the pages of a heap that shrank', () => {
  // 40 MiB in one second, in the middle of the horizon, then flat.
  const step = seconds([...Array<number>(15).fill(46), ...Array<number>(16).fill(86)]);
  assert.equal(assessProcessTrend(step, 16 * MiB, wanderPerMs(step))?.rising, false);
  // The same step at the end of the horizon: the late quarters rise, but the steepest stretch is all of it.
  const late = seconds([...Array<number>(27).fill(46), 66, 86, 86, 86]);
  assert.equal(assessProcessTrend(late, 16 * MiB, wanderPerMs(late))?.rising, false);
  // Node 26 after a heap of 240 MiB was dropped: +166 MiB in one reading, slowly given back.
  const kept = seconds([...Array<number>(20).fill(59), 225, 225, 225, 223, 219, 216, 223, 219, 215, 211, 208]);
  assert.equal(assessProcessTrend(kept, 16 * MiB, wanderPerMs(kept))?.rising, false);
});

test('a rise no larger than the series swings is not rising: the wander is measured on the whole window', () => {
  // Large Buffers made and dropped: ±60 MiB from one reading to the next, with a drift of 1 MiB a second.
  const swings = ramp(31, 1).map((value, i) => value + (i % 2 === 0 ? 60 : -60));
  const series = seconds(swings);
  const perMs = wanderPerMs(series);
  assert.ok(Math.sqrt(perMs * 30_000) > 100 * MiB, 'a wander of more than 100 MiB over the window');
  assert.equal(assessProcessTrend(series, 16 * MiB, perMs)?.rising, false);
  // Judged on its own quiet tail, the drift alone would pass; the window's wander holds it back.
  const tail = seconds(ramp(31, 1));
  assert.equal(assessProcessTrend(tail, 16 * MiB, wanderPerMs(tail))?.rising, true);
  assert.equal(assessProcessTrend(tail, 16 * MiB, perMs)?.rising, false);
});

test('a warm-up that stopped is not rising: its late quarters are flat', () => {
  const warmup = seconds([...ramp(12, 5), ...Array<number>(19).fill(105)]);
  const assessment = assessProcessTrend(warmup, 16 * MiB, wanderPerMs(warmup));
  assert.ok(assessment && assessment.growthBytes >= 16 * MiB, 'it grew past the threshold');
  assert.equal(assessment.rising, false);
});

test('withoutSteepestStretch flattens the run of an eighth of the steps that rose most, and lowers what follows by it', () => {
  // 16 steps: the steepest run of 2 is +30 then +10 (readings 4 to 6).
  const series = seconds([0, 1, 2, 3, 33, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54]);
  assert.deepEqual(withoutSteepestStretch(series).bytes.map((bytes) => bytes / MiB), [0, 1, 2, 3, 3, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
  // Nothing rises: nothing is taken out.
  const falling = seconds([5, 4, 3, 2, 1]);
  assert.deepEqual(withoutSteepestStretch(falling).bytes, falling.bytes);
});

test('wanderPerMs is twice the falling steps squared over the time they cover', () => {
  assert.equal(wanderPerMs(seconds([10, 8, 9, 12])), (2 * (2 * MiB) ** 2) / 3000);
  assert.equal(wanderPerMs(seconds([1, 2, 3])), 0);
  assert.equal(wanderPerMs(seconds([1])), 0);
});
