import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cleanReadingsConfirm } from '../../src/growth/confirmation.js';
import type { ConfirmationOptions } from '../../src/growth/confirmation.js';
import type { SiteSeries } from '../../src/growth/series.js';
import { Traceback } from '../../src/snapshot/traceback.js';

const MiB = 1024 * 1024;
const horizon: ConfirmationOptions = { horizonMs: 60_000, thresholdBytes: 4 * MiB, samplingIntervalBytes: 32 * 1024, turnoverPerMs: 0 };

function clean(points: Array<[number, number]>, totalExtra = 0): SiteSeries {
  return {
    key: 'k',
    timestamps: points.map(([t]) => t),
    bytes: points.map(([, b]) => b),
    counts: points.map(() => 0),
    totals: points.map(([, b]) => b + 100 * MiB + totalExtra),
    traceback: new Traceback([]),
  };
}

test('clean readings that rise over half the horizon confirm', () => {
  const rising = clean([[0, 10 * MiB], [10_000, 12 * MiB], [20_000, 13 * MiB], [35_000, 15 * MiB]]);
  assert.equal(cleanReadingsConfirm(rising, 36_000, horizon), true);
  assert.equal(cleanReadingsConfirm(clean([[0, 10 * MiB], [15_000, 12.5 * MiB], [35_000, 15 * MiB]]), 36_000, horizon), true, 'three are enough');
});

test('too few, too close together, or too old readings do not', () => {
  assert.equal(cleanReadingsConfirm(clean([[0, 10 * MiB], [35_000, 15 * MiB]]), 36_000, horizon), false);
  assert.equal(cleanReadingsConfirm(clean([[0, 10 * MiB], [5_000, 12 * MiB], [10_000, 13 * MiB], [20_000, 15 * MiB]]), 21_000, horizon), false);
  const rising = clean([[0, 10 * MiB], [10_000, 12 * MiB], [20_000, 13 * MiB], [35_000, 15 * MiB]]);
  assert.equal(cleanReadingsConfirm(rising, 35_000 + 60_000 / 4 + 1, horizon), false);
  assert.equal(cleanReadingsConfirm(undefined, 0, horizon), false);
});

test('a batch caught live at the end of the horizon, or a rise that is not monotone, does not', () => {
  const sawtooth = clean([[0, 0], [10_000, 30 * MiB], [20_000, 0], [35_000, 30 * MiB]]);
  assert.equal(cleanReadingsConfirm(sawtooth, 36_000, horizon), false);
});

test('a one-time step does not, even with readings that happen to increase', () => {
  const step = clean([[0, 10 * MiB], [10_000, 10.01 * MiB], [20_000, 10.02 * MiB], [35_000, 18 * MiB]]);
  assert.equal(cleanReadingsConfirm(step, 36_000, horizon), false);
});

test('growth too small for the span, or not matched by the whole, does not', () => {
  const small = clean([[0, 10 * MiB], [10_000, 10.5 * MiB], [20_000, 11 * MiB], [35_000, 11.5 * MiB]]);
  assert.equal(cleanReadingsConfirm(small, 36_000, horizon), false);
  const moving: SiteSeries = { ...clean([[0, 10 * MiB], [10_000, 12 * MiB], [20_000, 13 * MiB], [35_000, 15 * MiB]]), totals: [200 * MiB, 200 * MiB, 200 * MiB, 200 * MiB] };
  assert.equal(cleanReadingsConfirm(moving, 36_000, horizon), false);
});

test('a cache that filled and now turns over does not: its second half only wanders', () => {
  // Filled over the first half, then replaced at 1 MB/s: sampled every 32 KiB, it wanders by
  // about 0.8 MB in 20 s, and its last readings happen to rise by 0.5 MB.
  const warmed = clean([[0, 1 * MiB], [10_000, 6 * MiB], [30_000, 11.2 * MiB], [35_000, 11.5 * MiB], [50_000, 11.7 * MiB]]);
  assert.equal(cleanReadingsConfirm(warmed, 51_000, { ...horizon, thresholdBytes: 2 * MiB }), true, 'without its wander it looks like a rise');
  const turnoverPerMs = (2 * 1e6 * 32 * 1024) / 1000;
  assert.equal(cleanReadingsConfirm(warmed, 51_000, { ...horizon, thresholdBytes: 2 * MiB, turnoverPerMs }), false);
});

test('the halves are of time: readings crowded into a warm-up do not move the middle into it', () => {
  // Filled over the first 20 s, read often while it rose; then replaced at 1 MB/s and read twice,
  // rising by chance. By count, the middle reading (15 s) is inside the fill, and the "second
  // half" rises by the fill's tail; by time (27.5 s) it only wanders.
  const crowded = clean([[0, 1 * MiB], [5_000, 3 * MiB], [10_000, 5 * MiB], [15_000, 7 * MiB], [20_000, 9 * MiB], [40_000, 9.8 * MiB], [55_000, 10.6 * MiB]]);
  const turnoverPerMs = (2 * 1e6 * 32 * 1024) / 1000;
  assert.equal(cleanReadingsConfirm(crowded, 56_000, { ...horizon, thresholdBytes: 2 * MiB, turnoverPerMs }), false);
  const leak = clean([[0, 1 * MiB], [5_000, 2 * MiB], [10_000, 3 * MiB], [15_000, 4 * MiB], [20_000, 5 * MiB], [40_000, 9 * MiB], [55_000, 12 * MiB]]);
  assert.equal(cleanReadingsConfirm(leak, 56_000, { ...horizon, thresholdBytes: 2 * MiB, turnoverPerMs }), true, 'a leak read the same way is confirmed');
});
