import assert from 'node:assert/strict';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import type { PerformanceEntry } from 'node:perf_hooks';
import { test } from 'node:test';
import { setImmediate as turn, setTimeout as sleep } from 'node:timers/promises';
import { Session } from 'node:inspector';
import { onMajorGc, requestFullGc } from '../../src/v8/gc-events.js';

// onMajorGc() must call back after every full mark-compact and never at a young-generation
// collection: the monitor takes its clean readings there. V8's own `gc` entries are the judge.

/** Counts V8's major and minor collections from their `gc` performance entries. */
function countCollections(): { majors: () => number; minors: () => number; stop: () => void } {
  let majors = 0;
  let minors = 0;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries() as Array<PerformanceEntry & { detail?: { kind?: number } }>) {
      if (entry.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) majors++;
      else if (entry.detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) minors++;
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return { majors: () => majors, minors: () => minors, stop: () => observer.disconnect() };
}

test('onMajorGc: no call at young-generation collections, one after a full GC, none once stopped', async () => {
  const collections = countCollections();
  const calls: number[] = [];
  const stop = onMajorGc((at) => calls.push(at));
  try {
    // Short-lived garbage only: scavenges, and (nearly always) no major GC.
    let sink: unknown[] = [];
    for (let round = 0; round < 200; round++) {
      for (let i = 0; i < 5_000; i++) sink.push({ i, label: `garbage-${i}` });
      sink = [];
      await turn();
    }
    await sleep(50);
    assert.ok(collections.minors() > 5, `${collections.minors()} minor collections: the garbage did not reach V8's young generation`);
    assert.ok(calls.length <= collections.majors(), `${calls.length} calls for ${collections.majors()} major and ${collections.minors()} minor collections`);

    // A full GC (the inspector's, as the monitor asks for one): called back after it.
    const before = calls.length;
    const majorsBefore = collections.majors();
    await new Promise<void>((resolve) => requestFullGc(() => resolve()));
    // Both the callback and the `gc` entries come a turn or more after the collection.
    for (let wait = 0; wait < 100 && (calls.length === before || collections.majors() === majorsBefore); wait++) await sleep(10);
    assert.ok(collections.majors() > majorsBefore, 'the full GC ran');
    assert.ok(calls.length > before, 'called back after the full GC');
    assert.ok(calls.length <= collections.majors(), `${calls.length} calls for ${collections.majors()} major collections`);
  } finally {
    stop();
  }
  const stoppedAt = calls.length;
  await new Promise<void>((resolve) => requestFullGc(() => resolve()));
  await sleep(100);
  assert.equal(calls.length, stoppedAt, 'no call once stopped');
  collections.stop();
});

test('onMajorGc: a callback that brings a full GC itself is not called again within the same cleanup; the next GC calls it', async () => {
  const session = new Session();
  session.connect();
  // Each call leaves a marker for the event loop's next turn, and brings one more full GC at once,
  // as a reading through the inspector does (V8 collects before it answers getSamplingProfile, and
  // an in-process session answers synchronously). Called again within the same cleanup, it would
  // bring another, without end: the first 20 calls do, so that even such an implementation ends.
  session.post('HeapProfiler.startSampling');
  let calls = 0;
  let markerRan = true;
  const withinOneTurn: number[] = [];
  const stop = onMajorGc(() => {
    calls++;
    if (!markerRan) withinOneTurn.push(calls);
    markerRan = false;
    setImmediate(() => {
      markerRan = true;
    });
    if (calls < 20) session.post('HeapProfiler.getSamplingProfile');
  });
  const waitForCall = async (before: number): Promise<void> => {
    for (let wait = 0; wait < 200 && calls === before; wait++) await sleep(10);
  };
  try {
    session.post('HeapProfiler.getSamplingProfile');
    await waitForCall(0);
    await sleep(100);
    assert.ok(calls >= 1, 'called after the first full GC');
    assert.deepEqual(withinOneTurn, [], `calls that came before the event loop turned, of ${calls}`);
    // Still watching: the next full GC from elsewhere calls it.
    const before = calls;
    session.post('HeapProfiler.getSamplingProfile');
    await waitForCall(before);
    assert.ok(calls > before, 'called after the next full GC');
    assert.deepEqual(withinOneTurn, [], `calls that came before the event loop turned, of ${calls}`);
  } finally {
    stop();
    session.post('HeapProfiler.stopSampling');
    session.disconnect();
  }
});
