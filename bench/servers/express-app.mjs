// The app the request-overhead benchmark drives: Express 5 with two routes — hello world, and a
// handler that builds and serialises ~50 KB of JSON — instrumented as the first argument says.
//   node bench/servers/express-app.mjs <instrumentation>
// Prints `port=<n>` once listening on 127.0.0.1 (an ephemeral port), and serves until killed.
import http from 'node:http';
import express from 'express';
import { addBenchRoutes } from '../lib/routes.mjs';

const instrumentation = process.argv[2] ?? 'none';
const app = express();

/** Each instrumentation as its user would add it, at its defaults unless the name says otherwise. */
const instrument = {
  none() {},
  async heapwatch() {
    const { heapwatch } = await import('heapwatch');
    app.use(heapwatch({ logger: false }));
  },
  async 'heapwatch-32k'() {
    const { heapwatch } = await import('heapwatch');
    app.use(heapwatch({ logger: false, samplingIntervalBytes: 32 * 1024 }));
  },
  async 'heapwatch-512k'() {
    const { heapwatch } = await import('heapwatch');
    app.use(heapwatch({ logger: false, samplingIntervalBytes: 512 * 1024 }));
  },
  // The parts of heapwatch's cost, apart: an empty middleware layer (what any app.use() costs in
  // Express), V8's sampler alone at heapwatch's default interval, heapwatch without prom-client's
  // default metrics.
  'noop-middleware'() {
    app.use((_req, _res, next) => next());
  },
  async 'sampler-only'() {
    const { startSampling } = await import('heapwatch');
    startSampling();
  },
  async 'sampler-only-512k'() {
    const { startSampling } = await import('heapwatch');
    startSampling({ samplingIntervalBytes: 512 * 1024 });
  },
  // The sampler plus the 'gc' performance observer heapwatch keeps (for clean readings after V8's
  // major GCs): Node then builds an entry for every GC, minor ones included.
  async 'sampler-gc-observer'() {
    const { PerformanceObserver } = await import('node:perf_hooks');
    const { startSampling } = await import('heapwatch');
    startSampling();
    new PerformanceObserver(() => {}).observe({ entryTypes: ['gc'] });
  },
  // The monitor alone (sampler, GC observer, ticks), without the middleware and its metrics.
  async 'monitor-only'() {
    const { createHeapMonitor } = await import('heapwatch');
    createHeapMonitor({ logger: false }).start();
  },
  // heapwatch's per-request cost without its ticks (one reading at start, the next an hour later).
  async 'heapwatch-hourly'() {
    const { heapwatch } = await import('heapwatch');
    app.use(heapwatch({ logger: false, intervalMs: 3_600_000, windowMs: 4 * 3_600_000 }));
  },
  async 'heapwatch-no-default-metrics'() {
    const { heapwatch } = await import('heapwatch');
    app.use(heapwatch({ logger: false, defaultMetrics: false }));
  },
  // prom-client's default Node metrics alone, with their /metrics route.
  async 'prom-client'() {
    const { collectDefaultMetrics, register } = await import('prom-client');
    collectDefaultMetrics();
    app.get('/metrics', async (_req, res) => res.type(register.contentType).send(await register.metrics()));
  },
  // @datadog/pprof's heap profiler at dd-trace's defaults (512 KiB, 64 frames), its profile taken
  // every 60 s as dd-trace uploads it.
  async 'datadog-pprof'() {
    const { default: pprof } = await import('@datadog/pprof');
    pprof.heap.start(512 * 1024, 64);
    setInterval(() => pprof.heap.profile(), 60_000).unref();
  },
  // @pyroscope/nodejs heap profiling at its defaults, flushing to a sink on loopback.
  async pyroscope() {
    const sink = http.createServer((req, res) => req.resume().on('end', () => res.end())).listen(0, '127.0.0.1');
    await new Promise((resolve) => sink.once('listening', resolve));
    const { default: Pyroscope } = await import('@pyroscope/nodejs');
    Pyroscope.init({ serverAddress: `http://127.0.0.1:${sink.address().port}`, appName: 'heapwatch-bench' });
    Pyroscope.startHeapProfiling();
  },
};
if (!(instrumentation in instrument)) throw new Error(`Unknown instrumentation "${instrumentation}" - expected one of ${Object.keys(instrument).join(', ')}`);
await instrument[instrumentation]();

addBenchRoutes(app);

const server = app.listen(0, '127.0.0.1', () => console.log(`port=${server.address().port}`));
// Exit normally on SIGINT, so that profilers (--cpu-prof, valgrind) write their output.
process.on('SIGINT', () => process.exit(0));
