// Hostile load: does heapwatch stay within its bounds when the heap holds far more distinct
// allocation sites than it tracks, on deep recursive stacks, under request load? (Issue 13.)
//   nice -n 10 taskset -c 0 node --expose-gc bench/hostile-load.mjs [--sites=100000] [--minutes=10]
//     [--depth=200] [--interval=5000] [--rate=100] [--scrape=60] [--reading-budget=MS] [--out=DIR] [--json=1]
// Writes hostile-load.md into DIR (by default bench/results/<UTC stamp>/) and heapwatch's log
// (pino) beside it; --json=1 prints the raw result as one JSON line instead (what
// test/monitor/hostile-load.test.ts reads), with heapwatch's log on stderr.
//
// One process: an Express app on 127.0.0.1:0 whose GET /work calls 4 random sites through the
// recursion and keeps the results in a ring of 5000 (allocation churn at a steady footprint),
// `--sites` distinct sites retained live from the start (bench/lib/deep-sites.mjs), and a
// loopback client sending `--rate` requests/s throughout. heapwatch runs as the middleware with
// a 1 KiB sampling interval (so that the sites are seen: ~90 % hold a sample), readings every
// `--interval` ms and a window of 120 intervals (full window: 121 readings, the most a window
// keeps), everything else at its defaults (maxTrackedSites 2000, topSites 10).
//
// Own retained memory, as bench/own-memory.mjs takes it: heapUsed + arrayBuffers after two gc()
// calls, minus the same figure taken once the sites are live and the load has warmed up, with the
// sampler already on and no monitor yet (heapwatch is mounted then, behind a middleware that
// waited for it). The app's own drift, if any, counts against heapwatch. Every `--scrape` seconds:
// that figure, the monitor's stats, and the /metrics page, whose site-labelled series name at most
// topSites + the suspects on the same page.
//
// The documented bound (docs/api.md): the series, maxTrackedSites × min(windowMs / intervalMs + 1,
// 121) × 16 bytes, plus caches of at most 50 000 interned and 50 000 source-mapped frames. The
// docs count the caches in frames; in bytes, this script allows 512 bytes per cached frame (a
// frozen frame of four fields with its key string, its map entry and bookkeeping: about 250
// bytes on Node 20 x64, so twice that) and 64 frame references (8 bytes each) per tracked site's
// traceback.
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import express from 'express';
import pino from 'pino';
import { heapwatch, startSampling } from 'heapwatch';
import { parseFlags, shellCommand } from './lib/cli.mjs';
import { deepSites } from './lib/deep-sites.mjs';
import { LatencyHistogram } from './lib/latency.mjs';
import { ownFramesOf } from './lib/own-files.mjs';
import { resultsDir } from './lib/results-dir.mjs';
import { metricValue, siteSeriesOf } from './lib/site-series.mjs';

const flags = parseFlags(process.argv.slice(2), { sites: '100000', minutes: '10', depth: '200', interval: '5000', rate: '100', scrape: '60', out: '', json: '0', 'reading-budget': '' });
const SITES = Number(flags.sites);
const DEPTH = Number(flags.depth);
const INTERVAL_MS = Number(flags.interval);
const WINDOW_MS = 120 * INTERVAL_MS;
const RUN_MS = Number(flags.minutes) * 60_000;
const SCRAPE_MS = Number(flags.scrape) * 1000;
const RATE = Number(flags.rate);
const JSON_OUT = flags.json === '1';
const SAMPLING_INTERVAL_BYTES = 1024;
// heapwatch's default unless given: a reading of this many stacks outlasts it, and heapwatch then
// spaces its readings to 1 % of the main thread. The test gives a large one, to watch the bounds
// over many readings in 30 s.
const READING_BUDGET_MS = flags['reading-budget'] === '' ? undefined : Number(flags['reading-budget']);
const MAX_TRACKED_SITES = 2000; // heapwatch's default
const TOP_SITES = 10; // heapwatch's default
const CHURN_PER_REQUEST = 4;
const RING = 5000;
// A client that waits long: on a starved core a reading can hold a request for tens of seconds, and
// the latency figures say how long; only a request unanswered after 3 minutes counts as failed.
const REQUEST_TIMEOUT_MS = 180_000;
const MiB = 2 ** 20;
const out = JSON_OUT ? undefined : resultsDir(flags.out);
const progress = (message) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${message}\n`);

const bound = {
  seriesBytes: MAX_TRACKED_SITES * Math.min(WINDOW_MS / INTERVAL_MS + 1, 121) * 16,
  cacheBytes: (50_000 + 50_000) * 512,
  tracebackBytes: MAX_TRACKED_SITES * 64 * 8,
};
bound.totalBytes = bound.seriesBytes + bound.cacheBytes + bound.tracebackBytes;

function settledMemory() {
  globalThis.gc();
  globalThis.gc();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
}

// ---- the application: every site live, deep stacks, churn on each request ----------------------

startSampling({ samplingIntervalBytes: SAMPLING_INTERVAL_BYTES });
const started = Date.now();
const { call } = await deepSites(SITES, DEPTH);
const retained = Array.from({ length: SITES }, (_, i) => call(i));
progress(`${SITES} sites live at depth ${DEPTH} in ${((Date.now() - started) / 1000).toFixed(0)} s`);

// The ring starts full, so that its footprint is in the baseline and does not count as heapwatch's.
const ring = Array.from({ length: RING }, () => call(Math.floor(Math.random() * SITES)));
let churned = 0;
let watch;
const app = express();
// heapwatch is mounted once the baseline is taken; until then this layer passes requests on.
app.use((req, res, next) => (watch ? watch(req, res, next) : next()));
app.get('/work', function work(_req, res) {
  for (let i = 0; i < CHURN_PER_REQUEST; i++) ring[churned++ % RING] = call(Math.floor(Math.random() * SITES));
  res.json({ churned });
});
const server = app.listen(0, '127.0.0.1');
// Node closes a keep-alive connection idle for 5 s; a client may send on it at that moment and get
// ECONNRESET, a race of the benchmark's client, not the app's failure. Idle connections stay open.
server.keepAliveTimeout = 120_000;
await new Promise((resolve) => server.once('listening', resolve));
const { port } = server.address();
const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });

// Scrapes open a connection of their own, as Prometheus does, apart from the load's pool.
function get(path, through = agent) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: through, timeout: REQUEST_TIMEOUT_MS }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk) => (body += chunk));
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`${path}: ${res.statusCode}`))));
    });
    req.on('timeout', () => req.destroy(new Error(`${path}: no answer in ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', reject);
  });
}

const requests = { sent: 0, answered: 0, failed: 0, errors: {} };
const latency = new LatencyHistogram();
const load = setInterval(() => {
  for (let i = 0; i < RATE / 20; i++) {
    requests.sent++;
    const sentAt = performance.now();
    get('/work').then(
      () => {
        requests.answered++;
        // Counted once heapwatch is on: the readings are what may hold a request up.
        if (watch) latency.record(performance.now() - sentAt);
      },
      (error) => {
        requests.failed++;
        requests.errors[error.message] = (requests.errors[error.message] ?? 0) + 1;
      },
    );
  }
}, 50);

// ---- baseline, then heapwatch ---------------------------------------------------------------------

const warmupMs = Math.min(20_000, RUN_MS / 10);
await new Promise((resolve) => setTimeout(resolve, warmupMs));
const baselineBytes = settledMemory();
const logger = JSON_OUT ? pino(pino.destination(2)) : pino(pino.destination({ dest: join(out, 'hostile-load.log'), sync: true }));
watch = heapwatch({ samplingIntervalBytes: SAMPLING_INTERVAL_BYTES, intervalMs: INTERVAL_MS, windowMs: WINDOW_MS, logger, ...(READING_BUDGET_MS === undefined ? {} : { readingBudgetMs: READING_BUDGET_MS }) });
const suspicions = [];
watch.monitor.on('leak-suspected', (report) => {
  suspicions.push({ site: `${report.site.functionName} ${report.site.file}:${report.site.line}`, ownFrames: ownFramesOf(report) });
});
progress(`baseline ${(baselineBytes / MiB).toFixed(1)} MiB after ${warmupMs / 1000} s of load; heapwatch on, every ${INTERVAL_MS} ms, window ${WINDOW_MS / 1000} s`);

const scrapes = [];
let maxTickMs = 0;
const ticks = setInterval(() => (maxTickMs = Math.max(maxTickMs, watch.monitor.stats().lastTickMs ?? 0)), 250);
const watchStarted = Date.now();
for (let n = 1; n * SCRAPE_MS <= RUN_MS; n++) {
  await new Promise((resolve) => setTimeout(resolve, watchStarted + n * SCRAPE_MS - Date.now()));
  const page = await get('/metrics', false);
  const { series, sites } = siteSeriesOf(page);
  const stats = watch.monitor.stats();
  const scrape = {
    seconds: Math.round((Date.now() - watchStarted) / 1000),
    ownBytes: settledMemory() - baselineBytes,
    siteSeries: series,
    siteLabels: sites,
    suspectsOnPage: metricValue(page, 'heapwatch_leak_suspects') ?? 0,
    droppedOnPage: metricValue(page, 'heapwatch_sites_dropped'),
    trackedSites: stats.trackedSites,
    droppedSites: stats.droppedSites,
    readings: stats.readings,
    cleanReadings: stats.cleanReadings,
    readingErrors: stats.readingErrors,
    ownSuspects: watch.monitor.suspects().filter((report) => ownFramesOf(report).length > 0).length,
  };
  scrapes.push(scrape);
  progress(
    `${scrape.seconds} s: own ${(scrape.ownBytes / MiB).toFixed(1)} MiB (bound ${(bound.totalBytes / MiB).toFixed(1)}), ${scrape.siteLabels} labelled sites (bound ${TOP_SITES} + ${scrape.suspectsOnPage}), ` +
      `${scrape.trackedSites} tracked, ${scrape.droppedSites} dropped, ${scrape.readings} readings, ${requests.answered}/${requests.sent} answered`,
  );
}

clearInterval(load);
clearInterval(ticks);
// The last requests get their answers before the end is counted.
const deadline = Date.now() + REQUEST_TIMEOUT_MS + 1000;
while (requests.answered + requests.failed < requests.sent && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
const final = watch.monitor.stats();
watch.stop();
server.close();
agent.destroy();
retained.length = 0;

const result = {
  node: process.version,
  options: { sites: SITES, depth: DEPTH, intervalMs: INTERVAL_MS, windowMs: WINDOW_MS, samplingIntervalBytes: SAMPLING_INTERVAL_BYTES, maxTrackedSites: MAX_TRACKED_SITES, topSites: TOP_SITES, rate: RATE, runMs: RUN_MS },
  bound,
  baselineBytes,
  scrapes,
  suspicions,
  requests,
  latencyMs: { p50: latency.quantileMs(0.5), p99: latency.quantileMs(0.99), max: latency.maxMs },
  cpuSeconds: process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6,
  wallSeconds: (Date.now() - started) / 1000,
  readings: final.readings,
  readingErrors: final.readingErrors,
  maxTickMs,
};
if (JSON_OUT) {
  console.log(JSON.stringify(result));
} else {
  const mib = (bytes) => (bytes / MiB).toFixed(1);
  const maxOwn = Math.max(...scrapes.map((s) => s.ownBytes));
  const maxLabels = Math.max(...scrapes.map((s) => s.siteLabels - s.suspectsOnPage));
  const ownSuspicions = suspicions.filter((s) => s.ownFrames.length > 0);
  const lines = [
    `# Hostile load: ${SITES} distinct sites, ${DEPTH}-frame stacks, ${RATE} requests/s`,
    '',
    `\`${shellCommand()}\` — Node ${process.version}, started ${new Date(started).toISOString()}, heapwatch watching for ${mib(RUN_MS / 60_000 * MiB)} min after a ${warmupMs / 1000} s warm-up.`,
    '',
    `heapwatch: samplingIntervalBytes ${SAMPLING_INTERVAL_BYTES}, intervalMs ${INTERVAL_MS}, windowMs ${WINDOW_MS}, maxTrackedSites ${MAX_TRACKED_SITES} and topSites ${TOP_SITES} (defaults). ` +
      `Own retained memory: heapUsed + arrayBuffers after two gc() calls minus the same before heapwatch was mounted (sites live, load warmed up, sampler on): ${mib(baselineBytes)} MiB.`,
    '',
    `Documented bound: series ${MAX_TRACKED_SITES} × ${Math.min(WINDOW_MS / INTERVAL_MS + 1, 121)} × 16 B = ${mib(bound.seriesBytes)} MiB, ` +
      `caches 100 000 frames × 512 B = ${mib(bound.cacheBytes)} MiB, tracebacks ${MAX_TRACKED_SITES} × 64 × 8 B = ${mib(bound.tracebackBytes)} MiB: **${mib(bound.totalBytes)} MiB**. ` +
      `Cardinality bound: topSites ${TOP_SITES} + the suspects on the same page.`,
    '',
    '| s | own MiB | bound MiB | labelled sites on /metrics (series) | bound | heapwatch_sites_dropped | tracked | dropped (stats) | readings (clean) | reading errors | suspects in heapwatch files |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...scrapes.map(
      (s) =>
        `| ${s.seconds} | ${mib(s.ownBytes)} | ${mib(bound.totalBytes)} | ${s.siteLabels} (${s.siteSeries}) | ${TOP_SITES + s.suspectsOnPage} | ${s.droppedOnPage} | ${s.trackedSites} | ${s.droppedSites} | ${s.readings} (${s.cleanReadings}) | ${s.readingErrors} | ${s.ownSuspects} |`,
    ),
    '',
    `- Own retained memory: at most ${mib(maxOwn)} MiB against a bound of ${mib(bound.totalBytes)} MiB (series alone ${mib(bound.seriesBytes)}): ${maxOwn <= bound.totalBytes ? 'within' : '**over**'}.`,
    `- Site labels on /metrics: at most ${maxLabels} beyond the suspects (bound ${TOP_SITES}): ${maxLabels <= TOP_SITES ? 'within' : '**over**'}.`,
    `- Left out: ${scrapes.at(-1).droppedSites} sites of the latest reading untracked (heapwatch_sites_dropped ${scrapes.at(-1).droppedOnPage}), ${scrapes.at(-1).trackedSites} tracked.`,
    `- Suspicions raised: ${suspicions.length}${suspicions.length ? ` (${suspicions.map((s) => s.site).join('; ')})` : ''}; at or through heapwatch's own files: ${ownSuspicions.length}.`,
    `- Requests: ${requests.sent} sent (of ${Math.round((RATE * (RUN_MS + warmupMs)) / 1000)} at ${RATE}/s: the client shares the main thread, so it sends none while a reading holds it), ` +
      `${requests.answered} answered, ${requests.failed} failed${requests.failed ? ` (${JSON.stringify(requests.errors)})` : ''}. ` +
      `Latency while heapwatch was on: median ${result.latencyMs.p50.toFixed(1)} ms, 99th percentile ${result.latencyMs.p99.toFixed(0)} ms, longest ${result.latencyMs.max.toFixed(0)} ms ` +
      `(a request waits while a reading holds the main thread). Readings: ${final.readings}, ${final.readingErrors} failed; the longest tick seen ${maxTickMs.toFixed(0)} ms (wall time). ` +
      `This process had ${result.cpuSeconds.toFixed(0)} s of CPU in ${result.wallSeconds.toFixed(0)} s (${((100 * result.cpuSeconds) / result.wallSeconds).toFixed(0)} % of a core): on a shared core, waits stretch by the inverse of that share.`,
  ];
  writeFileSync(join(out, 'hostile-load.md'), `${lines.join('\n')}\n`);
  progress(`wrote ${join(out, 'hostile-load.md')}`);
}
