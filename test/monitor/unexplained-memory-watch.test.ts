import assert from 'node:assert/strict';
import { test } from 'node:test';
import { unexplainedBytes, UnexplainedMemoryWatch } from '../../src/monitor/unexplained-memory.js';
import type { OutsideHeapFigures } from '../../src/monitor/unexplained-memory.js';

const MiB = 1024 * 1024;

/** A watch read every second over a 30 s window at 16 MiB, fed RSS the test sets (the rest fixed). */
function watchWith(warmupEndsAt = 0): { watch: UnexplainedMemoryWatch; at: (second: number, rssMiB: number) => ReturnType<UnexplainedMemoryWatch['observe']> } {
  let rssBytes = 0;
  const figures = (): OutsideHeapFigures => ({ rssBytes, heapPhysicalBytes: 10 * MiB, v8MallocedBytes: 1 * MiB, externalBytes: 4 * MiB, arrayBuffersBytes: 1 * MiB });
  const watch = new UnexplainedMemoryWatch({ intervalMs: 1000, windowMs: 30_000, windowSlots: 31, unexplainedGrowthThresholdBytes: 16 * MiB, warmupEndsAt }, figures);
  return {
    watch,
    at(second, rssMiB) {
      rssBytes = rssMiB * MiB;
      return watch.observe(second * 1000);
    },
  };
}

test('unexplained memory is RSS minus V8’s resident heap, V8’s malloc and ArrayBuffer memory — external memory no ArrayBuffer holds stays in; negative when ArrayBuffers are not all resident', () => {
  assert.equal(unexplainedBytes({ rssBytes: 100, heapPhysicalBytes: 30, v8MallocedBytes: 5, externalBytes: 20, arrayBuffersBytes: 10 }), 55);
  assert.equal(unexplainedBytes({ rssBytes: 100, heapPhysicalBytes: 30, v8MallocedBytes: 5, externalBytes: 120, arrayBuffersBytes: 110 }), -45);
});

test('a native leak of 2 MiB a second is raised once, over a horizon of 8 readings or more, and cleared once it has stopped for a window', () => {
  const { watch, at } = watchWith();
  const changes: Array<[number, string]> = [];
  let second = 0;
  for (; second <= 40; second++) {
    const change = at(second, 100 + 2 * second);
    if (change) changes.push([second, change]);
  }
  assert.equal(changes.length, 1, `one change while it grows: ${JSON.stringify(changes)}`);
  const [[raisedAt, change]] = changes as [[number, string]];
  assert.equal(change, 'raised');
  // Twice the threshold over a shorter horizon: 32 MiB at 2 MiB/s, plus the steepest eighth taken out.
  assert.ok(raisedAt >= 16 && raisedAt <= 30, `raised at ${raisedAt} s`);
  const now = watch.current();
  assert.ok(now);
  assert.equal(now.suspected, true);
  assert.equal(now.suspectedSince, raisedAt * 1000);
  assert.ok(now.horizonMs >= 8000 && now.horizonMs < 30_000, `over the horizon that raised it: ${now.horizonMs} ms`);
  assert.equal(now.growthBytes, (2 * MiB * now.horizonMs) / 1000, 'its growth over that horizon');
  assert.equal(now.unexplainedBytes, (100 + 2 * 40 - 12) * MiB);
  assert.equal(now.kind, 'native');
  assert.equal(watch.raised, 1);
  // It stops: still raised while the window holds the rise, cleared once it no longer does.
  let clearedAt: number | undefined;
  for (; second <= 100 && clearedAt === undefined; second++) if (at(second, 180) === 'cleared') clearedAt = second;
  assert.ok(clearedAt !== undefined && clearedAt > 40, `cleared at ${clearedAt} s`);
  assert.equal(watch.current()?.suspected, false);
  assert.equal(watch.lastRaisedAt, raisedAt * 1000);
});

test('nothing is raised during the warm-up; a leak present from the start is raised once it is over', () => {
  const { at } = watchWith(45_000);
  const raised: number[] = [];
  for (let second = 0; second <= 60; second++) if (at(second, 100 + 2 * second) === 'raised') raised.push(second);
  assert.deepEqual(raised, [45]);
});

test('a process at rest, a step, and swings of tens of MiB are never raised', () => {
  const { watch, at } = watchWith();
  for (let second = 0; second <= 120; second++) {
    const step = second >= 40 ? 40 : 0;
    const swing = second >= 70 ? (second % 2 === 0 ? 60 : -40) : 0;
    assert.equal(at(second, 100 + step + swing), undefined, `at ${second} s`);
  }
  assert.equal(watch.raised, 0);
});

test('before the first reading there is nothing to report; its growth is over as much of the window as was read', () => {
  const { watch, at } = watchWith();
  assert.equal(watch.current(), undefined);
  for (let second = 0; second <= 10; second++) at(second, 100);
  assert.equal(watch.current()?.horizonMs, 10_000);
  assert.equal(watch.current()?.growthBytes, 0);
});

/** A watch as {@link watchWith}'s whose ArrayBuffer memory grows too, and RSS with it, with what the sites make of it. */
function arrayBuffersWatch(): { watch: UnexplainedMemoryWatch; at: (second: number, arrayBuffersMiB: number, growthShared: boolean) => ReturnType<UnexplainedMemoryWatch['observe']> } {
  let arrayBuffersBytes = 0;
  const figures = (): OutsideHeapFigures => ({ rssBytes: 60 * MiB + arrayBuffersBytes, heapPhysicalBytes: 10 * MiB, v8MallocedBytes: 1 * MiB, externalBytes: 3 * MiB + arrayBuffersBytes, arrayBuffersBytes });
  const watch = new UnexplainedMemoryWatch({ intervalMs: 1000, windowMs: 30_000, windowSlots: 31, unexplainedGrowthThresholdBytes: 16 * MiB, warmupEndsAt: 0 }, figures);
  return {
    watch,
    at(second, arrayBuffersMiB, growthShared) {
      arrayBuffersBytes = arrayBuffersMiB * MiB;
      return watch.observe(second * 1000, { unplacedBytes: arrayBuffersBytes, growthShared });
    },
  };
}

test('ArrayBuffer memory that grows while no site’s wrappers take its growth is raised as such, and cleared as such once it stops; the native figure stays flat', () => {
  const { watch, at } = arrayBuffersWatch();
  let raisedAt: number | undefined;
  let second = 0;
  for (; second <= 40; second++) {
    const change = at(second, 5 + 2 * second, false);
    if (change === 'raised') raisedAt ??= second;
    else assert.equal(change, undefined, `at ${second} s`);
  }
  assert.ok(raisedAt !== undefined && raisedAt >= 16 && raisedAt <= 30, `raised at ${raisedAt} s`);
  const now = watch.current();
  assert.equal(now?.kind, 'arrayBuffers');
  assert.equal(now.suspected, true);
  assert.equal(now.growthBytes, (2 * MiB * now.horizonMs) / 1000, 'the ArrayBuffer memory’s growth over the horizon that raised it');
  assert.equal(now.unexplainedBytes, 49 * MiB, 'the native figure does not hold it');
  // It stops; a site’s wrappers growing now does not clear it: only its own figure settling does.
  let cleared: number | undefined;
  for (; second <= 100 && cleared === undefined; second++) if (at(second, 85, second < 50) === 'cleared') cleared = second;
  assert.ok(cleared !== undefined && cleared > 50, `cleared at ${cleared} s`);
  assert.equal(watch.current()?.kind, 'arrayBuffers', 'the cleared record is about the ArrayBuffer memory');
  assert.equal(watch.current()?.suspected, false);
  at(second, 85, false);
  assert.equal(watch.current()?.kind, 'native', 'and after it, the native figure again');
});

test('ArrayBuffer memory whose growth sites’ wrappers take is theirs: no process-level verdict', () => {
  const { watch, at } = arrayBuffersWatch();
  for (let second = 0; second <= 60; second++) assert.equal(at(second, 5 + 2 * second, true), undefined, `at ${second} s`);
  assert.equal(watch.raised, 0);
});
