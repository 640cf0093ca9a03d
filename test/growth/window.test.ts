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

test('keeps the last `capacity` readings per site, oldest first, with their totals', () => {
  const window = new GrowthWindow(3, 10);
  for (let i = 1; i <= 5; i++) window.push(i * 100, sites(stat('a', i * 10)), i * 1000, never);
  const series = window.series('a');
  assert.deepEqual(series?.bytes, [30, 40, 50]);
  assert.deepEqual(series?.counts, [3, 4, 5]);
  assert.deepEqual(series?.timestamps, [300, 400, 500]);
  assert.deepEqual(series?.totals, [3000, 4000, 5000]);
  assert.deepEqual(window.series('a', 400)?.bytes, [40, 50]);
  assert.equal(window.latestTimestamp, 500);
});

test('a site is judged only once tracked for a whole window; missing readings count 0', () => {
  const window = new GrowthWindow(3, 10);
  window.push(1, sites(stat('a', 10)), 10, never);
  window.push(2, sites(stat('a', 10), stat('b', 5)), 15, never);
  window.push(3, sites(stat('a', 10)), 10, never);
  assert.equal(window.isFull('a'), true);
  assert.equal(window.isFull('b'), false);
  assert.deepEqual(window.series('b')?.bytes, [5, 0]);
});

test('caps the sites tracked, keeping the largest and every protected one', () => {
  const window = new GrowthWindow(4, 2);
  window.push(1, sites(stat('big', 100), stat('mid', 50), stat('small', 10)), 160, never);
  assert.deepEqual([...window.keys()].sort(), ['big', 'mid']);
  assert.equal(window.droppedSites, 1);
  // A larger newcomer evicts the smallest unprotected site; a protected one stays.
  window.push(2, sites(stat('huge', 500), stat('big', 100), stat('mid', 50)), 650, (key) => key === 'mid');
  assert.deepEqual([...window.keys()].sort(), ['huge', 'mid']);
  assert.equal(window.droppedSites, 1, 'big is left out of this reading');
});

test('forgets a site that held nothing for a whole window', () => {
  const window = new GrowthWindow(2, 10);
  window.push(1, sites(stat('gone', 10)), 10, never);
  window.push(2, sites(), 0, never);
  window.push(3, sites(), 0, never);
  assert.equal(window.series('gone'), undefined);
});
