import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { AllocationGate } from '../../src/monitor/allocation-gate.js';

const HOUR = 3_600_000;
/** What the allocation keeps for a moment, so that no compiler drops it. */
const kept: unknown[][] = [];
/** Allocates ~40 MB/s of short-lived arrays, between turns of the event loop, until `stop()` says so. */
async function allocateUntil(stop: () => boolean, limitMs = 20_000): Promise<void> {
  const end = Date.now() + limitMs;
  while (!stop() && Date.now() < end) {
    kept[0] = Array.from({ length: 1_000 }, (_, i) => [i, String(i)]);
    await sleep(1);
  }
  kept.length = 0;
}

test('a process that allocates gets its GC at once, without waiting out the interval', async () => {
  let ran = false;
  const gate = new AllocationGate(() => HOUR);
  gate.whenAllocating(() => (ran = true));
  assert.ok(gate.waiting);
  await allocateUntil(() => ran);
  assert.ok(ran, 'the GC ran while the process allocated');
  assert.equal(gate.waiting, false);
});

test('a process at rest gets no GC until the interval is over, then gets it', async () => {
  let ran = false;
  const resting = new AllocationGate(() => HOUR);
  resting.whenAllocating(() => (ran = true));
  await sleep(1_500);
  assert.equal(ran, false, 'six looks at a process at rest: no GC');
  resting.cancel();
  assert.equal(resting.waiting, false);
  const quiet = new AllocationGate(() => 600);
  quiet.whenAllocating(() => (ran = true));
  for (let i = 0; i < 50 && !ran; i++) await sleep(100);
  assert.ok(ran, 'the GC ran once the wait was over');
});

test('one GC waits at a time, and a cancelled one never runs', async () => {
  let runs = 0;
  const gate = new AllocationGate(() => 300);
  gate.whenAllocating(() => runs++);
  gate.whenAllocating(() => runs++);
  for (let i = 0; i < 50 && runs === 0; i++) await sleep(100);
  await sleep(600);
  assert.equal(runs, 1);
  gate.whenAllocating(() => runs++);
  gate.cancel();
  await sleep(700);
  assert.equal(runs, 1);
});
