import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { BroadcastChannel, Worker } from 'node:worker_threads';
import { pino } from 'pino';
import { WarningCode } from '../../src/errors.js';
import type { MonitorStats } from '../../src/monitor/stats.js';
import { PROTOCOL_VERSION, THREAD_CHANNEL } from '../../src/threads/protocol.js';
import { MAX_WATCHED_THREADS, STALE_AFTER_INTERVALS, ThreadHub } from '../../src/threads/thread-hub.js';

const stats: MonitorStats = {
  readings: 3,
  unchangedReadings: 0,
  quietTicks: 0,
  readingErrors: 0,
  lastTickMs: 1,
  trackedSites: 1,
  droppedSites: 0,
  cleanReadings: 0,
  majorGcSignal: 'sentinel',
  requestedGcs: 0,
  skippedGcs: 0,
  lastForcedGcPauseMs: 0,
  readingIntervalMs: 10_000,
  logErrors: 0,
  samplerRestarts: 0,
  bufferSamplesTaken: 0,
  bufferSamplesDropped: 0,
  bufferSamplesFailed: 0,
  suspicionsRaised: 0,
  sampledLiveBytes: 4096,
  samplingIntervalBytes: 32768,
};

function report(threadId: number, name = 'resize', extra: object = {}): object {
  return {
    heapwatch: PROTOCOL_VERSION,
    type: 'report',
    threadId,
    name,
    intervalMs: 1000,
    sites: [{ site: { functionName: 'keep', file: '/app/w.mjs', line: 3, column: 10 }, liveBytes: 4096, count: 2, growthBytes: 0, suspected: false, suspicions: 0 }],
    suspects: 0,
    stats,
    growthThresholdBytes: 1024,
    windowMs: 10_000,
    heapSizeLimitBytes: 1 << 30,
    ...extra,
  };
}

/** Posts as a worker thread would, on a channel of its own, and lets the hub's end receive it. */
async function post(...messages: unknown[]): Promise<void> {
  const channel = new BroadcastChannel(THREAD_CHANNEL);
  for (const message of messages) channel.postMessage(message);
  channel.close();
  await sleep(50);
}

test('the hub takes only well-formed messages of its protocol, and never throws on the others', async (t) => {
  const hub = new ThreadHub(false).start();
  t.after(() => hub.stop());
  await post(
    'hello',
    null,
    { ...report(901), heapwatch: PROTOCOL_VERSION + 1 },
    { ...report(902), threadId: 'x' },
    report(903, ''),
    report(904, 'resize', { sites: [{ site: { functionName: 'f' }, liveBytes: 1 }] }),
    report(905, 'resize', { stats: { ...stats, readings: Number.NaN } }),
    report(906, 'resize', { type: 'unknown' }),
    report(907, 'ocr'),
  );
  const figures = hub.threadFigures();
  assert.deepEqual(figures.map((thread) => thread.thread), ['ocr']);
  assert.deepEqual(figures[0]?.stats(), stats);
  assert.equal(figures[0]?.sites()[0]?.liveBytes, 4096);
});

test("a thread whose exit the hub cannot see is forgotten after five of its intervals without a report; a late message of a thread that exited is ignored", async (t) => {
  let now = 1_000_000;
  const hub = new ThreadHub(false, () => now).start();
  t.after(() => hub.stop());
  // threadId 950: no such Worker was started from here, as for a thread started before the hub.
  await post(report(950));
  assert.deepEqual(hub.threadFigures().map((thread) => thread.thread), ['resize']);
  now += STALE_AFTER_INTERVALS * 1000;
  assert.equal(hub.threadFigures().length, 1, 'still there at exactly five intervals');
  now += 1;
  assert.equal(hub.threadFigures().length, 0);

  // A thread started after the hub: its exit is seen, and a message of it that arrives later is not taken.
  const worker = new Worker('void 0', { eval: true });
  const { threadId } = worker;
  await once(worker, 'exit');
  await post(report(threadId));
  assert.equal(hub.threadFigures().length, 0);
});

test(`past ${MAX_WATCHED_THREADS} threads at once, the others are left out with one warning, until some leave`, async (t) => {
  const hub = new ThreadHub(false).start();
  const warnings: Array<{ code?: string }> = [];
  const onWarning = (warning: Error & { code?: string }): number => warnings.push(warning);
  process.on('warning', onWarning);
  t.after(() => {
    hub.stop();
    process.off('warning', onWarning);
  });
  const ids = Array.from({ length: MAX_WATCHED_THREADS + 2 }, (_, i) => 2000 + i);
  await post(...ids.map((id) => report(id)));
  assert.equal(hub.threadFigures().length, MAX_WATCHED_THREADS);
  assert.equal(warnings.filter((warning) => warning.code === WarningCode.THREAD_LIMIT).length, 1);
  await post({ heapwatch: PROTOCOL_VERSION, type: 'bye', threadId: 2000, name: 'resize', intervalMs: 1000 }, report(2000 + MAX_WATCHED_THREADS));
  const labels = hub.threadFigures().map((thread) => thread.thread);
  assert.equal(labels.length, MAX_WATCHED_THREADS);
  assert.ok(labels.includes('resize'), 'the label the leaving thread freed went to the next one');
});

test("a thread's records go through the main thread's logger at their level, naming the thread; stop() leaves no listener behind, on the process or on a live Worker", async (t) => {
  const lines: string[] = [];
  const logger = pino(new Writable({ write: (chunk: Buffer, _encoding, done) => (lines.push(String(chunk)), done()) }));
  const listeners = process.listenerCount('worker');
  const hub = new ThreadHub(logger).start();
  assert.equal(process.listenerCount('worker'), listeners + 1);
  const line = JSON.stringify({ level: 40, module: 'heapwatch', heapwatch: { event: 'leak-suspected', growthBytes: 5 }, msg: 'heapwatch: leak suspected at keep (w.mjs:3): +5 B in 10 s, 4.0 KiB live' });
  await post(
    report(970, 'ocr'),
    { heapwatch: PROTOCOL_VERSION, type: 'log', threadId: 970, name: 'ocr', intervalMs: 1000, line },
    { heapwatch: PROTOCOL_VERSION, type: 'log', threadId: 970, name: 'ocr', intervalMs: 1000, line: 'not json' },
  );
  // A live thread started after the hub carries the hub's exit listener until the hub stops.
  const live = new Worker('setInterval(() => {}, 1000)', { eval: true });
  t.after(() => void live.terminate());
  await once(live, 'online'); // the process's 'worker' event comes just before
  assert.equal(live.listenerCount('exit'), 1);
  hub.stop();
  assert.equal(live.listenerCount('exit'), 0);
  await live.terminate();
  assert.equal(process.listenerCount('worker'), listeners);
  assert.equal(lines.length, 1);
  const record = JSON.parse(lines[0] as string) as Record<string, unknown>;
  assert.equal(record['level'], 40);
  assert.equal(record['module'], 'heapwatch');
  assert.deepEqual(record['heapwatch'], { event: 'leak-suspected', growthBytes: 5, thread: 'ocr' });
  assert.equal(record['msg'], 'heapwatch (thread ocr): leak suspected at keep (w.mjs:3): +5 B in 10 s, 4.0 KiB live');
  assert.deepEqual(hub.threadFigures(), []);
});
