import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GrowthWindow } from '../../src/growth/window.js';
import type { SiteReading } from '../../src/snapshot/site-aggregator.js';
import { Traceback } from '../../src/snapshot/traceback.js';

const stat = (name: string, size: number): SiteReading => ({
  key: name,
  size,
  count: size / 10,
  traceback: new Traceback([{ functionName: name, file: '/app/a.js', line: 1, column: 1 }]),
});
const sites = (...readings: SiteReading[]) => new Map(readings.map((reading) => [reading.key, reading]));
const never = () => false;

test('keeps the readings of the last span, oldest first, with their totals', () => {
  const window = new GrowthWindow(3, 10, 200);
  for (let i = 1; i <= 5; i++) window.push(i * 100, sites(stat('a', i * 10)), i * 1000, never);
  const series = window.series('a');
  assert.deepEqual(series?.bytes, [30, 40, 50]);
  assert.deepEqual(series?.counts, [3, 4, 5]);
  assert.deepEqual(series?.timestamps, [300, 400, 500]);
  assert.deepEqual(series?.totals, [3000, 4000, 5000]);
  assert.deepEqual(window.series('a', 400)?.bytes, [40, 50]);
  assert.deepEqual(window.bytesOf('a', 400), { bytes: [40, 50], timestamps: [400, 500] });
  assert.deepEqual(window.totalsSeries(400), { bytes: [4000, 5000], timestamps: [400, 500] });
  assert.equal(window.latestTimestamp, 500);
  assert.equal(window.latestBytesOf('a'), 50);
  assert.equal(window.rangeOf('a'), 20);
});

test('a site has readings only from when it was first tracked; missing readings count 0', () => {
  const window = new GrowthWindow(3, 10, 200);
  window.push(1, sites(stat('a', 10)), 10, never);
  window.push(2, sites(stat('a', 10), stat('b', 5)), 15, never);
  window.push(3, sites(stat('a', 10)), 10, never);
  assert.equal(window.trackedSince('a'), 1);
  assert.equal(window.trackedSince('b'), 2);
  assert.equal(window.trackedSince('c'), undefined);
  assert.deepEqual(window.series('b')?.bytes, [5, 0]);
});

test('keeps estimates as 32-bit floats: within 64 bytes at 1 GB', () => {
  const window = new GrowthWindow(3, 10, 200);
  window.push(1, sites(stat('big', 1_000_000_037)), 1_000_000_037, never);
  assert.ok(Math.abs(window.latestBytesOf('big') - 1_000_000_037) <= 64);
  assert.equal(window.totalsSeries().bytes[0], 1_000_000_037, 'totals are kept exactly');
});

test('caps the sites tracked, keeping the largest and every protected one', () => {
  const window = new GrowthWindow(4, 2, 400);
  window.push(1, sites(stat('big', 100), stat('mid', 50), stat('small', 10)), 160, never);
  assert.deepEqual([...window.keys()].sort(), ['big', 'mid']);
  assert.equal(window.droppedSites, 1);
  // A larger newcomer evicts the smallest unprotected site; a protected one stays.
  window.push(2, sites(stat('huge', 500), stat('big', 100), stat('mid', 50)), 650, (key) => key === 'mid');
  assert.deepEqual([...window.keys()].sort(), ['huge', 'mid']);
  assert.equal(window.droppedSites, 1, 'big is left out of this reading');
});

test('forgets a site that held nothing for a whole span', () => {
  const window = new GrowthWindow(3, 10, 2);
  window.push(1, sites(stat('gone', 10)), 10, never);
  window.push(2, sites(), 0, never);
  assert.ok(window.series('gone'));
  window.push(3, sites(), 0, never);
  assert.equal(window.series('gone'), undefined);
});
