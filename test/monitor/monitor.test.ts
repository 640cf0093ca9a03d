import assert from 'node:assert/strict';
import { Session } from 'node:inspector';
import { Writable } from 'node:stream';
import { afterEach, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { ErrorCode, HeapwatchError } from '../../src/errors.js';
import { createHeapMonitor } from '../../src/monitor/monitor.js';
import type { HeapMonitor } from '../../src/monitor/monitor.js';
import { isSampling } from '../../src/v8/sampler.js';
import { runNode } from '../helpers.js';

let monitor: HeapMonitor | undefined;
afterEach(() => monitor?.stop());

function memoryLogger() {
  const records: Array<{ level: number; msg: string; heapwatch?: Record<string, unknown> }> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      records.push(JSON.parse(chunk.toString()) as (typeof records)[number]);
      done();
    },
  });
  return { logger: pino(stream), records };
}

const kept: object[] = [];
function allocate(n: number): void {
  for (let i = 0; i < n; i++) kept.push({ i, text: `entry ${i}`.padEnd(200, '.') });
}

test('rejects bad options with a coded error that names the option, the expectation and the value', () => {
  const cases: Array<[object, RegExp]> = [
    [{ intervalMs: 0 }, /"intervalMs": expected an integer between 10 and 3600000, received 0/],
    [{ intervalMs: 1000, windowMs: 2000 }, /"windowMs": expected at least 4 times intervalMs \(4000\), received 2000/],
    [{ growthThresholdBytes: -5 }, /"growthThresholdBytes": expected an integer >= 1, received -5/],
    [{ samplingIntervalBytes: 0.5 }, /"samplingIntervalBytes".*received 0\.5/],
    [{ topSites: 0 }, /"topSites"/],
    [{ logger: console }, /"logger": expected a pino logger \(an object with child\(\) and warn\(\)\) or false, received an object/],
    [{ include: 'src/**' }, /"include": expected an array of non-empty strings, received "src\/\*\*"/],
    [{ exclude: [''] }, /"exclude": expected an array of non-empty strings/],
    [{ bufferSampling: 'yes' }, /"bufferSampling": expected true or false, received "yes"/],
    [{ bufferSamplingIntervalBytes: 0 }, /"bufferSamplingIntervalBytes": expected an integer between 1 and 2147483647, received 0/],
    [{ treshold: 1 }, /Unknown option "treshold" for heapwatch: expected one of intervalMs, windowMs/],
  ];
  for (const [options, message] of cases) {
    assert.throws(
      () => createHeapMonitor(options as never),
      (error: unknown) => error instanceof HeapwatchError && error.code === ErrorCode.INVALID_OPTION && message.test(error.message),
      String(message),
    );
  }
});

test('reads every intervalMs, tracks sites within maxTrackedSites, and stops cleanly', async () => {
  monitor = createHeapMonitor({ intervalMs: 50, windowMs: 1000, maxTrackedSites: 3, logger: false, samplingIntervalBytes: 4096 });
  monitor.start();
  assert.equal(isSampling(), true);
  for (let i = 0; i < 6; i++) {
    allocate(2000);
    await sleep(60);
  }
  const stats = monitor.stats();
  assert.ok(stats.readings >= 4, `${stats.readings} readings`);
  assert.equal(stats.readingErrors, 0);
  assert.ok(stats.trackedSites <= 3 && stats.trackedSites > 0);
  assert.ok(monitor.sites().some((site) => site.site.functionName === 'allocate'));
  assert.ok(stats.sampledLiveBytes > 0);
  monitor.stop();
  monitor.stop();
  assert.equal(isSampling(), false);
  const readings = monitor.stats().readings;
  await sleep(150);
  assert.equal(monitor.stats().readings, readings, 'no reading after stop()');
});

test('a reading costs what it finds: at rest the sampler is not read again, after new allocations it is', async () => {
  // At 128 KiB the monitor's own garbage (a few kB per tick) is seldom sampled; at 4 KiB it would be at every tick.
  monitor = createHeapMonitor({ intervalMs: 50, windowMs: 1000, logger: false, samplingIntervalBytes: 128 * 1024 });
  monitor.start();
  allocate(2000);
  // At rest — nothing allocated, nothing collected — the readings repeat the one before; every
  // sixth is V8's own again. One wait, one timer: a promise per tick would change V8's global
  // handles (the test runner's async hooks hold one per promise), and so would count as activity.
  await sleep(1500);
  const later = monitor.stats();
  assert.ok(later.unchangedReadings >= 5, `${later.unchangedReadings} of ${later.readings} readings found the sampler unchanged`);
  // Those ticks judged the suspects alone: their readings held nothing new.
  assert.ok(later.quietTicks >= 4, `${later.quietTicks} of ${later.readings} ticks were quiet`);
  assert.equal(later.readingErrors, 0);
  assert.ok(later.sampledLiveBytes > 0, 'a repeated reading keeps the sites it found');
  const before = monitor.sites().find((site) => site.site.functionName === 'allocate')?.liveBytes ?? 0;
  // New objects kept: new samples, so the next reading is V8's own, and sees them.
  allocate(20_000);
  await sleep(300);
  const after = monitor.sites().find((site) => site.site.functionName === 'allocate')?.liveBytes ?? 0;
  assert.ok(after > before + 2e6, `allocate's live bytes ${before} then ${after}`);
  assert.ok(monitor.stats().readings - monitor.stats().quietTicks > later.readings - later.quietTicks, 'the tick that saw them was judged whole');
});

test('a failed reading is counted and logged once, never thrown, and the next one works', async () => {
  const { logger, records } = memoryLogger();
  monitor = createHeapMonitor({ intervalMs: 50, windowMs: 1000, logger });
  monitor.start();
  await sleep(80);
  for (let round = 0; round < 3; round++) {
    // Another client stops V8's sampler behind heapwatch's back.
    const session = new Session();
    session.connect();
    session.post('HeapProfiler.stopSampling');
    session.disconnect();
    // A quiet process may hold no sample for the stop to free, and its ticks then repeat the
    // reading before: V8 is read again within six ticks (300 ms here), and the loss found there.
    await sleep(400);
  }
  const stats = monitor.stats();
  assert.equal(stats.readingErrors, 3);
  assert.ok(stats.readings > 3);
  const failures = records.filter((record) => record.heapwatch?.event === 'reading-failed');
  assert.equal(failures.length, 1, 'logged once per cause');
  assert.equal(failures[0]?.level, 50);
  assert.equal(failures[0]?.heapwatch?.code, 'HEAPWATCH_ERR_SAMPLER_LOST');
  assert.equal(monitor.running, true);
});

test('its timers do not keep the process alive', async () => {
  // The child starts a monitor reading every 50 ms and has nothing else to do: it must exit.
  const output = await runNode(['test/fixtures/monitor-child.mjs', 'idle']);
  assert.equal(output.trim(), 'started');
});

test('logs to standard output through pino when no logger is given', async () => {
  const lines = (await runNode(['test/fixtures/monitor-child.mjs', 'default-logger'])).trim().split('\n');
  const records = lines.map((line) => JSON.parse(line) as { level: number; module: string; heapwatch: { event: string } });
  assert.deepEqual(
    records.map((r) => [r.level, r.module, r.heapwatch.event]),
    [[50, 'heapwatch', 'reading-failed']],
  );
});

test('a leak-suspected listener that throws is logged once and does not stop the monitor', async () => {
  const { logger, records } = memoryLogger();
  monitor = createHeapMonitor({ intervalMs: 100, windowMs: 1000, growthThresholdBytes: 256 * 1024, samplingIntervalBytes: 4096, logger });
  monitor.on('leak-suspected', () => {
    throw new Error('listener bug');
  });
  monitor.start();
  const leak: string[] = [];
  for (let i = 0; i < 400 && monitor.stats().suspicionsRaised === 0; i++) {
    for (let k = 0; k < 500; k++) leak.push(`${i}-${k}`.padEnd(200, 'x'));
    await sleep(50);
  }
  assert.equal(monitor.stats().suspicionsRaised, 1, 'the leak was suspected');
  const failure = records.find((record) => record.heapwatch?.event === 'listener-failed');
  assert.match(failure?.msg ?? '', /a "leak-suspected" listener threw \(listener bug\)/);
  assert.ok(records.some((record) => record.heapwatch?.event === 'leak-suspected'), 'the record was written before the listener ran');
  const readings = monitor.stats().readings;
  await sleep(250);
  assert.ok(monitor.stats().readings > readings, 'still reading');
  assert.ok(leak.length > 0);
});

test('one record when a leak is suspected and one when it ends, whatever the number of readings', async () => {
  const { logger, records } = memoryLogger();
  monitor = createHeapMonitor({ intervalMs: 100, windowMs: 1000, growthThresholdBytes: 256 * 1024, samplingIntervalBytes: 4096, logger });
  const events: string[] = [];
  monitor.on('leak-suspected', (report) => events.push(`suspected ${report.site.functionName}`));
  monitor.on('leak-cleared', (report) => events.push(`cleared ${report.site.functionName}`));
  monitor.start();
  const leak: string[] = [];
  function growLeak(i: number): void {
    for (let k = 0; k < 500; k++) leak.push(`${i}-${k}`.padEnd(200, 'x'));
  }
  for (let i = 0; i < 100 && events.length === 0; i++) {
    growLeak(i);
    await sleep(50);
  }
  assert.deepEqual(events, ['suspected growLeak']);
  // The leak stops growing (what it holds stays): the suspicion ends about a window later.
  for (let i = 0; i < 60 && events.length === 1; i++) await sleep(100);
  assert.deepEqual(events, ['suspected growLeak', 'cleared growLeak']);
  await sleep(500);
  const verdicts = records.filter((record) => record.heapwatch?.event !== undefined).map((record) => [record.level, record.heapwatch?.event]);
  assert.deepEqual(verdicts, [
    [40, 'leak-suspected'],
    [30, 'leak-cleared'],
  ]);
  const cleared = records.find((record) => record.heapwatch?.event === 'leak-cleared');
  assert.ok((cleared?.heapwatch?.suspectedForMs as number) > 0);
  assert.match(cleared?.msg ?? '', /^heapwatch: leak suspicion cleared at growLeak \(test\/monitor\/monitor\.test\.ts:\d+\)/);
  assert.ok(leak.length > 0);
});
