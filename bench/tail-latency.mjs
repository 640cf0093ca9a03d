// Request latency of an Express app with a large live heap and a slowly rising site, with and
// without heapwatch: what heapwatch's stop-the-world moments (forced full GCs, readings) add to the
// tail.
//
// Each configuration runs in a fresh child process (--max-old-space-size=4096), configurations
// interleaved in rounds. A child fills a steady cache of small objects (--cache-mb of V8 heap,
// allocated once and never touched again but by reads), mounts heapwatch or not, then sends one
// request every --every-ms from a timer for --seconds (open loop: latency counts from when the
// request was due, so a stalled event loop shows in every request it delays, not only in one —
// no coordinated omission). Requests go in-process through a real IncomingMessage/ServerResponse
// (bench/lib/inject.mjs): no load generator shares the core. Each request reads the cache, and
// one in four keeps ~400 bytes in a list that is never emptied: the rising site (~50 KB/s).
//
// Configurations:
//   none          the bare app
//   heapwatch     heapwatch from this tree, with a short window (60 s, read every 5 s, threshold
//                 1 MiB) so that the rising site asks for forced GCs within the run
//   heapwatch-at  the same, imported from --at (a build of another commit: the one before the
//                 pause budget, to show what it changes); left out without --at
//   none-again    the bare app again, with --aa=1: the A/A comparison (what the method resolves)
// Reported per configuration: p50 / p99 / p99.9 / max latency, the longest event-loop stall
// (monitorEventLoopDelay), forced and skipped GCs and heapwatch's readings, median [min–max]
// over rounds.
//
//   node bench/tail-latency.mjs [--rounds=3] [--seconds=60] [--cache-mb=1000] [--every-ms=2]
//                               [--at=/path/to/other/build/dist/index.js] [--aa=1] [--out=dir]
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { constants, monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import express from 'express';
import { runChild } from './lib/child-process.mjs';
import { parseFlags, shellCommand } from './lib/cli.mjs';
import { medianRange, quantile } from './lib/distribution.mjs';
import { inject } from './lib/inject.mjs';

const flags = parseFlags(process.argv.slice(2), {
  rounds: '3',
  seconds: '60',
  'cache-mb': '1000',
  'every-ms': '2',
  at: '',
  aa: '0',
  out: '',
  child: '',
});

if (flags.child) await child(flags.child);
else await parent();

async function parent() {
  // `none-again`, the bare app a second time: the A/A comparison that shows what the method resolves.
  const configs = ['none', 'heapwatch', ...(flags.at ? ['heapwatch-at'] : []), ...(flags.aa === '1' ? ['none-again'] : [])];
  const results = Object.fromEntries(configs.map((config) => [config, []]));
  const childArgs = Object.entries(flags)
    .filter(([name]) => !['rounds', 'out', 'child'].includes(name))
    .map(([name, value]) => `--${name}=${value}`);
  for (let round = 0; round < Number(flags.rounds); round++) {
    for (const config of configs) {
      const result = await runChild(new URL(import.meta.url), ['--max-old-space-size=4096'], [...childArgs, `--child=${config}`]);
      results[config].push(result);
      console.error(`round ${round + 1} ${config}: ${JSON.stringify(result)}`);
    }
  }
  const row = (config) => {
    const of = (field, digits = 1) => medianRange(results[config].map((r) => r[field]), digits);
    return `| ${config} | ${of('p50Ms')} | ${of('p99Ms')} | ${of('p999Ms')} | ${of('maxMs')} | ${of('loopMaxMs', 0)} | ${of('requestedGcs', 0)} / ${of('skippedGcs', 0)} | ${of('forcedGcPauseMs', 0)} | ${of('readings', 0)} | ${of('tickMaxMs', 0)} | ${of('ownMajorGcMaxMs', 0)} |`;
  };
  const heap = medianRange(Object.values(results).flat().map((r) => r.heapUsedMb), 0);
  const table = [
    `\`${shellCommand()}\` — Node ${process.version}, used heap ${heap} MB, one request every ${flags['every-ms']} ms for ${flags.seconds} s per run; ms, median [min–max] over ${flags.rounds} rounds`,
    '',
    '| configuration | p50 | p99 | p99.9 | max | longest event-loop stall | forced / skipped GCs | longest forced GC | readings | longest reading | longest major GC (any) |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...configs.map(row),
    '',
  ].join('\n');
  console.log(table);
  if (flags.out) {
    mkdirSync(flags.out, { recursive: true });
    writeFileSync(join(flags.out, 'tail-latency.md'), `# Tail latency\n\n${table}\n\n<details><summary>every run</summary>\n\n\`\`\`\n${JSON.stringify(results, null, 1)}\n\`\`\`\n</details>\n`);
  }
}

async function child(config) {
  const cache = fillCache(Number(flags['cache-mb']) * 1e6);
  const app = express();
  let monitor;
  if (config.startsWith('heapwatch')) {
    const { heapwatch } = await import(config === 'heapwatch-at' ? pathToFileURL(flags.at).href : 'heapwatch');
    const middleware = heapwatch({ logger: false, intervalMs: 5_000, windowMs: 60_000, growthThresholdBytes: 1024 * 1024 });
    monitor = middleware.monitor;
    app.use(middleware);
  }
  const kept = [];
  app.get('/item/:id', function itemRoute(req, res) {
    const id = Number(req.params.id) % cache.length;
    if (id % 4 === 0) rememberRequest(kept, id);
    res.json(cache[id]);
  });

  const ownMajorGcs = [];
  const gcObserver = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if (entry.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) ownMajorGcs.push({ start: entry.startTime, ms: entry.duration });
    }
  });
  gcObserver.observe({ entryTypes: ['gc'] });
  const ticks = [];
  monitor?.on('reading', ({ durationMs }) => ticks.push(durationMs));
  const delay = monitorEventLoopDelay({ resolution: 5 });

  // Warm the route before measuring.
  for (let i = 0; i < 2_000; i++) await inject(app, `/item/${i}`);
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  ownMajorGcs.length = 0;
  delay.enable();

  const everyMs = Number(flags['every-ms']);
  const latencies = [];
  const start = performance.now();
  const end = start + Number(flags.seconds) * 1000;
  let sent = 0;
  let inFlight = 0;
  await new Promise((resolve) => {
    const timer = setInterval(() => {
      const now = performance.now();
      // Every request due by now, each timed from when it was due.
      while (start + sent * everyMs <= Math.min(now, end)) {
        const due = start + sent * everyMs;
        sent++;
        inFlight++;
        inject(app, `/item/${sent * 7919}`).then(() => {
          latencies.push(performance.now() - due);
          inFlight--;
          if (now >= end && inFlight === 0) resolve();
        });
      }
      if (now >= end) {
        clearInterval(timer);
        if (inFlight === 0) resolve();
      }
    }, everyMs);
  });
  delay.disable();
  await new Promise((resolve) => setTimeout(resolve, 200)); // gc entries come asynchronously
  gcObserver.disconnect();
  const stats = monitor?.stats();
  monitor?.stop?.();
  const result = {
    requests: latencies.length,
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
    p999Ms: quantile(latencies, 0.999),
    maxMs: Math.max(...latencies),
    loopMaxMs: delay.max / 1e6,
    heapUsedMb: getHeapStatistics().used_heap_size / 1e6,
    requestedGcs: stats?.requestedGcs ?? 0,
    skippedGcs: stats?.skippedGcs ?? 0,
    forcedGcPauseMs: stats?.lastForcedGcPauseMs ?? 0,
    readings: stats?.readings ?? 0,
    tickMaxMs: ticks.length ? Math.max(...ticks) : 0,
    ownMajorGcs: ownMajorGcs.length,
    ownMajorGcMaxMs: ownMajorGcs.length ? Math.max(...ownMajorGcs.map((gc) => gc.ms)) : 0,
    kept: kept.length,
    cached: cache.length,
  };
  console.log(JSON.stringify(result));
  process.exit(0);
}

/** The large steady cache: small objects until V8's used heap reaches `bytes`. */
function fillCache(bytes) {
  const cache = [];
  while (getHeapStatistics().used_heap_size < bytes) {
    for (let i = 0; i < 10_000; i++) {
      const n = cache.length;
      cache.push({ id: n, name: `item-${n}`, price: n % 1000, tags: [n % 7, n % 13] });
    }
  }
  return cache;
}

/** The slowly rising site: a record of one request in four, kept forever. */
function rememberRequest(kept, id) {
  kept.push({ id, at: Date.now(), note: `request ${id} `.repeat(20) });
}
