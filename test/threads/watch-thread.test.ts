import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { AggregationTemporality, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import express from 'express';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { ErrorCode, heapwatch, OtelInstrument, PrometheusMetric, watchThread } from '../../src/index.js';
import type { HeapwatchMiddleware } from '../../src/index.js';
import { pageSeries, repoRoot } from '../helpers.js';

const fixture = 'test/fixtures/thread-leaker.mjs';
const fixtureUrl = new URL(`file://${repoRoot}/${fixture}`);
const lineOf = (name: string): string =>
  String(readFileSync(`${repoRoot}/${fixture}`, 'utf8').split('\n').findIndex((line) => line.includes(`function ${name}(`)) + 1);

class CollectingReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

/** The main thread: an Express app with heapwatch, a registry, a pino logger into `lines`, an OTel reader. */
async function mainThreadApp(t: { after(fn: () => void): void }): Promise<{
  base: string;
  watch: HeapwatchMiddleware;
  reader: CollectingReader;
  lines: string[];
  page(): Promise<string>;
}> {
  const registry = new Registry();
  const lines: string[] = [];
  const logger = pino(new Writable({ write: (chunk: Buffer, _encoding, done) => (lines.push(String(chunk)), done()) }));
  // Delta: a series that is no longer observed is not exported again (opentelemetry-js#4096).
  const reader = new CollectingReader({ aggregationTemporalitySelector: () => AggregationTemporality.DELTA });
  const watch = heapwatch({
    registry,
    logger,
    meterProvider: new MeterProvider({ readers: [reader] }),
    defaultMetrics: false,
    intervalMs: 200,
    windowMs: 4000,
    growthThresholdBytes: 1024 * 1024,
    samplingIntervalBytes: 32 * 1024,
  });
  const app = express();
  app.use(watch);
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    watch.stop();
    server.close();
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { base, watch, reader, lines, page: async () => (await fetch(`${base}/metrics`)).text() };
}

/** Waits until `check` holds, polling; fails with `describe()` after `timeoutMs`. */
async function until(check: () => Promise<boolean> | boolean, describe: () => string, timeoutMs = 60_000): Promise<void> {
  for (let waited = 0; waited < timeoutMs; waited += 200) {
    if (await check()) return;
    await sleep(200);
  }
  assert.fail(describe());
}

test("a worker thread that leaks, watched from inside with watchThread(): the main thread's /metrics and OpenTelemetry show the leak at the worker's function with the thread label, the main logger names the thread, and nothing is left once it exits", async (t) => {
  const main = await mainThreadApp(t);
  const worker = new Worker(fixtureUrl, { workerData: { mode: 'leak', name: 'resizer' } });
  const applicationMessages: unknown[] = [];
  worker.on('message', (message) => applicationMessages.push(message));
  t.after(() => void worker.terminate());

  let page = '';
  const suspected = (): Array<{ labels: Record<string, string>; value: number }> =>
    pageSeries(page, PrometheusMetric.siteLeakSuspected).filter((series) => series.value === 1);
  await until(
    async () => suspected().length > 0 || ((page = await main.page()), false),
    () => `no site suspected; page:\n${page}`,
    90_000,
  );

  // V8 may inline keepThumbnail into resizeBatch; then the batch is the frame that allocates.
  const leakingSites = [`keepThumbnail:${lineOf('keepThumbnail')}`, `resizeBatch:${lineOf('resizeBatch')}`];
  for (const { labels } of suspected()) {
    assert.equal(labels['thread'], 'resizer', `every suspect is the worker thread's: ${JSON.stringify(labels)}`);
    assert.equal(labels['file'], fixture);
    assert.ok(leakingSites.includes(`${labels['function']}:${labels['line']}`), `suspected ${JSON.stringify(labels)}, expected one of ${leakingSites}`);
  }
  const own = pageSeries(page, PrometheusMetric.siteLiveBytes).filter((series) => series.labels['thread'] === undefined);
  assert.ok(own.length > 0, "the main thread's own sites are there, without a thread label");
  assert.deepEqual(
    pageSeries(page, PrometheusMetric.leakSuspects).map((series) => [series.labels['thread'] ?? 'main', series.value]).sort(),
    [['main', 0], ['resizer', suspected().length]],
  );
  assert.ok((pageSeries(page, PrometheusMetric.snapshotsTotal).find((series) => series.labels['thread'] === 'resizer')?.value ?? 0) > 0);

  // The record goes through the main thread's logger, with the thread named.
  const record = main.lines.map((line) => JSON.parse(line) as Record<string, any>).find((entry) => entry['heapwatch']?.event === 'leak-suspected');
  assert.ok(record, `a leak-suspected record in the main logger; got ${main.lines.join('')}`);
  assert.equal(record['heapwatch'].thread, 'resizer');
  assert.match(record['msg'], /^heapwatch \(thread resizer\): leak suspected at (keepThumbnail|resizeBatch) \(test\/fixtures\/thread-leaker\.mjs:\d+\)/);
  assert.equal(record['level'], 40);

  // OpenTelemetry: the same verdict, with the semantic-convention attribute thread.name.
  const { resourceMetrics } = await main.reader.collect();
  const otelSuspected = resourceMetrics.scopeMetrics
    .flatMap((scope) => scope.metrics)
    .find((metric) => metric.descriptor.name === OtelInstrument.siteLeakSuspected);
  const otelPoints = (otelSuspected?.dataPoints ?? []) as Array<{ attributes: Record<string, unknown>; value: number }>;
  assert.ok(
    otelPoints.some((point) => point.value === 1 && point.attributes['thread.name'] === 'resizer' && String(point.attributes['code.file.path']).endsWith(fixture)),
    `an OpenTelemetry suspect with thread.name resizer; got ${JSON.stringify(otelPoints.filter((point) => point.value === 1))}`,
  );
  assert.deepEqual(applicationMessages, [], "heapwatch's traffic never reaches the application's parentPort");

  // Terminated, the thread reports no more: its series and points go at once.
  await worker.terminate();
  const after = await main.page();
  assert.equal(after.includes('thread='), false, `no thread series after exit:\n${after}`);
  const collected = await main.reader.collect();
  const threadPoints = collected.resourceMetrics.scopeMetrics
    .flatMap((scope) => scope.metrics)
    .flatMap((metric) => metric.dataPoints as Array<{ attributes: Record<string, unknown> }>)
    .filter((point) => 'thread.name' in point.attributes);
  assert.deepEqual(threadPoints, [], 'no OpenTelemetry point for the thread after exit');
});

test('two live threads of one name are labelled resizer and resizer-2; one that stops watching itself leaves at once, one whose work is done still exits, and its label is free again', async (t) => {
  const main = await mainThreadApp(t);
  const idle = new Worker(fixtureUrl, { workerData: { mode: 'idle', name: 'resizer' } });
  t.after(() => void idle.terminate());
  const threadsOnPage = async (): Promise<string[]> =>
    pageSeries(await main.page(), PrometheusMetric.snapshotsTotal).map((series) => series.labels['thread'] ?? 'main').sort();
  let seen: string[] = [];
  await until(async () => (seen = await threadsOnPage()).includes('resizer'), () => `threads on the page: ${seen}`);

  const finite = new Worker(fixtureUrl, { workerData: { mode: 'finite', name: 'resizer' } });
  t.after(() => void finite.terminate());
  const finiteExit = once(finite, 'exit');
  await until(async () => (seen = await threadsOnPage()).includes('resizer-2'), () => `threads on the page: ${seen}`);
  assert.deepEqual(seen, ['main', 'resizer', 'resizer-2']);

  // The monitor's timers are unref'd: a thread with nothing else to do ends, watched or not.
  finite.postMessage('finish');
  const [code] = (await finiteExit) as [number];
  assert.equal(code, 0);
  assert.deepEqual(await threadsOnPage(), ['main', 'resizer']);

  // stop() inside the thread: its series go at once, before the thread ends.
  idle.postMessage('stop');
  await once(idle, 'message');
  await until(async () => (seen = await threadsOnPage()).length === 1, () => `threads on the page after stop(): ${seen}`, 5000);
  assert.deepEqual(seen, ['main']);

  // A new thread of that name takes the first label again.
  const again = new Worker(fixtureUrl, { workerData: { mode: 'finite', name: 'resizer' } });
  t.after(() => void again.terminate());
  await until(async () => (seen = await threadsOnPage()).includes('resizer'), () => `threads on the page: ${seen}`);
  assert.deepEqual(seen, ['main', 'resizer']);
  again.postMessage('finish');
  await once(again, 'exit');
});

/** A thread of the fixture, with an 'error' listener as an application must have, its errors and its exit code. */
function startThread(name: string, mode: string, options: { resourceLimits?: { maxOldGenerationSizeMb: number } } = {}): {
  worker: Worker;
  errors: Array<Error & { code?: string }>;
  exited: Promise<number>;
} {
  const worker = new Worker(fixtureUrl, { workerData: { mode, name }, ...options });
  const errors: Array<Error & { code?: string }> = [];
  worker.on('error', (error) => errors.push(error));
  // Not once(worker, 'exit'), which an 'error' event before the exit would reject.
  const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
  return { worker, errors, exited };
}

test("watched worker threads that crash — one throws, one calls process.exit(), one fills its resourceLimits heap, one is terminated, one started before heapwatch() throws: the host lives on, /metrics answers and the main thread reads on, each thread's series leave, no rejection goes unhandled and no listener is left", async (t) => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): number => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  t.after(() => process.off('unhandledRejection', onUnhandled));
  const workerListeners = process.listenerCount('worker');
  // Started before heapwatch(): the main thread never sees it start, only what it posts.
  const early = startThread('early', 'finite');
  const main = await mainThreadApp(t);
  const threads = {
    early,
    throwing: startThread('throwing', 'finite'),
    exiting: startThread('exiting', 'finite'),
    terminated: startThread('terminated', 'finite'),
    exhausted: startThread('exhausted', 'exhaust', { resourceLimits: { maxOldGenerationSizeMb: 48 } }),
  };
  t.after(() => {
    for (const { worker } of Object.values(threads)) void worker.terminate();
  });
  let page = '';
  const scrape = async (): Promise<string> => {
    const response = await fetch(`${main.base}/metrics`);
    assert.equal(response.status, 200);
    return (page = await response.text());
  };
  const threadsOnPage = (): string[] => pageSeries(page, PrometheusMetric.snapshotsTotal).map((series) => series.labels['thread'] ?? 'main').sort();
  const mainReadings = (): number => pageSeries(page, PrometheusMetric.snapshotsTotal).find((series) => series.labels['thread'] === undefined)?.value ?? 0;
  const all = ['early', 'exhausted', 'exiting', 'main', 'terminated', 'throwing'];
  await until(async () => (await scrape(), threadsOnPage().join() === all.join()), () => `threads on the page: ${threadsOnPage()}`);
  const readingsBefore = mainReadings();
  // heapwatch adds no 'error' listener: an error the application leaves unhandled stays its own.
  for (const [name, { worker }] of Object.entries(threads)) assert.equal(worker.listenerCount('error'), 1, `${name}: the application's 'error' listener only`);

  threads.throwing.worker.postMessage('throw');
  threads.exiting.worker.postMessage('exit');
  threads.exhausted.worker.postMessage('exhaust');
  threads.early.worker.postMessage('throw');
  const terminating = threads.terminated.worker.terminate();
  const codes = Object.fromEntries(await Promise.all(Object.entries(threads).map(async ([name, thread]) => [name, await thread.exited] as const)));
  await terminating;
  assert.deepEqual(codes, { early: 1, throwing: 1, exiting: 3, terminated: 1, exhausted: 1 });
  assert.deepEqual(threads.throwing.errors.map((error) => error.message), ['thread crash asked for by the test']);
  assert.deepEqual(threads.exhausted.errors.map((error) => error.code), ['ERR_WORKER_OUT_OF_MEMORY']);

  // The threads the main thread saw start leave at their exit event; the early one when its
  // farewell arrives (or five of its intervals after its last report).
  await scrape();
  assert.deepEqual(threadsOnPage().filter((thread) => thread !== 'early'), ['main'], `after the exits:\n${page}`);
  await until(async () => (await scrape(), threadsOnPage().join() === 'main'), () => `threads on the page: ${threadsOnPage()}`);
  assert.equal(page.includes('thread='), false, `no thread series left:\n${page}`);
  // The main thread's own readings go on.
  await until(async () => (await scrape(), mainReadings() > readingsBefore), () => `the main thread's readings stayed at ${readingsBefore}`);

  // Stopped, heapwatch keeps no listener on the process (Node drops a Worker's own at its exit).
  main.watch.stop();
  assert.equal(process.listenerCount('worker'), workerListeners);
  assert.deepEqual(unhandled, []);
});

test('watchThread() in the main thread throws HEAPWATCH_ERR_NOT_WORKER_THREAD; in a worker, a bad name is refused naming the option', async () => {
  assert.throws(() => watchThread(), (error: NodeJS.ErrnoException) => error.code === ErrorCode.NOT_WORKER_THREAD && /heapwatch\(\)/.test(error.message));
  const code = `
    const { parentPort } = require('node:worker_threads');
    import(${JSON.stringify(`${repoRoot}/dist/index.js`)}).then(({ watchThread }) => {
      try { watchThread({ name: '' }); parentPort.postMessage('accepted'); }
      catch (error) { parentPort.postMessage({ code: error.code, message: error.message }); }
    });`;
  const worker = new Worker(code, { eval: true });
  const [answer] = (await once(worker, 'message')) as [{ code: string; message: string }];
  await worker.terminate();
  assert.deepEqual(answer, {
    code: ErrorCode.INVALID_OPTION,
    message: 'Invalid option "name": expected a string of 1 to 64 characters, received ""',
  });
});
