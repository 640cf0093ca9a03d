import assert from 'node:assert/strict';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import type { PerformanceEntry } from 'node:perf_hooks';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { runInNewContext } from 'node:vm';
import { Worker } from 'node:worker_threads';
import { requestFullGc } from '../../src/v8/gc-events.js';
import { exposedGc } from '../../src/v8/exposed-gc.js';

// The full GC heapwatch asks for to confirm a rising site is a stop-the-world pause: it must be one
// mark-compact, not the inspector's two, and getting V8's gc() for it must leave no `gc` where the
// app (run here without --expose-gc) could see one.

/** The major collections V8 reports while `body` runs, and a little after. */
async function majorsDuring(body: () => Promise<void>): Promise<number> {
  let majors = 0;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries() as Array<PerformanceEntry & { detail?: { kind?: number } }>) {
      if (entry.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) majors++;
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  await body();
  await sleep(50);
  observer.disconnect();
  return majors;
}

test('a forced GC is one mark-compact, and its pause is measured', async () => {
  const retained = Array.from({ length: 100_000 }, (_, i) => ({ i, items: [i, i + 1] }));
  let pauseMs = -1;
  const majors = await majorsDuring(
    () => new Promise<void>((resolve) => requestFullGc((error, pause) => {
      assert.equal(error, undefined);
      pauseMs = pause.pauseMs;
      resolve();
    })),
  );
  assert.equal(majors, 1, `${majors} mark-compacts for one forced GC`);
  assert.ok(pauseMs > 0, `pause ${pauseMs} ms`);
  assert.equal(retained.length, 100_000);
});

test("V8's gc() is had without giving the app, a new context or a worker one", async () => {
  assert.equal(typeof (globalThis as { gc?: unknown }).gc, 'undefined', 'this test runs without --expose-gc');
  const gc = exposedGc();
  assert.equal(typeof gc, 'function');
  assert.equal(exposedGc(), gc, 'obtained once');
  assert.equal(typeof (globalThis as { gc?: unknown }).gc, 'undefined');
  assert.equal(runInNewContext('typeof gc'), 'undefined');
  const inWorker = await new Promise((resolve, reject) => {
    const worker = new Worker("require('node:worker_threads').parentPort.postMessage(typeof gc)", { eval: true });
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  assert.equal(inWorker, 'undefined');
  assert.equal(await majorsDuring(async () => gc?.()), 1);
});
