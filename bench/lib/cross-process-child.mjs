// One long-lived service of bench/cross-process.mjs: an Express app with the bench routes, in one
// configuration, serving injected requests (bench/lib/inject.mjs, no socket) when its parent asks
// over IPC, and otherwise idle — so that what runs between requests runs as it would in a real
// service, and is counted.
//   node bench/lib/cross-process-child.mjs <configuration> <route>   (spawned with an IPC channel)
//
// Configurations (`<name>-again`: the same, another set of processes — the A/A):
//   bare                           the app alone
//   heapwatch                      `app.use(heapwatch())`, as the README writes it: the defaults,
//                                  pino logging to standard output, prom-client's default metrics
//   heapwatch-no-default-metrics   `app.use(heapwatch({ defaultMetrics: false }))`
//   prom-client-defaults           the bare app and prom-client's `collectDefaultMetrics()`, what an
//                                  app that already exports Node's metrics pays without heapwatch
//   heapwatch-allocations          `app.use(heapwatch({ allocations: true }))` (Node 26: allocation mode)
//   heapwatch-sampler              heapwatch's sampler alone: `startSampling()`
//   heapwatch-monitor              heapwatch's monitor alone: `createHeapMonitor().start()`, no middleware or metrics
//   pprof-allocations              @datadog/pprof's heap profiler in allocation mode (dd-trace's Node 26
//                                  default), with a profile() every 60 s as dd-trace's uploads take
//   pprof                          @datadog/pprof's heap profiler as dd-trace starts it,
//                                  `heap.start(512 * 1024, 64)`
//
// Messages from the parent, each answered with one message:
//   { type: 'batch', requests }  serves `requests` requests of the route (0: only the reply), and
//                                answers { cpuStartMicros, cpuEndMicros, startMs, endMs }: the
//                                process's CPU (process.cpuUsage(), user + system, every thread)
//                                and the monotonic clock as the message arrived and as the last
//                                request finished
//   { type: 'stats' }            answers heapwatch's counters (monitor.stats(), or null), memory and CPU
//   { type: 'exit' }             stops heapwatch or the profiler and exits
import v8 from 'node:v8';
import express from 'express';
import { inject } from './inject.mjs';
import { threadCpu } from './proc-cpu.mjs';
import { addBenchRoutes } from './routes.mjs';

const [configuration, route] = process.argv.slice(2);
// `<name>+no-memory-reducer`: the same, started with V8's memory reducer off (the parent passes
// `--no-memory-reducer`), to tell what the major GCs V8 runs once allocation slows down cost.
const kind = configuration.replace(/-again$/, '').replace(/(\+(no-memory-reducer|cpu-prof|trace-gc))+$/, '');

const app = express();
let watch;
let stop = () => {};
const heapwatchOptions = {
  heapwatch: {},
  'heapwatch-no-default-metrics': { defaultMetrics: false },
  // No forced GC (the pause budget at 0): what the forced GCs and their aftermath cost.
  'heapwatch-no-forced-gc': { forcedGcPauseBudgetMs: 0 },
  // Readings an hour apart (and the window 4 hours): the monitor's timers and readings nearly gone,
  // the sampler, the middleware and the exporters as in heapwatch.
  'heapwatch-no-readings': { intervalMs: 3_600_000 },
  // Allocation mode (Node 26): V8 keeps the samples of collected objects, every reading forces a full GC.
  'heapwatch-allocations': { allocations: true },
};
if (kind in heapwatchOptions) {
  const { heapwatch } = await import('heapwatch');
  watch = heapwatch(heapwatchOptions[kind]);
  app.use(watch);
  stop = () => watch.stop();
} else if (kind === 'heapwatch-sampler') {
  // heapwatch's sampler alone (`startSampling()`, the tracemalloc API): no monitor, no middleware.
  const { startSampling, stopSampling } = await import('heapwatch');
  startSampling();
  stop = () => stopSampling();
} else if (kind === 'heapwatch-monitor') {
  // heapwatch's monitor alone (`createHeapMonitor().start()`): its readings, judgement and GCs,
  // with no middleware, no exporter and no prom-client metrics.
  const { createHeapMonitor } = await import('heapwatch');
  const monitor = createHeapMonitor();
  monitor.start();
  watch = { monitor };
  stop = () => monitor.stop();
} else if (kind === 'prom-client-defaults') {
  const { collectDefaultMetrics } = await import('prom-client');
  collectDefaultMetrics();
} else if (kind === 'pprof') {
  const { default: pprof } = await import('@datadog/pprof');
  pprof.heap.start(512 * 1024, 64);
  stop = () => pprof.heap.stop();
} else if (kind === 'pprof-allocations') {
  // dd-trace's default on Node 26 since September 2026: the sampler in allocation mode, and a
  // profile() — one forced full GC — at every upload, once a minute.
  const { default: pprof } = await import('@datadog/pprof');
  pprof.heap.start(512 * 1024, 64, true);
  const upload = setInterval(() => pprof.heap.profile(), 60_000);
  stop = () => {
    clearInterval(upload);
    pprof.heap.stop();
  };
} else if (kind !== 'bare') {
  throw new Error(`Unknown configuration "${configuration}" - expected bare, heapwatch, heapwatch-no-default-metrics, heapwatch-no-forced-gc, heapwatch-no-readings, heapwatch-allocations, heapwatch-sampler, heapwatch-monitor, prom-client-defaults, pprof or pprof-allocations, with or without -again`);
}
addBenchRoutes(app);

const cpuMicros = () => {
  const { user, system } = process.cpuUsage();
  return user + system;
};
const nowMs = () => Number(process.hrtime.bigint()) / 1e6;


/**
 * The process's garbage collections so far, by kind, and the new space's size at the last one:
 * whether a configuration makes the process collect more often (a smaller young generation, more
 * promotion, more major GCs) is a count, which a shared core's noise does not blur as it blurs CPU.
 * Read with V8's GC profiler (callbacks around every GC, the same in every configuration),
 * harvested and restarted at every message.
 */
const gcCounts = { scavenges: 0, majors: 0, other: 0, newSpaceBytes: 0, promotedBytes: 0 };
let gcProfiler;
function harvestGcs() {
  const taken = gcProfiler?.stop();
  for (const gc of taken?.statistics ?? []) {
    if (gc.gcType === 'Scavenge' || gc.gcType === 'MinorMarkSweep') gcCounts.scavenges++;
    else if (gc.gcType === 'MarkSweepCompact') gcCounts.majors++;
    else gcCounts.other++;
    const newSpace = gc.beforeGC.heapSpaceStatistics.find((space) => space.spaceName === 'new_space');
    if (newSpace) gcCounts.newSpaceBytes = newSpace.spaceSize;
    const old = (stats) => stats.heapSpaceStatistics.find((space) => space.spaceName === 'old_space')?.spaceUsedSize ?? 0;
    if (gc.gcType === 'Scavenge') gcCounts.promotedBytes += Math.max(0, old(gc.afterGC) - old(gc.beforeGC));
  }
  gcProfiler = new v8.GCProfiler();
  gcProfiler.start();
  return { ...gcCounts };
}
harvestGcs();

/**
 * Injected requests complete in microtasks: the event loop turns every `TURN` requests (as in
 * bench/cpu-per-request.mjs), so that timers and observers run during a batch as they would
 * between the requests that reach a server together.
 */
const TURN = 10;
let served = 0;

async function serve(requests) {
  for (let i = 0; i < requests; i++) {
    const status = await inject(app, `${route}?i=${served++}`);
    if (status !== 200) throw new Error(`${route} answered ${status} - expected 200`);
    if (i % TURN === TURN - 1) await new Promise(setImmediate);
  }
}

process.on('message', async (message) => {
  if (message.type === 'batch') {
    const gcsAtStart = harvestGcs();
    const threadsAtStart = threadCpu();
    const cpuStartMicros = cpuMicros();
    const startMs = nowMs();
    await serve(message.requests);
    const endMs = nowMs();
    const cpuEndMicros = cpuMicros();
    process.send({ type: 'batch', cpuStartMicros, cpuEndMicros, startMs, endMs, threadsAtStart, gcsAtStart });
  } else if (message.type === 'stats') {
    const memory = process.memoryUsage();
    process.send({ type: 'stats', monitor: watch ? watch.monitor.stats() : null, rssBytes: memory.rss, heapUsedBytes: memory.heapUsed, cpuMicros: cpuMicros() });
  } else if (message.type === 'exit') {
    stop();
    process.disconnect();
  }
});
process.send({ type: 'ready' });
