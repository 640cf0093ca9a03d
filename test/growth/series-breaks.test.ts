import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GrowthWindow } from '../../src/growth/window.js';
import { SeriesBreaks } from '../../src/growth/series-breaks.js';
import type { SiteReading } from '../../src/snapshot/site-aggregator.js';
import { Traceback } from '../../src/snapshot/traceback.js';

const stat = (name: string, size: number): SiteReading => ({
  key: name,
  size,
  count: size / 10,
  traceback: new Traceback([{ functionName: name, file: '/app/a.js', line: 1, column: 1 }]),
});
const sites = (...readings: SiteReading[]) => new Map(readings.map((reading) => [reading.key, reading]));

/** Pushes readings of sites (name → bytes at each step) into the windows through the breaks, one per epoch given. */
function feed(breaks: SeriesBreaks, windows: GrowthWindow[], from: number, epoch: number, steps: Array<Record<string, number>>): void {
  steps.forEach((step, i) => {
    const timestamp = from + i * 100;
    breaks.observe(epoch, timestamp, 1);
    const readings = sites(...Object.entries(step).map(([name, bytes]) => stat(name, bytes)));
    for (const window of windows) window.push(timestamp, readings, 0, () => false);
    breaks.settle(timestamp);
  });
}

test('a start-over of the sampler starts every series anew; a steady site is not judged until it is back at its level, a rising one at once', () => {
  const ticks = new GrowthWindow(64, 10, 60_000);
  const clean = new GrowthWindow(64, 10, 60_000);
  const breaks = new SeriesBreaks([ticks, clean], 100, (key) => key === 'suspect');
  const before = Array.from({ length: 8 }, (_, i) => ({ cache: 1_000, leak: 200 * i, suspect: 300 * i }));
  feed(breaks, [ticks, clean], 0, 0, before);
  assert.equal(breaks.count, 0);
  // The sampler started over: every site shows what it allocated since, and refills.
  feed(breaks, [ticks, clean], 800, 1, [{ cache: 100, leak: 150, suspect: 100 }]);
  assert.equal(breaks.count, 1);
  assert.equal(breaks.lastBreakAt, 800);
  for (const window of [ticks, clean]) assert.deepEqual(window.bytesOf('cache')?.bytes, [100]);
  assert.deepEqual(ticks.totalsSeries().timestamps, [800]);
  assert.ok(breaks.isRefilling('cache'), 'the steady cache refills');
  assert.ok(!breaks.isRefilling('leak'), 'the rising site is judged from the break');
  assert.ok(!breaks.isRefilling('suspect'), 'a suspect stays one');
  feed(breaks, [ticks, clean], 900, 1, [{ cache: 600, leak: 350 }, { cache: 1_010, leak: 550 }, { cache: 1_000, leak: 750 }]);
  assert.ok(!breaks.isRefilling('cache'));
  // Back at its level: its series starts there, without the refill.
  assert.deepEqual(ticks.bytesOf('cache')?.bytes, [1_010, 1_000]);
  assert.deepEqual(clean.bytesOf('cache')?.bytes, [1_010, 1_000]);
  assert.deepEqual(ticks.bytesOf('leak')?.bytes, [150, 350, 550, 750]);
  // The same epoch again is no break.
  feed(breaks, [ticks, clean], 1_200, 1, [{ cache: 1_000, leak: 950 }]);
  assert.equal(breaks.count, 1);
});
