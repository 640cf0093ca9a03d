import assert from 'node:assert/strict';
import { Session } from 'node:inspector';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import type { PerformanceEntry } from 'node:perf_hooks';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { runInNewContext } from 'node:vm';
import { Worker } from 'node:worker_threads';
import { majorGcFromTask } from '../../src/v8/exposed-gc.js';
import { requestFullGc } from '../../src/v8/gc-events.js';
import { v8MajorVersion } from '../../src/v8/v8-version.js';

// The full GC heapwatch asks for to confirm a rising site: where V8 can do it alone (Node 22 and
// later), one mark-compact from a task, not the inspector's two — which shrink the young
// generation, and whose session leaves the process with V8's memory-reducing GCs at every rest
// (BENCHMARKS §1) — and no `gc` left where the app (run here without --expose-gc) could see one.

const hasFlavor = v8MajorVersion() >= 12;

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

test('a forced GC is one mark-compact, its pause measured, and connects no inspector session', { skip: hasFlavor ? false : `V8 ${process.versions.v8}'s gc() takes no options: the inspector does it` }, async () => {
  const retained = Array.from({ length: 100_000 }, (_, i) => ({ i, items: [i, i + 1] }));
  let connects = 0;
  const connect = Session.prototype.connect;
  Session.prototype.connect = function counted(this: Session) {
    connects++;
    connect.call(this);
  };
  let pauseMs = -1;
  try {
    const majors = await majorsDuring(
      () =>
        new Promise<void>((resolve) =>
          requestFullGc((error, pause) => {
            assert.equal(error, undefined);
            pauseMs = pause.pauseMs;
            resolve();
          }),
        ),
    );
    assert.equal(majors, 1, `${majors} mark-compacts for one forced GC (the inspector's collection runs two)`);
  } finally {
    Session.prototype.connect = connect;
  }
  assert.equal(connects, 0, `${connects} inspector sessions connected for a forced GC`);
  assert.ok(pauseMs > 0, `pause ${pauseMs} ms`);
  assert.equal(retained.length, 100_000);
});

test("V8's gc() is had without giving the app, a new context or a worker one", { skip: hasFlavor ? false : `V8 ${process.versions.v8}: not used` }, async () => {
  assert.equal(typeof (globalThis as { gc?: unknown }).gc, 'undefined', 'this test runs without --expose-gc');
  const gc = majorGcFromTask();
  assert.equal(typeof gc, 'function');
  assert.equal(majorGcFromTask(), gc, 'obtained once');
  assert.equal(typeof (globalThis as { gc?: unknown }).gc, 'undefined');
  assert.equal(runInNewContext('typeof gc'), 'undefined');
  const inWorker = await new Promise((resolve, reject) => {
    const worker = new Worker("require('node:worker_threads').parentPort.postMessage(typeof gc)", { eval: true });
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  assert.equal(inWorker, 'undefined');
});

test('before V8 12 the forced GC still runs, through the inspector', { skip: hasFlavor ? `V8 ${process.versions.v8} does it alone` : false }, async () => {
  assert.equal(majorGcFromTask(), null);
  const majors = await majorsDuring(() => new Promise<void>((resolve) => requestFullGc((error) => (assert.equal(error, undefined), resolve()))));
  assert.ok(majors >= 1, `${majors} mark-compacts`);
});
