import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assessTrend, quarterFit, quarterGrowth } from '../../src/growth/trend.js';
import type { TrendOptions } from '../../src/growth/trend.js';

const MiB = 1024 * 1024;
const options: TrendOptions = { thresholdBytes: 2 * MiB, samplingIntervalBytes: 32 * 1024, turnoverPerMs: 0 };
const points = 21;
const spanMs = 20_000;
/** A series from a function of the position in the horizon (0 to 1), with a deterministic wobble, a reading per second. */
const series = (f: (x: number) => number) => {
  const timestamps = Array.from({ length: points }, (_, i) => (i * spanMs) / (points - 1));
  return { timestamps, bytes: timestamps.map((t, i) => f(t / spanMs) + ((i * 7919) % 13) * 1000) };
};
/** Totals that grow as much as the site: a process where nothing else shrinks. */
const alongside = (s: { bytes: number[]; timestamps: number[] }) => quarterGrowth({ ...s, bytes: s.bytes.map((b) => b + 50 * MiB) });

test('quarters are quarters of time, each keeping a reading even when a late timer leaves one empty', () => {
  const even = quarterFit({ bytes: [1, 2, 3, 4, 5, 6, 7, 8], timestamps: [0, 1, 2, 3, 4, 5, 6, 7] });
  assert.deepEqual(even?.medians, [1.5, 3.5, 5.5, 7.5]);
  // Thinned out with age: the first quarter of the time holds one reading, the last five.
  const thinned = quarterFit({ bytes: [0, 40, 60, 70, 75, 80, 85, 90], timestamps: [0, 40, 60, 70, 75, 80, 85, 90] });
  assert.deepEqual(thinned?.medians, [0, 40, 60, 80]);
  assert.equal(thinned?.growth, 90, 'a straight line grows by its slope times the span');
  const late = quarterFit({ bytes: [0, 1, 2, 3, 4], timestamps: [0, 100, 260, 261, 400] });
  assert.ok(late && late.medians.every(Number.isFinite));
  assert.equal(quarterFit({ bytes: [1, 2, 3], timestamps: [0, 1, 2] }), undefined);
});

test('a series that never falls is measured from the medians of its first and last three readings: the samples of its first and last eighths count', () => {
  // Three samples of 1 MiB: one in the first eighth of the span, two in the last, where the line
  // through the quarters' middles sees half of one.
  const steps = { bytes: [0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3, 3].map((b) => b * MiB), timestamps: Array.from({ length: 16 }, (_, i) => i * 10) };
  assert.equal(quarterFit(steps)?.growth, 2 * MiB, 'from the first three (median 1) to the last three (3)');
  // One spike at either end moves nothing: the ends are medians of three.
  const spiked = { ...steps, bytes: [...steps.bytes.slice(0, -1), 9 * MiB] };
  assert.equal(quarterFit(spiked)?.growth, 2 * MiB);
  // A series that falls somewhere (garbage collected, objects that died) keeps the quarters' line.
  const falls = { ...steps, bytes: steps.bytes.map((b, i) => (i === 7 ? b - 0.5 * MiB : b)) };
  assert.ok((quarterFit(falls)?.growth ?? 0) < 1.5 * MiB, String(quarterFit(falls)?.growth));
});

test('a table that filled for half the horizon in its middle, and stays, is not; the same steps over the whole horizon are', () => {
  // Objects that stay: the readings never fall, each step is new live objects (12 of 0.25 MiB).
  const steps = (from: number, to: number) => {
    const timestamps = Array.from({ length: 41 }, (_, i) => i * 500);
    return { timestamps, bytes: timestamps.map((t) => 10 * MiB + 0.25 * MiB * Math.min(12, Math.max(0, Math.floor((12 * (t / spanMs - from)) / (to - from))))) };
  };
  const table = steps(0.25, 0.75);
  const verdict = assessTrend(table, alongside(table), options);
  assert.ok((verdict?.growthBytes ?? 0) >= 2 * MiB && verdict?.stillRising, 'every other rule of a leak: it grew past the threshold, and late');
  assert.equal(verdict?.rising, false);
  const leak = steps(0, 1);
  assert.equal(assessTrend(leak, alongside(leak), options)?.rising, true);
});

test('a steady rise past the threshold is rising', () => {
  const s = series((x) => 10 * MiB + x * 5 * MiB);
  const verdict = assessTrend(s, alongside(s), options);
  assert.equal(verdict?.rising, true);
  assert.ok(Math.abs((verdict?.growthBytes ?? 0) - 5 * MiB) < 0.1 * MiB, `${verdict?.growthBytes}`);
  assert.equal(verdict?.spanMs, spanMs);
});

test('a rise under the threshold is not', () => {
  const s = series((x) => 10 * MiB + x * 1.5 * MiB);
  assert.equal(assessTrend(s, alongside(s), options)?.rising, false);
});

test('a cache that warmed up in the first half and levelled off is not', () => {
  const s = series((x) => 10 * MiB + Math.min(x, 0.45) * 12 * MiB);
  const verdict = assessTrend(s, alongside(s), options);
  assert.ok((verdict?.growthBytes ?? 0) > 2 * MiB, 'it did grow');
  assert.equal(verdict?.rising, false);
});

test('a one-time step in the first half is not (one in the second half is left to the clean readings)', () => {
  const s = series((x) => 10 * MiB + (x > 0.3 ? 8 * MiB : 0));
  assert.equal(assessTrend(s, alongside(s), options)?.rising, false);
});

test('a sawtooth of batches built and dropped is not', () => {
  const s = series((x) => 10 * MiB + (Math.floor(x * 10) % 2) * 30 * MiB);
  assert.equal(assessTrend(s, alongside(s), options)?.rising, false);
});

test('a site that grows while the whole does not (entries moving between functions) is not', () => {
  const s = series((x) => 10 * MiB + x * 5 * MiB);
  assert.equal(assessTrend(s, quarterGrowth({ ...s, bytes: s.bytes.map(() => 80 * MiB) }), options)?.rising, false);
});

test('growth inside a large steady site stands out: only new samples are its noise', () => {
  // 20 MiB of growth on 100 MiB, sampled every 512 KiB: the old rule took the whole site as noise
  // (3 × sqrt(120 MiB × 512 KiB) = 23 MiB) and missed it.
  const coarse = { ...options, samplingIntervalBytes: 512 * 1024 };
  const s = series((x) => 100 * MiB + x * 20 * MiB);
  const verdict = assessTrend(s, alongside(s), coarse);
  assert.ok(Math.abs((verdict?.noiseBytes ?? 0) - Math.sqrt(20 * MiB * 512 * 1024)) < 0.2 * MiB, `${verdict?.noiseBytes}`);
  assert.equal(verdict?.rising, true);
});

test('growth within the wander of a site whose objects turn over is not', () => {
  // A 100 MiB cache replaced at 1 MB/s sampled every 512 KiB wanders by ~4.6 MB in 20 s.
  const turnover = { ...options, samplingIntervalBytes: 512 * 1024, turnoverPerMs: 2 * 1000 * 512 * 1024 };
  const s = series((x) => 100 * MiB + x * 10 * MiB);
  const verdict = assessTrend(s, alongside(s), turnover);
  assert.ok((verdict?.noiseBytes ?? 0) > 4 * MiB, `${verdict?.noiseBytes}`);
  assert.equal(verdict?.rising, false);
  assert.equal(assessTrend(s, alongside(s), { ...turnover, turnoverPerMs: 0 })?.rising, true, 'without the turnover it is');
});

test('a cache that warmed up and now turns over is not, however its late quarters happen to move', () => {
  // Filled over the first 60 % of the horizon, then replaced at 1 MB/s, sampled every 32 KiB: its
  // quarters wander by ~0.6 MB; here the last one happens to sit 0.4 MB higher.
  const s = series((x) => (x < 0.6 ? x * 10 * MiB : 6 * MiB) + (x > 0.75 ? 0.4 * MiB : 0));
  assert.equal(assessTrend(s, alongside(s), options)?.rising, true, 'without its wander it looks like a rise');
  assert.equal(assessTrend(s, alongside(s), { ...options, turnoverPerMs: (2 * 1e6 * 32 * 1024) / 1000 })?.rising, false);
});

test('too few samples are not evidence, however few bytes the threshold asks for', () => {
  // 3 MiB at 1 MiB sampling is three samples: under the nine that three deviations need.
  const sparse = { ...options, thresholdBytes: 1 * MiB, samplingIntervalBytes: 1024 * 1024 };
  const s = series((x) => 10 * MiB + x * 3 * MiB);
  assert.equal(assessTrend(s, alongside(s), sparse)?.rising, false);
  const more = series((x) => 10 * MiB + x * 12 * MiB);
  assert.equal(assessTrend(more, alongside(more), sparse)?.rising, true);
});
