// What allocation mode (Node 26, `allocations: true`) costs, beside live mode, measured in fresh
// child processes so that heaps do not mix:
//
//   pause   One reading's main-thread time against the heap's size: a process retains H MB of
//           small objects (and churns a little between readings), then takes R readings
//           (takeSnapshot(), what a tick reads) in allocation mode and, in another process, in live
//           mode. In allocation mode V8 forces a full GC before each read; the `gc` entries that
//           fall inside the reading give that GC's own pause.
//   store   The memory of V8's store of collected samples: three processes churn (objects that die
//           at once) at a 4 KiB interval in allocation mode, three the same churn in live mode; the
//           resident set is read at checkpoints of collected samples, and the growth beyond live
//           mode's over the samples added is the bytes per collected sample. Each checkpoint also
//           times one read of @datadog/pprof's v8Profile() (a read walks every sample).
//   restarts How often heapwatch starts V8's sampler over (past 50 000 collected samples), at
//           512 KiB: an Express app with the bench routes serves /json (800 rows serialised)
//           in-process, as fast as it can, under a monitor in allocation mode; the allocated bytes
//           per request (heapwatch's own running totals) and the start-overs seen give the
//           allocation between two start-overs, and so the period at a given request rate.
//
//   /work/main/.node-versions/node_modules/node26/bin/node bench/allocation-mode.mjs
//        [--heaps=10,50,200,500] [--rounds=7] [--store=10000,50000,100000,200000] [--seconds=120]
//        [--out=bench/results/<stamp>-allocation-mode]
//
// Prints Markdown and writes it, with the raw JSON, to the results folder. Needs Node 26 (allocation
// mode); elsewhere it says so and exits.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseFlags } from './lib/cli.mjs';
import { median } from './lib/distribution.mjs';
import { resultsDir, utcStamp } from './lib/results-dir.mjs';

const self = fileURLToPath(import.meta.url);
const [mode, ...childArgs] = process.argv.slice(2);

if (mode === 'child-pause') await childPause(...childArgs);
else if (mode === 'child-store') await childStore(...childArgs);
else if (mode === 'child-restarts') await childRestarts(...childArgs);
else await parent();

/** Runs a child of this script in a fresh process and returns its JSON answer. */
function child(...args) {
  const out = execFileSync(process.execPath, [self, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return JSON.parse(out.trim().split('\n').at(-1));
}

async function parent() {
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 26) {
    console.log(`allocation mode needs Node 26; this is Node ${process.versions.node}: nothing to measure`);
    return;
  }
  const flags = parseFlags(process.argv.slice(2), { heaps: '10,50,200,500', rounds: '7', store: '10000,50000,100000,200000', seconds: '120', out: '' });
  const out = resultsDir(flags.out || join('bench', 'results', `${utcStamp()}-allocation-mode`));
  const rounds = Number(flags.rounds);
  const lines = [`# Allocation mode (Node ${process.versions.node}, @datadog/pprof)`, '', `\`${process.argv.slice(1).join(' ')}\``, ''];
  const raw = { node: process.versions.node, pause: [], store: [], restarts: undefined };

  lines.push('## One reading against the heap (takeSnapshot, 512 KiB)', '', `${rounds} readings per process; median [min–max], ms.`, '');
  lines.push('| retained | used heap | live mode: reading | allocation mode: reading | of which the forced GC |', '|---|---|---|---|---|');
  for (const heap of flags.heaps.split(',').map(Number)) {
    const live = child('child-pause', String(heap), 'live', String(rounds));
    const allocations = child('child-pause', String(heap), 'allocations', String(rounds));
    raw.pause.push({ heap, live, allocations });
    const range = (values) => `${median(values).toFixed(1)} [${Math.min(...values).toFixed(1)}–${Math.max(...values).toFixed(1)}]`;
    lines.push(`| ${heap} MB | ${(allocations.usedHeapBytes / 2 ** 20).toFixed(0)} MB | ${range(live.readMs)} | ${range(allocations.readMs)} | ${range(allocations.gcMs)} |`);
  }

  lines.push('', "## V8's store of collected samples (4 KiB interval, the same churn in both modes)", '');
  lines.push(
    'Each process churns to the checkpoints (in samples of 4 KiB allocated); the resident set grows by V8\'s store in allocation mode and by heap noise in both: ' +
      'bytes per collected sample = (growth in allocation mode − growth in live mode) / collected samples, from the first checkpoint to each later one. ' +
      'Three processes per mode; the median process.',
    '',
  );
  lines.push('| collected samples | RSS growth, allocation mode | RSS growth, live mode | bytes per collected sample | one v8Profile() read, allocation / live |', '|---|---|---|---|---|');
  const storeRuns = (which) => [0, 1, 2].map(() => child('child-store', flags.store.replaceAll(',', '/'), which).points);
  const allocationRuns = storeRuns('allocations');
  const liveRuns = storeRuns('live');
  raw.store = { allocationRuns, liveRuns };
  const checkpoints = flags.store.split(',').length;
  for (let i = 1; i < checkpoints; i++) {
    const growth = (runs) => median(runs.map((points) => points[i].rssBytes - points[0].rssBytes));
    const samples = median(allocationRuns.map((points) => points[i].collectedSamples - points[0].collectedSamples));
    const perSample = (growth(allocationRuns) - growth(liveRuns)) / samples;
    const read = (runs) => median(runs.map((points) => points[i].readMs)).toFixed(1);
    lines.push(`| +${samples} (to ${median(allocationRuns.map((points) => points[i].collectedSamples))}) | ${(growth(allocationRuns) / 2 ** 20).toFixed(1)} MB | ${(growth(liveRuns) / 2 ** 20).toFixed(1)} MB | ${perSample.toFixed(0)} B | ${read(allocationRuns)} / ${read(liveRuns)} ms |`);
  }

  const restarts = child('child-restarts', flags.seconds);
  raw.restarts = restarts;
  const bytesPerRequest = restarts.allocatedBytes / restarts.requests;
  const bytesPerRestart = restarts.samplerRestarts > 0 ? restarts.allocatedBytes / restarts.samplerRestarts : undefined;
  lines.push('', '## Start-overs of the sampler at 512 KiB (past 50 000 collected samples)', '');
  lines.push(
    `/json (800 rows serialised) served ${restarts.requests} times in ${restarts.seconds} s, in-process, under a monitor in allocation mode at 512 KiB: ` +
      `${(bytesPerRequest / 1024).toFixed(1)} KiB allocated a request (heapwatch's estimate), ${(restarts.allocatedBytes / 2 ** 30).toFixed(1)} GiB in all, ` +
      `${restarts.samplerRestarts} start-overs: one per ${bytesPerRestart === undefined ? '—' : `${(bytesPerRestart / 2 ** 30).toFixed(1)} GiB`} allocated ` +
      '(50 000 × 512 KiB = 24.4 GiB if every sample were of a collected object).',
    '',
    '| requests a second (/json) | allocation rate | time between start-overs |',
    '|---|---|---|',
  );
  for (const rate of [10, 50, 100, 500, 2000]) {
    const perSecond = rate * bytesPerRequest;
    lines.push(`| ${rate} | ${(perSecond / 2 ** 20).toFixed(1)} MB/s | ${((bytesPerRestart ?? 50_000 * 512 * 1024) / perSecond / 60).toFixed(1)} min |`);
  }
  const text = `${lines.join('\n')}\n`;
  writeFileSync(join(out, 'allocation-mode.md'), text);
  writeFileSync(join(out, 'allocation-mode.json'), `${JSON.stringify(raw, null, 2)}\n`);
  console.log(text);
  console.log(`written to ${out}`);
}

/** Small objects on a linked list: no table regrowth, every byte in V8's heap. */
function retain(megabytes) {
  let head;
  const count = Math.round((megabytes * 2 ** 20) / 64);
  for (let i = 0; i < count; i++) head = { id: i, a: i + 1, b: i + 2, next: head };
  return head;
}

/** Objects that die at once, kept in a batch until it ends so the compiler cannot elide them. */
function churn(megabytes) {
  let total = 0;
  const perBatch = 10_000;
  for (let done = 0; done < megabytes * 2 ** 20; done += perBatch * 88) {
    const batch = [];
    for (let i = 0; i < perBatch; i++) batch.push({ id: i, values: [i, i + 1, i + 2, i + 3] });
    total += batch.length;
  }
  return total;
}

async function childPause(megabytes, which, roundsText) {
  const { PerformanceObserver, performance } = await import('node:perf_hooks');
  const { getHeapStatistics } = await import('node:v8');
  const { startSampling, takeSnapshot } = await import('heapwatch');
  const kept = retain(Number(megabytes));
  startSampling({ samplingIntervalBytes: 512 * 1024, allocations: which === 'allocations' });
  const gcs = [];
  const observer = new PerformanceObserver((list) => gcs.push(...list.getEntries()));
  observer.observe({ entryTypes: ['gc'] });
  const readMs = [];
  const gcMs = [];
  takeSnapshot(); // warm-up
  for (let round = 0; round < Number(roundsText); round++) {
    churn(20);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const start = performance.now();
    takeSnapshot();
    const end = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 20));
    gcs.push(...observer.takeRecords());
    readMs.push(end - start);
    gcMs.push(gcs.filter((entry) => entry.startTime >= start && entry.startTime <= end).reduce((sum, entry) => sum + entry.duration, 0));
  }
  observer.disconnect();
  console.log(JSON.stringify({ readMs, gcMs, usedHeapBytes: getHeapStatistics().used_heap_size, kept: kept !== undefined }));
}

async function childStore(samplesText, which) {
  const { default: pprof } = await import('@datadog/pprof');
  const { performance } = await import('node:perf_hooks');
  const interval = 4096;
  pprof.heap.start(interval, 64, which === 'allocations');
  // ~88 bytes an object pair: one sample per 4 KiB allocated, nearly all of dead objects. The
  // resident set is read at each checkpoint: the first one's heap has settled, the later ones grow
  // by V8's store of collected samples (in allocation mode) and by the noise of the heap.
  const checkpoints = samplesText.split('/').map(Number);
  const points = [];
  let doneMegabytes = 0;
  for (const samples of checkpoints) {
    const target = (samples * interval) / 2 ** 20;
    for (; doneMegabytes < target; doneMegabytes += 16) churn(16);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const rssBytes = process.memoryUsage.rss();
    const start = performance.now();
    const root = pprof.heap.v8Profile();
    const readMs = performance.now() - start;
    points.push({ rssBytes, readMs, collectedSamples: Math.round(collectedSamplesOf(root, interval)) });
  }
  console.log(JSON.stringify({ points }));
}

/** Samples of collected objects in a profile in allocation mode (0 in live mode). */
function collectedSamplesOf(root, interval) {
  let collected = 0;
  const stack = [root];
  for (let node = stack.pop(); node; node = stack.pop()) {
    for (const bucket of node.allocations) {
      if (bucket.allocObjects === undefined || bucket.allocObjects <= 0) continue;
      const size = bucket.allocSpaceBytes / bucket.allocObjects;
      collected += (bucket.allocObjects - bucket.inuseObjects) / Math.floor(1 / (1 - Math.exp(-size / interval)) + 0.5);
    }
    stack.push(...node.children);
  }
  return collected;
}

async function childRestarts(secondsText) {
  const { default: express } = await import('express');
  const { createHeapMonitor } = await import('heapwatch');
  const { inject } = await import('./lib/inject.mjs');
  const { addBenchRoutes } = await import('./lib/routes.mjs');
  const app = express();
  addBenchRoutes(app);
  const monitor = createHeapMonitor({ logger: false, allocations: true, samplingIntervalBytes: 512 * 1024, intervalMs: 1000, forcedGcPauseBudgetMs: 1000, readingBudgetMs: 1000 });
  monitor.start();
  const seconds = Number(secondsText);
  const started = Date.now();
  let requests = 0;
  while (Date.now() - started < seconds * 1000) {
    for (let i = 0; i < 50; i++) await inject(app, `/json?i=${requests++}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
  // One more reading, so that the totals hold the last requests (the monitor's timer is unref'd).
  const keepAlive = setInterval(() => {}, 1000);
  await new Promise((resolve) => monitor.once('reading', resolve));
  clearInterval(keepAlive);
  const allocatedBytes = monitor.allocatingSites().reduce((sum, site) => sum + site.allocatedBytes, 0);
  const { samplerRestarts, readings } = monitor.stats();
  monitor.stop();
  console.log(JSON.stringify({ seconds, requests, allocatedBytes, samplerRestarts, readings }));
}
