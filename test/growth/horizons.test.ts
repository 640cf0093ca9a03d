import assert from 'node:assert/strict';
import { test } from 'node:test';
import { horizonsOf } from '../../src/growth/horizons.js';

test('horizons grow by ∛2 in whole intervals from four intervals up to the window; twice the threshold below the window', () => {
  const horizons = horizonsOf(10_000, 3_600_000, 100);
  assert.deepEqual(
    horizons.map((horizon) => horizon.ms / 1000),
    [40, 50, 60, 80, 100, 130, 160, 200, 250, 320, 400, 510, 640, 810, 1020, 1280, 1610, 2030, 2560, 3230, 3600],
  );
  assert.ok(horizons.slice(0, -1).every((horizon) => horizon.thresholdBytes === 200));
  assert.deepEqual(horizons.at(-1), { ms: 3_600_000, thresholdBytes: 100 });
  assert.deepEqual(horizonsOf(1000, 4000, 100), [{ ms: 4000, thresholdBytes: 100 }], 'a window of four intervals is the only horizon');
  assert.deepEqual(
    horizonsOf(200, 4000, 100).map((horizon) => horizon.ms),
    [800, 1000, 1200, 1600, 2000, 2600, 3200, 4000],
  );
});
