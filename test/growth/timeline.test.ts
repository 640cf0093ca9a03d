import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReadingTimeline } from '../../src/growth/timeline.js';

/** The timeline's readings, oldest first. */
const timesOf = (timeline: ReadingTimeline, since?: number) => timeline.slotsSince(since).map((slot) => timeline.timeOf(slot));

test('keeps every reading of the span while they fit, and one at or before its start', () => {
  const timeline = new ReadingTimeline(5, 40);
  for (let t = 0; t <= 100; t += 10) timeline.add(t);
  assert.deepEqual(timesOf(timeline), [60, 70, 80, 90, 100]);
  assert.deepEqual(timesOf(timeline, 75), [80, 90, 100]);
  assert.equal(timeline.latestTimestamp, 100);
  // Late timers: the reading just before the span's start stays, so the span is covered.
  const late = new ReadingTimeline(5, 40);
  for (const t of [0, 11, 22, 33, 44, 55]) late.add(t);
  assert.deepEqual(timesOf(late), [11, 22, 33, 44, 55]);
});

test('reuses the slots of readings that left, so a site\'s values are written in place', () => {
  const timeline = new ReadingTimeline(3, 20);
  const slots = [0, 10, 20, 30, 40].map((t) => timeline.add(t));
  assert.equal(new Set(slots).size, 3);
  assert.equal(slots[3], slots[0]);
  assert.equal(timeline.size, 3);
});

test('beyond its slots, thins out older readings: gaps grow with age, recent readings stay dense', () => {
  // An hour read every 10 s (361 readings) in 121 slots.
  const timeline = new ReadingTimeline(121, 3_600_000);
  let now = 0;
  for (let i = 0; i < 2000; i++) timeline.add((now += 10_000));
  const times = timesOf(timeline);
  assert.equal(times.length, 121);
  assert.ok(now - (times[0] as number) >= 3_600_000, 'the whole span is covered');
  const gaps = times.slice(1).map((t, i) => t - (times[i] as number));
  assert.ok(gaps.slice(-40).every((gap) => gap === 10_000), 'the last 40 readings are all there');
  for (let i = 1; i < gaps.length; i++) assert.ok((gaps[i] as number) <= (gaps[i - 1] as number), 'gaps never grow towards the present');
  // Each doubling of the horizon keeps readings enough to judge it.
  for (const horizonMs of [40_000, 80_000, 160_000, 320_000, 640_000, 1_280_000, 2_560_000, 3_600_000]) {
    const inHorizon = times.filter((t) => t >= now - horizonMs).length;
    assert.ok(inHorizon >= Math.min(horizonMs / 10_000, 16), `${inHorizon} readings in ${horizonMs / 1000} s`);
  }
});
