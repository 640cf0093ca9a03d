import assert from 'node:assert/strict';
import { test } from 'node:test';
import { growthNoiseBytes, turnoverVariancePerMs, wanderBytes } from '../../src/growth/noise.js';

const R = 512 * 1024;
const every = (bytes: number[], ms = 1000) => ({ bytes, timestamps: bytes.map((_, i) => i * ms) });

test('a steady site, or one that only grows (a leak whose objects never die), has no turnover', () => {
  assert.equal(turnoverVariancePerMs(every([5e6, 5e6, 5e6, 5e6])), 0);
  assert.equal(turnoverVariancePerMs(every([5e6, 6e6, 6e6, 8e6])), 0);
  assert.equal(turnoverVariancePerMs(undefined), 0);
  assert.equal(turnoverVariancePerMs(every([9, 1])), 0, 'two readings tell nothing of it');
});

test('a site whose samples come and go wanders by its falling steps, twice, per unit of time', () => {
  // Steps of ±R every second: R² per 1000 ms, the rising ones mirrored by the falling ones.
  const perMs = turnoverVariancePerMs(every([10 * R, 11 * R, 10 * R, 11 * R, 10 * R, 11 * R, 10 * R]));
  assert.equal(perMs, (2 * 3 * R * R) / 6000);
  // The same wander on top of a rise: the rise brings no falling step.
  const rising = turnoverVariancePerMs(every([10 * R, 13 * R, 12 * R, 15 * R, 14 * R, 17 * R, 16 * R]));
  assert.equal(rising, perMs);
});

test('the wander grows with time up to twice the site\'s whole variance', () => {
  assert.equal(wanderBytes(100e6, 100_000, R, (R * R) / 1000), 10 * R);
  assert.equal(wanderBytes(10 * R, 1e9, R, (R * R) / 1000), Math.sqrt(20) * R);
  assert.equal(wanderBytes(10 * R, 1e9, R, 0), 0, 'no turnover, no wander');
});

test('noise of growth: its own samples and the wander over the horizon', () => {
  // 9 MiB grown, sampled every 512 KiB, no turnover: 18 samples, ±sqrt(18) × R.
  assert.equal(growthNoiseBytes(9 * 2 * R, 100e6, 60_000, R, 0), Math.sqrt(18) * R);
  assert.equal(growthNoiseBytes(-5, 100e6, 60_000, R, 0), 0, 'shrinking brings no samples');
  assert.equal(growthNoiseBytes(0, 100e6, 100_000, R, (R * R) / 1000), 10 * R);
  assert.equal(growthNoiseBytes(36 * R, 100e6, 64_000, R, (R * R) / 1000), 10 * R);
});
