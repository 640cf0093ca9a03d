// CPU time per request, resolved to about 1 %: requests are injected in-process (bench/lib/inject.mjs:
// no sockets, no load generator competing for the cores), every configuration is switched on and
// off in the same process (same JIT state, same heap), in many short rounds with the order rotated,
// and the CPU time of the process (process.cpuUsage(): user + system, every thread, so V8's GC and
// sampler threads included) is divided by the requests of each round. Each configuration's ratio
// is taken against the reference (the bare app unless --reference says otherwise) measured just
// before and just after it; the result is the median ratio over rounds and the ratio of total CPU,
// each with a 95 % bootstrap interval.
//
//   node bench/cpu-per-request.mjs [--rounds=40] [--requests=4000] [--route=/hello|/json|/buffers]
//                                  [--configs=none,none-again,busy-1pct,sampler,heapwatch,...]
//                                  [--reference=none] [--versus=<configuration>]
//   taskset -c 1 node bench/cpu-per-request.mjs …   (one core: no migrations)
//
// `<configuration>-again` is any configuration a second time (the A/A check: it must come out at
// 1.000 within the interval), `busy-<p>pct` a busy loop per request costing p % of the bare
// request, measured at start, that the method must see (the calibration), and `a+b` two
// configurations at once (`pprof-512k-d64+busy-0.5pct`). `--reference=pprof-512k-d64` measures
// every configuration between two measurements of @datadog/pprof's heap profiler instead of the
// bare app: the direct comparison, with the noise of one reference instead of the two that
// --versus carries. `layers-<n>-empty`, `layers-<n>-heapwatch` and `layers-<n>-prefixed` measure what one more Express
// layer costs (see configuration()); with n = 1 and a larger n of the same kind, the cost of one
// layer is printed under the table. Prints Markdown.
import { createServer } from 'node:http';
import { PerformanceObserver } from 'node:perf_hooks';
import express from 'express';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { bootstrap, median } from './lib/distribution.mjs';
import { inject } from './lib/inject.mjs';
import { addBenchRoutes } from './lib/routes.mjs';
import { createHeapMonitor, heapwatch, startSampling, stopSampling } from 'heapwatch';
import { bufferSampler } from '../dist/buffers/buffer-sampler.js';
import { installBufferWrappers, removeBufferWrappers } from '../dist/buffers/buffer-wrappers.js';

const args = Object.fromEntries(process.argv.slice(2).map((arg) => arg.replace(/^--/, '').split('=')));
const rounds = Number(args.rounds ?? 40);
const requests = Number(args.requests ?? 4000);
const route = args.route ?? '/hello';
const configNames = (args.configs ?? 'none,none-again,busy-1pct,datadog-pprof-128k,sampler,heapwatch').split(',');
// --versus=<configuration>: also compare every configuration with that one, round by round (the
// ratio of their two ratios to the bare app), e.g. heapwatch against @datadog/pprof alone.
const versus = args.versus;
if (versus !== undefined && !configNames.includes(versus)) throw new Error(`--versus=${versus} is not among --configs`);
// --reference=<configuration>: what every configuration is measured between (default: the bare app).
const reference = args.reference ?? 'none';

// The app: the bare routes of bench/servers/express-app.mjs, behind one switch layer that every
// configuration shares (so that mounting heapwatch costs what heapwatch costs, not a new layer).
let mounted = null;
let busyIterations = 0;
let sink = 0;
const app = express();
app.use((req, res, next) => (mounted ? mounted(req, res, next) : next()));
app.use((_req, _res, next) => {
  for (let i = 0; i < busyIterations; i++) sink = (sink * 31 + i) | 0;
  next();
});
addBenchRoutes(app);

const { default: pprof } = await import('@datadog/pprof');
const { default: Pyroscope } = await import('@pyroscope/nodejs');

let pyroscopeSink;
/** A server on loopback that takes whatever Pyroscope pushes; its address. */
function listenOnLoopback() {
  return new Promise((resolve) => {
    const server = createServer((req, res) => req.resume().on('end', () => res.end()));
    server.listen(0, '127.0.0.1', () => {
      server.unref();
      resolve(`http://127.0.0.1:${server.address().port}`);
    });
  });
}

/** Each configuration: what turns it on and off. Intervals and depths say which sampler runs. */
const configs = {
  none: { on() {}, off() {} },
  // V8's sampler through @datadog/pprof directly, as dd-trace runs it (64 frames), at heapwatch's interval and at dd-trace's.
  'datadog-pprof-128k': { on: () => pprof.heap.start(128 * 1024, 64), off: () => pprof.heap.stop() },
  'datadog-pprof-512k': { on: () => pprof.heap.start(512 * 1024, 64), off: () => pprof.heap.stop() },
  // @pyroscope/nodejs heap profiling at its defaults (512 KiB), pushing to a sink on loopback.
  pyroscope: {
    async on() {
      pyroscopeSink ??= await listenOnLoopback();
      Pyroscope.init({ serverAddress: pyroscopeSink, appName: 'heapwatch-bench' });
      Pyroscope.startHeapProfiling();
    },
    off: () => Pyroscope.stopHeapProfiling(),
  },
  // heapwatch's startSampling(): the same sampler through heapwatch's seam.
  sampler: { on: () => startSampling(), off: () => stopSampling() },
  'sampler-512k': { on: () => startSampling({ samplingIntervalBytes: 512 * 1024 }), off: () => stopSampling() },
  // The sampler and the 'gc' performance observer the monitor keeps.
  'sampler-gc-observer': (() => {
    let observer;
    return {
      on() {
        startSampling();
        observer = new PerformanceObserver(() => {});
        observer.observe({ entryTypes: ['gc'] });
      },
      off() {
        observer.disconnect();
        stopSampling();
      },
    };
  })(),
  // The monitor (sampler, GC observer, readings every 10 s, clean readings, forced GCs) without the middleware.
  monitor: (() => {
    let monitor;
    return {
      on() {
        monitor = createHeapMonitor({ logger: false }).start();
      },
      off() {
        monitor.stop();
      },
    };
  })(),
  // The monitor with readings so rare that none falls in the run: the sampler, the GC observer and
  // the clean readings' machinery, without the readings' own cost.
  'monitor-idle': (() => {
    let monitor;
    return {
      on() {
        monitor = createHeapMonitor({ logger: false, intervalMs: 3_600_000, windowMs: 14_400_000 }).start();
      },
      off() {
        monitor.stop();
      },
    };
  })(),
  // heapwatch as a user mounts it, and without prom-client's standard metrics.
  heapwatch: mountHeapwatch({ logger: false }),
  // With an OpenTelemetry MeterProvider whose reader collects every second (its batch callback).
  'heapwatch-otel': (() => {
    let provider;
    return {
      on() {
        provider = new MeterProvider({ readers: [new PeriodicExportingMetricReader({ exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE), exportIntervalMillis: 1000 })] });
        mounted = heapwatch({ logger: false, meterProvider: provider });
        mounted.monitor.on('reading', ({ durationMs }) => readingDurations.push(durationMs));
      },
      off() {
        mounted.stop();
        mounted = null;
        void provider.shutdown();
      },
    };
  })(),
  'heapwatch-512k': mountHeapwatch({ logger: false, samplingIntervalBytes: 512 * 1024 }),
  // heapwatch without its Buffer sampler (issue 22): \`Buffer\` left as Node made it.
  'heapwatch-no-buffer-sampling': mountHeapwatch({ logger: false, bufferSampling: false }),
  // With it on: at its default interval (bufferSamplingIntervalBytes, 512 KiB, V8's; it was 4 MiB
  // when BENCHMARKS.md's "the Buffer sampler's cost" measured this configuration), at 512 KiB
  // named, and at 4 MiB.
  'heapwatch-buffer-sampling': mountHeapwatch({ logger: false, bufferSampling: true }),
  'heapwatch-buffer-sampling-512k': mountHeapwatch({ logger: false, bufferSampling: true, bufferSamplingIntervalBytes: 512 * 1024 }),
  'heapwatch-buffer-sampling-4096k': mountHeapwatch({ logger: false, bufferSampling: true, bufferSamplingIntervalBytes: 4 * 1024 * 1024 }),
  'heapwatch-no-default-metrics': mountHeapwatch({ logger: false, defaultMetrics: false }),
};

/**
 * Durations of heapwatch's readings (ms) while measured: a reading comes every 10 s, so few fall in
 * a measurement of a second or two; their share of the time is reported beside the table instead.
 */
const readingDurations = [];

function mountHeapwatch(options) {
  return {
    on() {
      mounted = heapwatch(options);
      mounted.monitor.on('reading', ({ durationMs }) => readingDurations.push(durationMs));
    },
    off() {
      mounted.stop();
      mounted = null;
    },
  };
}

/**
 * A configuration by name: one of the above, or a name built from them — a sampler grid
 * (`pprof-<KiB>k-d<depth>` through @datadog/pprof, `sampler-<KiB>k-d<depth>` through heapwatch's
 * startSampling), `busy-<p>pct`, `<name>-again` (the same configuration, another row) or `a+b`.
 */
function configuration(name) {
  if (name in configs) return configs[name];
  const again = /^(.+)-again$/.exec(name);
  if (again) return configuration(again[1]);
  if (name.includes('+')) {
    const parts = name.split('+').map(configuration);
    return {
      async on() {
        for (const part of parts) await part.on();
      },
      async off() {
        for (const part of [...parts].reverse()) await part.off();
      },
    };
  }
  const busy = /^busy-(\d+(?:\.\d+)?)pct$/.exec(name);
  if (busy) {
    return {
      on() {
        busyIterations = Math.round(onePercentIterations * Number(busy[1]));
      },
      off() {
        busyIterations = 0;
      },
    };
  }
  // `layers-<n>-empty` / `layers-<n>-heapwatch`: an Express router in the switch layer, holding n
  // layers of an empty middleware or of one heapwatch() middleware (its monitor and sampler
  // running). The difference between n = 33 and n = 1, over 32, is what one more layer costs a
  // request: Express's routing of it and the middleware's own code — 32 times larger than the
  // cost of one, so resolved 32 times more finely.
  // `layers-<n>-prefixed`: heapwatch mounted under a path prefix (`router.use('/ops', heapwatch())`),
  // which Express skips for other paths with a path match instead of a call.
  const layers = /^layers-(\d+)-(empty|heapwatch|prefixed)$/.exec(name);
  if (layers) {
    const [, count, kind] = layers;
    let watch;
    return {
      on() {
        const router = express.Router();
        let layer = (_req, _res, next) => next();
        if (kind !== 'empty') {
          watch = heapwatch({ logger: false });
          layer = watch;
        }
        for (let i = 0; i < Number(count); i++) {
          if (kind === 'prefixed') router.use('/ops', layer);
          else router.use(layer);
        }
        mounted = router;
      },
      off() {
        mounted = null;
        watch?.stop();
      },
    };
  }
  // `buffer-sampler-<KiB>k`: heapwatch's Buffer sampler alone (its wrappers and samples), at that
  // interval, with no monitor started or stopped: beside a running `heapwatch-no-buffer-sampling`
  // (`heapwatch-no-buffer-sampling+buffer-sampler-4096k`) it is what the sampler adds to the request
  // path, without the readings of a monitor that starts anew every measurement. Its samples are
  // read (the dead let go) when it stops, as a monitor's readings do.
  const buffers = /^buffer-sampler-(\d+)k$/.exec(name);
  if (buffers) {
    return {
      on: () => bufferSampler.acquire(Number(buffers[1]) * 1024),
      off() {
        bufferSampler.read();
        bufferSampler.release();
      },
    };
  }
  // `buffer-wrappers-noop`: heapwatch's wrappers handing each Buffer to a function that does
  // nothing (no countdown, no sample); `buffer-wrappers-bare`: the thinnest wrapper there is
  // (`function (a, b, c) { return original.call(this, a, b, c); }`, one literal per factory) —
  // what swapping `Buffer`'s factories in and out costs by itself.
  if (name === 'buffer-wrappers-noop') return { on: () => installBufferWrappers(() => {}), off: () => removeBufferWrappers() };
  if (name === 'buffer-wrappers-bare') {
    const originals = { alloc: Buffer.alloc, from: Buffer.from, concat: Buffer.concat, allocUnsafe: Buffer.allocUnsafe };
    const bare = {
      alloc: function (a, b, c) {
        return originals.alloc.call(this, a, b, c);
      },
      from: function (a, b, c) {
        return originals.from.call(this, a, b, c);
      },
      concat: function (a, b, c) {
        return originals.concat.call(this, a, b, c);
      },
      allocUnsafe: function (a, b, c) {
        return originals.allocUnsafe.call(this, a, b, c);
      },
    };
    return { on: () => Object.assign(Buffer, bare), off: () => Object.assign(Buffer, originals) };
  }
  const grid = /^(pprof|sampler)-(\d+)k-d(\d+)$/.exec(name);
  if (grid) {
    const [, via, kib, depth] = grid;
    const samplingIntervalBytes = Number(kib) * 1024;
    const stackDepth = Number(depth);
    return via === 'pprof'
      ? { on: () => pprof.heap.start(samplingIntervalBytes, stackDepth), off: () => pprof.heap.stop() }
      : { on: () => startSampling({ samplingIntervalBytes, stackDepth }), off: () => stopSampling() };
  }
  throw new Error(`Unknown configuration "${name}" - expected one of ${Object.keys(configs).join(', ')}, busy-<p>pct, pprof-<KiB>k-d<depth>, sampler-<KiB>k-d<depth>, layers-<n>-empty, layers-<n>-heapwatch, layers-<n>-prefixed, <name>-again or a+b`);
}
const chosen = Object.fromEntries([...new Set([...configNames, reference])].map((name) => [name, configuration(name)]));

/**
 * A collected heap (node --expose-gc) before a configuration starts, so that a major GC left over
 * from the previous one is not charged to it. Before, not inside, its measurement: heapwatch takes
 * a reading after every major GC, and one forced per measurement would charge it a reading per
 * second instead of the few that V8's own major GCs bring.
 */
function collect() {
  globalThis.gc?.();
}

/**
 * Injected requests complete in microtasks: without a pause the event loop would never turn, and
 * no timer (heapwatch's readings, the metrics' timers) nor observer would run while measured. A
 * server turns its loop between the batches of requests that arrive together: so does this, every
 * `BATCH` requests.
 */
const BATCH = 10;

async function cpuPerRequestMicros(count) {
  const before = process.cpuUsage();
  for (let i = 0; i < count; i++) {
    const status = await inject(app, `${route}?i=${i}`);
    if (status !== 200) throw new Error(`${route} answered ${status}`);
    if (i % BATCH === BATCH - 1) await new Promise(setImmediate);
  }
  const used = process.cpuUsage(before);
  return (used.user + used.system) / count;
}

// Warm-up, then the calibration, measured where the loop runs (in its middleware, optimised as it
// will be): the CPU time a large number of iterations adds per request gives the cost of one, and
// so the iterations that cost 1 % of a bare request.
await cpuPerRequestMicros(requests);
const probeIterations = 200_000;
const probeCosts = [];
const bareCosts = [];
for (let i = 0; i < 5; i++) {
  bareCosts.push(await cpuPerRequestMicros(Math.ceil(requests / 5)));
  busyIterations = probeIterations;
  probeCosts.push(await cpuPerRequestMicros(Math.ceil(requests / 10)));
  busyIterations = 0;
}
const bare = median(bareCosts);
const onePercentIterations = (0.01 * bare * probeIterations) / Math.max(median(probeCosts) - bare, 1e-3);

const ratios = Object.fromEntries(configNames.map((name) => [name, []]));
const totals = Object.fromEntries(configNames.map((name) => [name, []]));
const micros = Object.fromEntries(configNames.map((name) => [name, []]));
// Each round measures the reference between every two configurations, and each configuration is
// compared with the mean of the reference measurements just before and just after it: on a shared
// machine the speed of a core drifts over seconds (another tenant's load, frequency), and a
// comparison a second apart sees less of that drift than one across the whole round.
/** One measurement of a configuration: switched on, settled (first reading, JIT of the new path), measured, switched off. */
async function measure(config) {
  collect();
  await config.on();
  await cpuPerRequestMicros(Math.ceil(requests / 10));
  const perRequest = await cpuPerRequestMicros(requests);
  await config.off();
  return perRequest;
}
const measured = configNames.filter((name) => name !== reference);
await cpuPerRequestMicros(Math.ceil(requests / 10));
for (let round = 0; round < rounds; round++) {
  const order = measured.map((_, i) => measured[(i + round) % measured.length]);
  let referenceBefore = await measure(chosen[reference]);
  const references = [referenceBefore];
  for (const name of order) {
    const perRequest = await measure(chosen[name]);
    const referenceAfter = await measure(chosen[reference]);
    references.push(referenceAfter);
    const around = (referenceBefore + referenceAfter) / 2;
    micros[name].push(perRequest);
    ratios[name].push(perRequest / around);
    totals[name].push([perRequest, around]);
    referenceBefore = referenceAfter;
  }
  if (configNames.includes(reference)) {
    micros[reference].push(median(references));
    ratios[reference].push(1);
    totals[reference].push([1, 1]);
  }
  process.stderr.write(`round ${round + 1}/${rounds}\n`);
}

/**
 * The ratio of total CPU over all rounds (configuration / bare app): unlike the median, it keeps
 * the rare costly measurements — a tick every 10 s lands in few of them — at their weight.
 */
function ratioOfTotals(pairs) {
  let config = 0;
  let bareTotal = 0;
  for (const [a, b] of pairs) {
    config += a;
    bareTotal += b;
  }
  return config / bareTotal;
}

console.log(`CPU per request on ${route}, ${rounds} rounds × ${requests} requests, Node ${process.version}, against ${reference === 'none' ? 'the bare app' : reference}; calibration: ${Math.round(onePercentIterations)} iterations = 1 % of ${bare.toFixed(1)} µs (the bare app)`);
console.log('');
console.log(`| configuration | CPU per request vs ${reference} (median of rounds) | 95 % interval | total CPU vs ${reference} (all rounds) | 95 % interval | µs per request (median) |`);
console.log('|---|---|---|---|---|---|');
for (const name of configNames) {
  const [low, high] = bootstrap(ratios[name]);
  const [totalLow, totalHigh] = bootstrap(totals[name], ratioOfTotals);
  console.log(
    `| ${name} | ${median(ratios[name]).toFixed(4)} | ${low.toFixed(4)}–${high.toFixed(4)} | ${ratioOfTotals(totals[name]).toFixed(4)} | ${totalLow.toFixed(4)}–${totalHigh.toFixed(4)} | ${median(micros[name]).toFixed(2)} |`,
  );
}
if (readingDurations.length > 0) {
  const intervalMs = 10_000;
  console.log('');
  console.log(
    `heapwatch's readings (the first of each start, and any that fell in a measurement): ${readingDurations.length}, median ${median(readingDurations).toFixed(2)} ms, max ${Math.max(...readingDurations).toFixed(2)} ms: at one reading per ${intervalMs / 1000} s, ${((100 * median(readingDurations)) / intervalMs).toFixed(3)} % of one core.`,
  );
}
if (versus !== undefined) {
  console.log('');
  console.log(`Against ${versus}, round by round (each configuration's ratio to the bare app over ${versus}'s in the same round):`);
  console.log('');
  console.log(`| configuration | CPU per request vs ${versus} (median of rounds) | 95 % interval | total CPU vs ${versus} | 95 % interval |`);
  console.log('|---|---|---|---|---|');
  for (const name of configNames) {
    if (name === reference || name === versus) continue;
    const paired = ratios[name].map((ratio, round) => ratio / ratios[versus][round]);
    const pairedTotals = totals[name].map(([config], round) => [config, totals[versus][round][0]]);
    const [low, high] = bootstrap(paired);
    const [totalLow, totalHigh] = bootstrap(pairedTotals, ratioOfTotals);
    console.log(`| ${name} | ${median(paired).toFixed(4)} | ${low.toFixed(4)}–${high.toFixed(4)} | ${ratioOfTotals(pairedTotals).toFixed(4)} | ${totalLow.toFixed(4)}–${totalHigh.toFixed(4)} |`);
  }
}

// One more layer: the slope between the fewest and the most layers of each kind, round by round.
for (const kind of ['empty', 'heapwatch', 'prefixed']) {
  // By count, the configurations of this kind (alone or with others: `pprof-512k-d64+layers-33-empty`).
  const byCount = new Map();
  for (const name of configNames) {
    const match = new RegExp(`(?:^|\\+)layers-(\\d+)-${kind}$`).exec(name);
    if (match) byCount.set(Number(match[1]), name);
  }
  if (byCount.size < 2) continue;
  const [fewest, most] = [Math.min(...byCount.keys()), Math.max(...byCount.keys())];
  const [few, many] = [ratios[byCount.get(fewest)], ratios[byCount.get(most)]];
  const perLayer = many.map((ratio, round) => (ratio - few[round]) / (most - fewest));
  const [low, high] = bootstrap(perLayer);
  const referenceMicros = micros[reference]?.length ? median(micros[reference]) : 0;
  console.log('');
  console.log(
    `One more layer of ${{ empty: 'an empty middleware', heapwatch: "heapwatch's middleware", prefixed: "heapwatch's middleware under a path prefix" }[kind]} (${byCount.get(most)} − ${byCount.get(fewest)}, over ${most - fewest}): ` +
      `${(100 * median(perLayer)).toFixed(3)} % of a ${reference} request [${(100 * low).toFixed(3)}–${(100 * high).toFixed(3)} %]` +
      (referenceMicros > 0 ? `, ${(median(perLayer) * referenceMicros * 1000).toFixed(0)} ns` : ''),
  );
}
