// heapwatch's own share of the main thread, from a CPU profile of an Express app under load: the
// finer check of what bench/cpu-per-request.mjs cannot resolve below about ±1 % on this machine.
// heapwatch runs V8's sampler through the very call `@datadog/pprof` makes (`heap.start(interval,
// depth)`, src/v8/native-reader.ts), so what it may cost beyond `@datadog/pprof` alone is its own
// JavaScript — the middleware, readings, the major-GC watch, the metrics it serves — and the
// garbage that work leaves. V8's CPU profiler attributes every millisecond of the main thread to a
// stack; a sample is heapwatch's when, walking from the running function towards the root, the
// first frame that is not Node's or V8's own is in heapwatch's `dist/` (or in prom-client, counted
// apart: heapwatch registers prom-client's standard metrics when the app has none). Thousands of
// samples a second, over minutes, resolve a share far below 0.1 %.
//
//   node --expose-gc bench/own-share.mjs [--config=heapwatch|heapwatch-otel|pprof] [--route=/json|/hello] [--seconds=120] [--scrape-seconds=15]
//   taskset -c 1 node --expose-gc bench/own-share.mjs …   (one core)
//
// heapwatch at its defaults (`app.use(heapwatch())`, readings every 10 s and after V8's major GCs,
// prom-client's standard metrics), `/metrics` scraped every 15 s as Prometheus would; `pprof` is
// `@datadog/pprof`'s heap profiler alone at the same interval and depth, for the garbage
// collector's share beside it. Requests are injected in-process (bench/lib/inject.mjs). The 95 %
// interval resamples 10-second blocks of the profile (a reading's samples come together). Prints
// Markdown.
import { dirname } from 'node:path';
import { Session } from 'node:inspector';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { bootstrap } from './lib/distribution.mjs';
import { inject } from './lib/inject.mjs';
import { addBenchRoutes } from './lib/routes.mjs';
import { heapwatch } from 'heapwatch';

const args = Object.fromEntries(process.argv.slice(2).map((arg) => arg.replace(/^--/, '').split('=')));
const config = args.config ?? 'heapwatch';
const route = args.route ?? '/json';
const seconds = Number(args.seconds ?? 120);
const scrapeSeconds = Number(args['scrape-seconds'] ?? 15);
const PROFILE_INTERVAL_US = 500;
const BLOCK_MS = 10_000;

const app = express();
let watch;
let pprofHeap;
if (config === 'heapwatch') {
  watch = heapwatch({ logger: false });
  app.use(watch);
} else if (config === 'heapwatch-otel') {
  // With an OpenTelemetry SDK collecting every second (the SDK's default is 60 s): heapwatch's
  // batch callback at each collection, and the SDK's own work, counted apart.
  const { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } = await import('@opentelemetry/sdk-metrics');
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const meterProvider = new MeterProvider({ readers: [new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 1000 })] });
  // The exporter keeps every batch: emptied at each turn of the load below.
  setInterval(() => exporter.reset(), 5000).unref();
  watch = heapwatch({ logger: false, meterProvider });
  app.use(watch);
} else if (config === 'pprof') {
  pprofHeap = (await import('@datadog/pprof')).default.heap;
  pprofHeap.start(512 * 1024, 64);
} else {
  throw new Error(`--config must be heapwatch, heapwatch-otel or pprof, received ${config}`);
}
addBenchRoutes(app);

// Warm up (JIT, the first readings), then profile the main thread while the load runs.
const warmUntil = Date.now() + 5_000;
for (let i = 0; Date.now() < warmUntil; i++) {
  await inject(app, `${route}?i=${i}`);
  if (i % 10 === 9) await new Promise(setImmediate);
}
globalThis.gc?.();

const session = new Session();
session.connect();
session.post('Profiler.enable');
session.post('Profiler.setSamplingInterval', { interval: PROFILE_INTERVAL_US });
session.post('Profiler.start');
const cpuBefore = process.cpuUsage();
const started = Date.now();
let requests = 0;
let scrapes = 0;
let nextScrape = started;
while (Date.now() - started < seconds * 1000) {
  if (watch && Date.now() >= nextScrape) {
    nextScrape += scrapeSeconds * 1000;
    scrapes++;
    if ((await inject(app, '/metrics')) !== 200) throw new Error('/metrics failed');
  }
  if ((await inject(app, `${route}?i=${requests}`)) !== 200) throw new Error(`${route} failed`);
  requests++;
  // Injected requests complete in microtasks: the event loop turns every 10, as a server's does
  // between batches of requests, so that heapwatch's timers and observers run.
  if (requests % 10 === 0) await new Promise(setImmediate);
}
const cpu = process.cpuUsage(cpuBefore);
const profile = await new Promise((resolve, reject) => session.post('Profiler.stop', (error, result) => (error ? reject(error) : resolve(result.profile))));
session.disconnect();
const stats = watch?.monitor.stats();
watch?.stop();
pprofHeap?.stop();

// ---- attribution -----------------------------------------------------------------------------

const heapwatchDist = dirname(fileURLToPath(import.meta.resolve('heapwatch')));
const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
const parentOf = new Map();
for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);

/** Whose work a frame is, or undefined for Node's and V8's own (internals, built-ins, natives). */
function ownerOfFrame({ url, functionName }) {
  if (!url) return undefined;
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  if (path.startsWith('node:') || !path.startsWith('/')) return undefined;
  if (path.startsWith(heapwatchDist)) {
    // The middleware function, on every request: bench/cpu-per-request.mjs's layers measure the
    // request path more finely (the profiler charges a call in flight to its caller's frame).
    return functionName === 'middleware' && path.endsWith('/express/middleware.js') ? 'heapwatch: its middleware function' : 'heapwatch: between requests';
  }
  if (path.includes('/node_modules/prom-client/')) return 'prom-client';
  if (path.includes('/node_modules/@opentelemetry/')) return 'OpenTelemetry SDK';
  return 'app';
}

const ownerCache = new Map();
/** A sample's owner: the first frame from the leaf that is someone's; else V8's own categories. */
function ownerOf(id) {
  let owner = ownerCache.get(id);
  if (owner !== undefined) return owner;
  for (let at = id; at !== undefined && owner === undefined; at = parentOf.get(at)) owner = ownerOfFrame(nodes.get(at).callFrame);
  if (owner === undefined) {
    const name = nodes.get(id).callFrame.functionName;
    owner = name === '(garbage collector)' ? 'garbage collector' : name === '(idle)' ? 'idle' : name === '(program)' ? 'V8 and Node (no script)' : 'Node internals';
  }
  ownerCache.set(id, owner);
  return owner;
}

// Each sample lasts until the next one; blocks of 10 s for the interval.
const blocks = [];
let at = profile.startTime;
for (let i = 0; i < profile.samples.length; i++) {
  const us = profile.timeDeltas[i + 1] ?? 0;
  const block = Math.floor((at - profile.startTime) / 1000 / BLOCK_MS);
  at += profile.timeDeltas[i] ?? 0;
  blocks[block] ??= new Map();
  const owner = ownerOf(profile.samples[i]);
  blocks[block].set(owner, (blocks[block].get(owner) ?? 0) + us);
}
const full = blocks.filter(Boolean);
const owners = [...new Set(full.flatMap((block) => [...block.keys()]))].sort();
const share = (chosen, owner) => {
  let mine = 0;
  let busy = 0;
  for (const block of chosen) {
    for (const [who, us] of block) if (who !== 'idle') busy += us;
    mine += block.get(owner) ?? 0;
  }
  return busy === 0 ? 0 : mine / busy;
};
/** 95 % interval of an owner's share, resampling the 10-second blocks. */
const interval = (owner) => bootstrap(full, (blocks) => share(blocks, owner));
const percent = (x) => `${(100 * x).toFixed(3)} %`;
const totalUs = full.reduce((sum, block) => sum + [...block.values()].reduce((a, b) => a + b, 0), 0);

console.log(
  `Main-thread CPU profile of ${route} under in-process load, ${config}, Node ${process.version}: ${seconds} s, ${requests} requests` +
    `${watch ? `, ${scrapes} scrapes of /metrics, ${stats.readings} readings (${stats.cleanReadings} after major GCs), ${stats.requestedGcs} forced GCs` : ''}; ` +
    `${(totalUs / 1e6).toFixed(1)} s profiled at ${PROFILE_INTERVAL_US} µs, process CPU ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s (all threads)`,
);
console.log('');
console.log('| whose work | share of the busy main thread | 95 % interval (10 s blocks) |');
console.log('|---|---|---|');
for (const owner of owners) {
  if (owner === 'idle') continue;
  const [low, high] = interval(owner);
  console.log(`| ${owner} | ${percent(share(full, owner))} | ${percent(low)}–${percent(high)} |`);
}
if (watch) {
  // heapwatch's functions by self time, for where its share goes.
  const self = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    if (!ownerOf(profile.samples[i]).startsWith('heapwatch')) continue;
    let frame;
    for (let id = profile.samples[i]; id !== undefined && !frame; id = parentOf.get(id)) if (ownerOfFrame(nodes.get(id).callFrame)?.startsWith('heapwatch')) frame = nodes.get(id).callFrame;
    const key = `${frame.functionName || '(anonymous)'} (${fileURLToPath(frame.url).slice(heapwatchDist.length + 1)}:${frame.lineNumber + 1})`;
    self.set(key, (self.get(key) ?? 0) + (profile.timeDeltas[i + 1] ?? 0));
  }
  console.log('');
  console.log("heapwatch's share by its innermost function (callees in Node and V8 included):");
  console.log('');
  console.log('| function | share of the busy main thread |');
  console.log('|---|---|');
  for (const [key, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 12)) console.log(`| \`${key}\` | ${percent(us / totalUs)} |`);
}
