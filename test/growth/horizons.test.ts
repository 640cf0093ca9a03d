import assert from 'node:assert/strict';
import { test } from 'node:test';
import { horizonsOf } from '../../src/growth/horizons.js';

test('horizons double from four intervals up to the window; twice the threshold below the window', () => {
  assert.deepEqual(horizonsOf(10_000, 3_600_000, 100), [
    { ms: 40_000, thresholdBytes: 200 },
    { ms: 80_000, thresholdBytes: 200 },
    { ms: 160_000, thresholdBytes: 200 },
    { ms: 320_000, thresholdBytes: 200 },
    { ms: 640_000, thresholdBytes: 200 },
    { ms: 1_280_000, thresholdBytes: 200 },
    { ms: 2_560_000, thresholdBytes: 200 },
    { ms: 3_600_000, thresholdBytes: 100 },
  ]);
  assert.deepEqual(horizonsOf(1000, 4000, 100), [{ ms: 4000, thresholdBytes: 100 }], 'a window of four intervals is the only horizon');
});
