import assert from 'node:assert/strict';
import { test } from 'node:test';
import { growthNoiseBytes, turnoverVariancePerMs } from '../../src/growth/noise.js';

const R = 512 * 1024;

test('a steady site, or one that grows without turnover, has no turnover', () => {
  assert.equal(turnoverVariancePerMs({ bytes: [5e6, 5e6, 5e6, 5e6], timestamps: [0, 1000, 2000, 3000] }), 0);
  assert.equal(turnoverVariancePerMs({ bytes: [5e6, 6e6, 7e6, 8e6], timestamps: [0, 1000, 2000, 3000] }), 0);
  assert.equal(turnoverVariancePerMs(undefined), 0);
  assert.equal(turnoverVariancePerMs({ bytes: [1, 9], timestamps: [0, 1000] }), 0, 'two readings tell nothing of it');
});

test('a site whose samples come and go wanders by the variance of its steps per unit of time', () => {
  // Steps of ±R every second: R² per 1000 ms.
  const bytes = [10 * R, 11 * R, 10 * R, 11 * R, 10 * R, 11 * R, 10 * R];
  const perMs = turnoverVariancePerMs({ bytes, timestamps: bytes.map((_, i) => i * 1000) });
  assert.ok(Math.abs(perMs - (R * R) / 1000) / ((R * R) / 1000) < 0.2, `${perMs}`);
});

test('noise of growth: its own samples, or the turnover over the horizon, capped by the whole site', () => {
  // 9 MiB grown, sampled every 512 KiB, no turnover: 18 samples, ±sqrt(18) × R.
  assert.equal(growthNoiseBytes(9 * 2 * R, 100e6, 60_000, R, 0), Math.sqrt(18) * R);
  assert.equal(growthNoiseBytes(-5, 100e6, 60_000, R, 0), 0, 'shrinking brings no samples');
  // Turnover of R² per second over 100 s: 10 R.
  assert.equal(growthNoiseBytes(0, 100e6, 100_000, R, (R * R) / 1000), 10 * R);
  // Over a very long horizon, no more than twice the whole site's variance.
  assert.equal(growthNoiseBytes(0, 10 * R, 1e9, R, (R * R) / 1000), Math.sqrt(20) * R);
});
