import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { AllocationGate } from '../../src/monitor/allocation-gate.js';
import { v8MajorVersion } from '../../src/v8/v8-version.js';
import { allocateWhile } from '../helpers.js';

const HOUR = 3_600_000;
// On V8 12 (Node 22) the gate holds nothing (see HOLDS in allocation-gate.ts).
const v8Major = v8MajorVersion();
const holds = { skip: v8Major < 13 ? `V8 ${v8Major}: the GC runs at once` : false };

test('on V8 12 (Node 22) the GC runs at once', { skip: v8Major >= 13 ? `V8 ${v8Major}: the GC waits` : false }, () => {
  let ran = false;
  new AllocationGate(() => HOUR).whenAllocating(
    () => (ran = true),
    () => assert.fail('gave up'),
  );
  assert.ok(ran);
});
test('a process that allocates gets its GC at once, without waiting out the interval', holds, async () => {
  let ran = false;
  const gate = new AllocationGate(() => HOUR);
  gate.whenAllocating(
    () => (ran = true),
    () => assert.fail('gave up while the process allocated'),
  );
  assert.ok(gate.waiting);
  await allocateWhile(() => !ran);
  assert.ok(ran, 'the GC ran while the process allocated');
  assert.equal(gate.waiting, false);
});

test('a process at rest gets no GC: the gate keeps looking until the wait is over, then gives up', holds, async () => {
  let ran = false;
  let gaveUp = false;
  const resting = new AllocationGate(() => HOUR);
  resting.whenAllocating(
    () => (ran = true),
    () => (gaveUp = true),
  );
  await sleep(1_500);
  assert.equal(ran, false, 'six looks at a process at rest: no GC');
  assert.ok(resting.waiting && !gaveUp, 'still looking');
  resting.cancel();
  assert.equal(resting.waiting, false);
  const quiet = new AllocationGate(() => 600);
  quiet.whenAllocating(
    () => (ran = true),
    () => (gaveUp = true),
  );
  for (let i = 0; i < 50 && !gaveUp; i++) await sleep(100);
  assert.ok(gaveUp, 'it gave up once the wait was over');
  assert.equal(ran, false, 'and ran no GC');
  assert.equal(quiet.waiting, false);
});

test('one GC waits at a time, and a cancelled one never runs', holds, async () => {
  let runs = 0;
  const gate = new AllocationGate(() => HOUR);
  const run = () => runs++;
  const giveUp = () => assert.fail('gave up');
  gate.whenAllocating(run, giveUp);
  gate.whenAllocating(run, giveUp);
  await allocateWhile(() => runs === 0);
  await allocateWhile(() => true, 600);
  assert.equal(runs, 1);
  gate.whenAllocating(run, giveUp);
  gate.cancel();
  await allocateWhile(() => true, 700);
  assert.equal(runs, 1);
});

test('a process that allocates a little, steadily, gets its GC when the wait is over', holds, async () => {
  let ran = false;
  const gate = new AllocationGate(() => 1_000);
  gate.whenAllocating(
    () => (ran = true),
    () => assert.fail('gave up on a process that allocated through the wait'),
  );
  // ~2 KB every 4 ms: ~400 bytes/ms, under what a look takes for a burst, over what rest allocates.
  const steady: string[][] = [];
  for (let i = 0; i < 1_000 && !ran; i++) {
    steady[0] = Array.from({ length: 48 }, (_, k) => `${i}:${k}`);
    await sleep(4);
  }
  assert.ok(ran, 'the GC ran');
});

test('one burst after a rest — a request, a scrape — does not count as allocating: V8 would count the rest before it', holds, async () => {
  let ran = false;
  const gate = new AllocationGate(() => HOUR);
  gate.whenAllocating(
    () => (ran = true),
    () => assert.fail('gave up within the hour'),
  );
  await sleep(300);
  // ~4 MB at once, seen by one look only; then five more looks at rest.
  const burst = Array.from({ length: 100_000 }, (_, i) => [i, String(i)]);
  await sleep(1_300);
  assert.ok(burst.length > 0);
  assert.equal(ran, false, 'no GC for one burst');
  assert.ok(gate.waiting, 'still looking');
  gate.cancel();
});

test('what heapwatch allocates itself, told to the gate, is not the process allocating', holds, async () => {
  let ran = false;
  const gate = new AllocationGate(() => HOUR);
  gate.whenAllocating(
    () => (ran = true),
    () => assert.fail('gave up within the hour'),
  );
  // As much as allocateWhile's process allocating, for six looks, but each time discounted.
  const kept: unknown[] = [];
  const end = Date.now() + 1_500;
  while (Date.now() < end) {
    const before = process.memoryUsage().heapUsed;
    kept[0] = Array.from({ length: 1_000 }, (_, i) => [i, String(i)]);
    gate.discount(process.memoryUsage().heapUsed - before);
    await sleep(1);
  }
  assert.equal(ran, false, "no GC for heapwatch's own allocation");
  assert.ok(gate.waiting, 'still looking');
  gate.cancel();
  // The same allocation, not discounted, opens the gate.
  gate.whenAllocating(
    () => (ran = true),
    () => assert.fail('gave up within the hour'),
  );
  await allocateWhile(() => !ran);
  assert.ok(ran, 'the GC ran while the process allocated');
});

test('a process that allocates fast through a young generation of 1 MiB gets its GC: the looks count the scavenges', holds, async () => {
  // V8 shrinks the young generation to 1 MiB at rest; a process allocating fast then scavenges
  // every few milliseconds, and a look across scavenges sees its used heap no higher. A child with
  // V8's smallest young generation, allocating as allocateWhile does.
  const gate = new URL('../../src/monitor/allocation-gate.js', import.meta.url).href;
  const child = `
    const { AllocationGate } = await import(${JSON.stringify(gate)});
    let outcome;
    new AllocationGate(() => 10_000).whenAllocating(() => (outcome = 'ran'), () => (outcome = 'gave up'));
    const kept = [];
    const end = Date.now() + 8_000;
    while (outcome === undefined && Date.now() < end) {
      kept[0] = Array.from({ length: 1_000 }, (_, i) => [i, String(i)]);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    console.log(outcome ?? 'waiting');
  `;
  const { stdout } = await promisify(execFile)(process.execPath, ['--max-semi-space-size=1', '--input-type=module', '-e', child]);
  assert.equal(stdout.trim(), 'ran');
});
