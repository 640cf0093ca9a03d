import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { SiteReader } from '../../src/monitor/site-reader.js';
import { startSampling, stopSampling } from '../../src/v8/sampler.js';

after(() => stopSampling());

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
