import assert from 'node:assert/strict';
import { test } from 'node:test';
import { countFitsInterval, profileMatchesInterval, scaleSampleCount } from '../../src/v8/interval-check.js';
import { recordedNative } from '../helpers.js';

test('scales a sample count the way V8 does', () => {
  // From a real native read at 4096: 116 samples of 24-byte objects were reported as 19855.
  assert.equal(scaleSampleCount(116, 24, 4096), 19855);
  // Objects much larger than the interval are always sampled: no scaling.
  assert.equal(scaleSampleCount(3, 1024 * 1024, 4096), 3);
});

test('tells a count scaled at our interval from one scaled at another', () => {
  for (const size of [16, 24, 40, 56, 88, 136]) {
    for (const samples of [1, 2, 7, 30]) {
      assert.ok(countFitsInterval(scaleSampleCount(samples, size, 524288), size, 524288), `${samples}×${size}`);
      assert.ok(!countFitsInterval(scaleSampleCount(samples, size, 32768), size, 524288), `${samples}×${size} at 32 KiB`);
      assert.ok(!countFitsInterval(scaleSampleCount(samples, size, 524288), size, 32768), `${samples}×${size} at 512 KiB`);
    }
  }
});

test('accepts a real profile at the interval it was recorded with and rejects it at others', () => {
  const { root, samplingIntervalBytes } = recordedNative('after');
  assert.equal(profileMatchesInterval(root, samplingIntervalBytes), true);
  assert.equal(profileMatchesInterval(root, samplingIntervalBytes * 8), false);
  assert.equal(profileMatchesInterval(root, samplingIntervalBytes / 8), false);
});
