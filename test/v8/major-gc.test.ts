import assert from 'node:assert/strict';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import type { PerformanceEntry } from 'node:perf_hooks';
import { test } from 'node:test';
import { setImmediate as turn, setTimeout as sleep } from 'node:timers/promises';
import { Session } from 'node:inspector';
import { requestFullGc } from '../../src/v8/gc-events.js';
import { majorGcSignal, MajorGcWatch, MINORS_TO_OUTLIVE, onMajorGc } from '../../src/v8/major-gc.js';
import type { SentinelVerdict } from '../../src/v8/major-gc.js';

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

/** Short-lived garbage only: young-generation collections, and (nearly always) no major GC. */
async function youngGarbage(rounds = 200): Promise<void> {
  let sink: unknown[] = [];
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < 5_000; i++) sink.push({ i, label: `garbage-${i}` });
    sink = [];
    await turn();
  }
  await sleep(50);
}

/** A full GC (the inspector's, as the monitor asks for one), and time for what follows it to arrive. */
async function fullGc(until: () => boolean): Promise<void> {
  await new Promise<void>((resolve) => requestFullGc(() => resolve()));
  for (let wait = 0; wait < 100 && !until(); wait++) await sleep(10);
}

test('onMajorGc: no call at young-generation collections, before and after its sentinel is trusted; one after each full GC; none once stopped', async () => {
  const collections = countCollections();
  const calls: number[] = [];
  const stop = onMajorGc((at) => calls.push(at));
  try {
    // While the sentinel is on test, the `gc` entries call back.
    assert.equal(majorGcSignal(), 'probing');
    await youngGarbage();
    assert.ok(collections.minors() > MINORS_TO_OUTLIVE, `${collections.minors()} minor collections: the garbage did not reach V8's young generation`);
    assert.ok(calls.length <= collections.majors(), `${calls.length} calls for ${collections.majors()} major and ${collections.minors()} minor collections`);

    let before = calls.length;
    const majorsBefore = collections.majors();
    await fullGc(() => calls.length > before && collections.majors() > majorsBefore);
    assert.ok(collections.majors() > majorsBefore, 'the full GC ran');
    assert.ok(calls.length > before, 'called back after the full GC');
    // It outlived the young-generation collections and was cleared at a major GC: trusted.
    assert.equal(majorGcSignal(), 'sentinel');

    // The sentinel alone now.
    const minorsBefore = collections.minors();
    await youngGarbage();
    assert.ok(collections.minors() > minorsBefore + 5, 'young-generation collections after the test');
    assert.ok(calls.length <= collections.majors(), `${calls.length} calls for ${collections.majors()} major and ${collections.minors()} minor collections`);
    before = calls.length;
    await fullGc(() => calls.length > before);
    assert.ok(calls.length > before, 'called back after the next full GC');
    assert.ok(calls.length <= collections.majors(), `${calls.length} calls for ${collections.majors()} major collections`);
  } finally {
    stop();
  }
  const stoppedAt = calls.length;
  await fullGc(() => false);
  assert.equal(calls.length, stoppedAt, 'no call once stopped');
  collections.stop();
});

test('onMajorGc: a sentinel that young-generation collections clear fails its test, and the gc entries call back instead', async () => {
  // An object literal is allocated young: Node 26's V8 clears such a target at young-generation
  // collections (Node 20–24 do not). Whether this V8 does is seen beside the watch, with a
  // registry of its own; either way the watch must not call back at them.
  let youngCleared = 0;
  const witness = new FinalizationRegistry<undefined>(() => {
    youngCleared++;
    witness.register({}, undefined);
  });
  witness.register({}, undefined);
  const collections = countCollections();
  const calls: number[] = [];
  const verdict: SentinelVerdict = { learned: undefined };
  const watch = new MajorGcWatch((at) => calls.push(at), () => ({}), verdict);
  try {
    await youngGarbage();
    const majorsBefore = collections.majors();
    const clearedByYoung = youngCleared > 0 && majorsBefore === 0;
    assert.ok(calls.length <= collections.majors(), `${calls.length} calls for ${collections.majors()} major and ${collections.minors()} minor collections`);
    const before = calls.length;
    await fullGc(() => calls.length > before);
    assert.ok(calls.length > before, 'called back after the full GC');
    await youngGarbage(50);
    assert.ok(calls.length <= collections.majors(), `${calls.length} calls for ${collections.majors()} major and ${collections.minors()} minor collections`);
    if (majorsBefore === 0) {
      assert.equal(verdict.learned, clearedByYoung ? 'gc-entries' : 'sentinel', `${youngCleared} young targets cleared without a major GC`);
      assert.equal(watch.signal, verdict.learned);
    }
  } finally {
    watch.stop();
    collections.stop();
  }
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
