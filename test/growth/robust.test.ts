import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mannKendallIncreasingP, median, normalUpperTail } from '../../src/growth/robust.js';

test('median of odd and even lists, unmoved by one spike', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([1, 1, 1_000_000, 1, 1]), 1);
});

test('the normal upper tail matches the textbook quantiles', () => {
  assert.ok(Math.abs(normalUpperTail(0) - 0.5) < 1e-7);
  assert.ok(Math.abs(normalUpperTail(1.6449) - 0.05) < 1e-4);
  assert.ok(Math.abs(normalUpperTail(2.3263) - 0.01) < 1e-4);
  assert.ok(Math.abs(normalUpperTail(-1.6449) - 0.95) < 1e-4);
});

test('Mann–Kendall finds a monotone rise, and no trend in flat, falling or sawtooth series', () => {
  const rising = Array.from({ length: 12 }, (_, i) => i * 100 + (i % 2) * 30);
  assert.ok(mannKendallIncreasingP(rising) < 0.001);
  assert.equal(mannKendallIncreasingP(Array(12).fill(5)), 1);
  assert.equal(mannKendallIncreasingP([...rising].reverse()), 1);
  const sawtooth = Array.from({ length: 21 }, (_, i) => (i % 5) * 10);
  assert.ok(mannKendallIncreasingP(sawtooth) > 0.1);
  // Exactly n=4, all pairs rising: S = 6, p ≈ 0.045.
  assert.ok(Math.abs(mannKendallIncreasingP([1, 2, 3, 4]) - 0.0446) < 0.002);
});
