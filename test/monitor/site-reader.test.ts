import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { SiteReader } from '../../src/monitor/site-reader.js';
import { usedHeapBytes } from '../../src/v8/gc-events.js';
import { startSampling, stopSampling } from '../../src/v8/sampler.js';

afterEach(() => stopSampling());

const kept: unknown[] = [];
function keepOrders(n: number): void {
  for (let i = 0; i < n; i++) kept.push({ id: i, lines: new Array(16).fill(i) });
}

test("a tick finds the service sampled only when its samples changed, not when V8 sampled heapwatch's own reading", () => {
  // At 4 KiB V8 samples heapwatch's own garbage at every read (the profile it reads, its sums):
  // V8's handles change from one tick to the next, and a process at rest read that as allocating
  // (at rest after a load on Node 22, a full GC asked for 47 s into the rest, in every process).
  startSampling({ samplingIntervalBytes: 4096 });
  keepOrders(5000);
  const reader = new SiteReader([], () => false);
  reader.readAtTick();
  // One synchronous run of ticks: nothing of the service's allocated, nothing collected between.
  let read = 0;
  let sampled = 0;
  for (let tick = 0; tick < 30; tick++) {
    reader.readAtTick();
    if (reader.readAtLastTick) read++;
    if (reader.sampledAtTick) sampled++;
  }
  assert.ok(read >= 3, `V8's sampler changed at ${read} of 30 ticks: heapwatch's own readings were sampled`);
  assert.ok(sampled <= 1, `the service counted as sampled at ${sampled} of the ${read} ticks that read V8's sampler, at rest`);
  // The service allocating again is seen at the next tick.
  keepOrders(5000);
  reader.readAtTick();
  assert.equal(reader.sampledAtTick, true);
});

test("what a tick allocates after its reading does not make the next tick read V8's sampler again", () => {
  // A tick goes on after its reading (sums, judgement, records): V8 samples that too, about once a
  // tick at 512 KiB. Compared with the handles right after the reading, the next tick found them
  // changed and read again, and so on at most ticks of a process at rest; compared with the handles
  // as the tick left them (`endTick`), it finds them as they were.
  // At 128 KiB: the ~8 MB allocated surely sampled, the few hundred bytes of a `getHeapStatistics()`
  // (the handles' read) about once in 300.
  startSampling({ samplingIntervalBytes: 128 * 1024 });
  for (const endTick of [false, true]) {
    // A GC during the allocation frees samples (their handles go a task later): tried again then.
    let judged = false;
    for (let attempt = 0; attempt < 5 && !judged; attempt++) {
      const reader = new SiteReader([], () => false);
      reader.readAtTick();
      assert.equal(reader.readAtLastTick, true);
      const before = usedHeapBytes();
      keepOrders(40_000); // ~8 MB after the reading: dozens of samples
      if (endTick) reader.endTick();
      if (usedHeapBytes() < before) continue;
      reader.readAtTick();
      assert.equal(reader.readAtLastTick, !endTick, endTick ? 'the tick after repeats the reading' : 'without endTick the tick after reads again');
      judged = true;
    }
    assert.ok(judged, 'a GC ran during each of five attempts');
  }
});
