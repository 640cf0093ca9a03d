import assert from 'node:assert/strict';
import { test } from 'node:test';
import { countFitsInterval, countFitsIntervalPerSample, inferIntervalFromSampleSizes, inferSamplingInterval, profileMatchesInterval, scaleSampleCount } from '../../src/v8/interval-check.js';
import { recordedInspector, recordedNative } from '../helpers.js';

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

test('infers the interval of a real profile from its counts, among every power of two from 1 KiB to 16 MiB', () => {
  for (const name of ['before', 'after'] as const) {
    const { root, samplingIntervalBytes } = recordedNative(name);
    assert.equal(inferSamplingInterval(root), samplingIntervalBytes, name);
  }
});

test('infers an interval from counts V8 would give at it, and none from too few buckets', () => {
  for (const interval of [32768, 131072, 524288, 1048576]) {
    const allocations = [16, 24, 32, 40, 48, 56, 64, 88, 136, 200].map((sizeBytes, i) => ({ sizeBytes, count: scaleSampleCount(1 + (i % 3), sizeBytes, interval) }));
    const root = { name: '(root)', scriptName: '', lineNumber: 0, columnNumber: 0, allocations, children: [] };
    assert.equal(inferSamplingInterval(root), interval, `${interval}`);
    assert.equal(inferSamplingInterval({ ...root, allocations: allocations.slice(0, 3) }), undefined, 'three buckets are not enough');
  }
});

test("infers the interval of a real inspector profile from its samples' sizes", () => {
  const { profile, samplingIntervalBytes } = recordedInspector('after');
  assert.equal(inferIntervalFromSampleSizes(profile.samples.map((sample) => sample.size)), samplingIntervalBytes);
  assert.equal(inferIntervalFromSampleSizes([524300, 524320, 600000, 1048600, 524296, 530000, 700000, 524400]), 524288);
  assert.equal(inferIntervalFromSampleSizes([524300, 524320]), undefined, 'two samples are not enough');
});

test('in allocation mode (Node 26) a count is a whole number of rounded per-sample scales, and an interval is told by that', () => {
  // Recorded on Node 26.12.1 at 4096: 24 live samples of 48-byte objects counted 2064 (24 × 86),
  // where V8's own scaling of the sum gives 2060.
  assert.ok(countFitsIntervalPerSample(2064, 48, 4096));
  assert.ok(!countFitsInterval(2064, 48, 4096));
  assert.ok(!countFitsIntervalPerSample(2060, 48, 4096));
  const allocation = (size: number, samples: number, interval: number) => {
    const count = samples * Math.floor(1 / (1 - Math.exp(-size / interval)) + 0.5);
    return { sizeBytes: size, count, allocatedCount: count * 3 };
  };
  const root = (interval: number) => ({
    name: '(root)', scriptName: '', lineNumber: 0, columnNumber: 0, allocations: [],
    children: [{ name: 'f', scriptName: '/app/f.js', lineNumber: 1, columnNumber: 1, children: [],
      allocations: [16, 24, 40, 56, 88, 136, 200, 312, 504].map((size, i) => allocation(size, i * 2 + 3, interval)) }],
  });
  assert.ok(profileMatchesInterval(root(4096), 4096));
  assert.ok(!profileMatchesInterval(root(32768), 4096));
  assert.equal(inferSamplingInterval(root(4096), 4096), 4096);
});
