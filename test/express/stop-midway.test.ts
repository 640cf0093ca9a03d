import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import express from 'express';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { heapwatch, isSampling } from '../../src/index.js';
import type { HeapwatchMiddleware, ReadingTiming } from '../../src/index.js';
import { listen, nextReadings } from '../helpers.js';
import { keepRequesting } from '../load.js';

const uncaught: unknown[] = [];
process.on('uncaughtException', (error) => uncaught.push(error));

/** Whether the stopped monitor stays quiet: no reading for ten intervals. */
async function staysStopped(watch: HeapwatchMiddleware, intervalMs: number): Promise<void> {
  let readings = 0;
  const count = (): number => readings++;
  watch.monitor.on('reading', count);
  await sleep(10 * intervalMs);
  watch.monitor.off('reading', count);
  assert.equal(readings, 0, 'no reading after stop()');
  assert.equal(watch.monitor.running, false);
  assert.equal(isSampling(), false, "V8's sampler is stopped");
}

/** A new heapwatch() in the same process reads again. */
async function startsAgain(): Promise<void> {
  const again = heapwatch({ logger: false, intervalMs: 100, windowMs: 2000, registry: new Registry() });
  try {
    const [timing] = await nextReadings<ReadingTiming>(again.monitor, 2);
    assert.equal(timing?.failed, false, 'a new heapwatch() reads again');
  } finally {
    again.stop();
  }
}

test("stop() from a 'reading' listener, in the middle of a tick, and stop() twice: heapwatch stops cleanly, the app serves on, a new heapwatch() starts", async (t) => {
  const registry = new Registry();
  const watch = heapwatch({ logger: false, intervalMs: 50, windowMs: 1000, registry });
  const app = express();
  app.use(watch);
  app.get('/hello', (_req, res) => {
    res.send('hello');
  });
  const server = await listen(app);
  t.after(() => server.close());
  const stopped = new Promise<void>((resolve) => {
    let seen = 0;
    watch.monitor.on('reading', () => {
      if (++seen < 3) return;
      watch.stop();
      watch.stop();
      resolve();
    });
  });
  const { sent, failed } = await keepRequesting(`${server.base}/hello`, stopped);
  assert.ok(sent > 0);
  assert.equal(failed, 0, 'every request was served');
  await staysStopped(watch, 50);
  watch.stop();
  assert.equal(registry.getSingleMetric('heapwatch_snapshots_total'), undefined, "heapwatch's metrics are gone");
  assert.equal((await fetch(`${server.base}/hello`)).status, 200, 'the app serves on');
  assert.equal((await fetch(`${server.base}/metrics`)).status, 404, 'a stopped heapwatch serves nothing: the request goes on to the app');
  assert.deepEqual(uncaught, []);
  await startsAgain();
});

test("stop() from inside the logger's hook while the leak record is written, and again from the 'leak-suspected' listener: heapwatch stops cleanly mid-judgement, the app serves on, a new heapwatch() starts", async (t) => {
  let watch: HeapwatchMiddleware | undefined;
  let stopsInHook = 0;
  const logger = pino(
    {
      hooks: {
        logMethod(args, method) {
          const fields = args[0] as { heapwatch?: { event?: string } } | undefined;
          if (fields?.heapwatch?.event === 'leak-suspected') {
            stopsInHook++;
            watch?.stop();
          }
          method.apply(this, args);
        },
      },
    },
    new Writable({ write: (_chunk, _encoding, done) => done() }),
  );
  watch = heapwatch({ logger, intervalMs: 200, windowMs: 4000, growthThresholdBytes: 512 * 1024, samplingIntervalBytes: 16 * 1024, registry: new Registry() });
  const suspected = new Promise<void>((resolve) =>
    watch.monitor.on('leak-suspected', () => {
      watch?.stop();
      resolve();
    }),
  );
  const leak: string[] = [];
  const app = express();
  app.use(watch);
  app.get('/hello', (_req, res) => {
    // ~100 KB a request: the leak heapwatch suspects within its 4 s window.
    for (let k = 0; k < 500; k++) leak.push(`${leak.length}-${k}`.padEnd(200, 'x'));
    res.send('ok');
  });
  const server = await listen(app);
  t.after(() => (watch?.stop(), server.close()));
  const giveUp = sleep(120_000, 'gave up', { ref: false });
  const outcome = Promise.race([suspected, giveUp]);
  const { sent, failed } = await keepRequesting(`${server.base}/hello`, outcome);
  assert.notEqual(await outcome, 'gave up', 'the leak was suspected');
  assert.ok(sent > 0);
  assert.equal(failed, 0, 'every request was served');
  assert.equal(stopsInHook, 1, 'stopped from within the log hook, once');
  await staysStopped(watch, 200);
  assert.equal((await fetch(`${server.base}/hello`)).status, 200, 'the app serves on');
  assert.deepEqual(uncaught, []);
  await startsAgain();
});
