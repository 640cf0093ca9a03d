// heapwatch's own retained memory: what a monitor keeps once its window is full, per number of
// distinct live sites S and per maxTrackedSites. Target (the issue): bounded by the caps, and at
// most 20 MB at 10k sites.
//
// Each round is a fresh child process (flags below), so that rounds share no heap:
//   1. start the sampler (native reader, every 1 KiB) and retain S distinct live sites
//      (bench/lib/live-sites.mjs, ~7 KB each);
//   2. gc() twice, then read heapUsed and arrayBuffers: the baseline, with the sampler on and no
//      monitor. V8 keeps its samples in C++ memory, outside the JavaScript heap: the sampler
//      itself shows in neither figure, before or after;
//   3. start a monitor (intervalMs 50, windowMs 120 × 50: 121 readings, the slots a window keeps at
//      most — the default 60 min window read every 10 s is thinned out to them), wait for 122
//      readings — the window is full — then, between two ticks, gc()
//      twice and read both again. A gc() every 15 ticks stands for a service's own major GCs: the
//      monitor takes a clean reading after each, into its second window, which would otherwise
//      stay empty here.
// The difference is the monitor's: its two windows of series (every reading, and the readings
// right after a major GC), the tracked sites' tracebacks, and the frame interner's and the
// source-map resolver's caches (at most 50 000 frames each). It keeps no whole reading: each is
// summed per site as it is read. The series are Float32Arrays (totals and times Float64Arrays);
// V8 keeps their contents outside the JavaScript heap (above 64 bytes), so arrayBuffers is part of
// the cost and is reported beside heapUsed.
// Child flags: --expose-gc for gc(); --no-flush-bytecode, a precaution: V8 may drop the bytecode of
// functions that have not run for several major GCs — the S site functions run once — and the
// heap would then shrink under heapwatch's figure (no difference seen at S = 1000).
//
//   node bench/own-memory.mjs [--sizes=1000,10000,100000] [--caps=2000,100000] [--rounds=N]
// Every size runs with the smallest cap, and with each larger cap while the one before is below
// S (a cap at or above S changes nothing). Rounds: 5, or 3 at S ≥ 100000, where a round takes
// minutes; --rounds sets them all. `--sizes=1000,10000 --caps=2000,100000` takes about 2 minutes
// on 2 cores, `--sizes=100000 --caps=2000` about 6 (~1.3 s per tick).
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { createHeapMonitor, startSampling, takeSnapshot } from 'heapwatch';
import { runChild } from './lib/child-process.mjs';
import { medianRange } from './lib/distribution.mjs';
import { retainSites } from './lib/live-sites.mjs';

const SAMPLING_INTERVAL_BYTES = 1024;
const INTERVAL_MS = 50;
const WINDOW_READINGS = 121;
const MAJOR_GC_EVERY_TICKS = 15;
const MiB = 2 ** 20;

const { values: opts } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1000,10000,100000' },
    caps: { type: 'string', default: '2000,100000' },
    rounds: { type: 'string' },
    // Internal: what a child process measures.
    child: { type: 'boolean', default: false },
    s: { type: 'string' },
    cap: { type: 'string' },
  },
});

if (opts.child) await child(Number(opts.s), Number(opts.cap));
else await parent();

function settledMemory() {
  globalThis.gc();
  globalThis.gc();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return { heapUsed, arrayBuffers };
}

async function child(sites, maxTrackedSites) {
  startSampling({ samplingIntervalBytes: SAMPLING_INTERVAL_BYTES, reader: 'native' });
  const retained = await retainSites(sites);
  const before = settledMemory();
  const monitor = createHeapMonitor({
    samplingIntervalBytes: SAMPLING_INTERVAL_BYTES,
    reader: 'native',
    intervalMs: INTERVAL_MS,
    windowMs: INTERVAL_MS * (WINDOW_READINGS - 1),
    maxTrackedSites,
    // Readings back to back at every size: past the reading budget (a reading of 10k stacks took
    // 174–243 ms on Node 26 here) they would be spaced out to 1 % of the main thread, and the
    // window this benchmark measures would take hours to fill.
    readingBudgetMs: 3_600_000,
    logger: false,
  });
  const started = performance.now();
  const keepAlive = setInterval(() => {}, 1000); // the monitor's timers are unref'd
  await new Promise((resolve) => {
    let ticks = 0;
    monitor.on('reading', () => {
      ticks++;
      // A service has major GCs now and then, and the monitor takes a clean reading after each
      // one into its second window: a few here, between ticks, so that both windows are filled.
      if (ticks % MAJOR_GC_EVERY_TICKS === 1) setTimeout(() => globalThis.gc(), INTERVAL_MS / 2);
      // Measure after the tick has returned, so that nothing it holds on its stack counts.
      if (ticks === WINDOW_READINGS + 1) setTimeout(resolve, 0);
    });
    monitor.start();
  });
  clearInterval(keepAlive);
  const after = settledMemory();
  // For scale: what one whole snapshot of the same heap holds (the monitor keeps none).
  const snapshot = takeSnapshot();
  const snapshotBytes = settledMemory().heapUsed - after.heapUsed;
  const stats = monitor.stats();
  monitor.stop();
  console.log(
    JSON.stringify({
      sites,
      retainedSites: retained.length,
      maxTrackedSites,
      heapBytes: after.heapUsed - before.heapUsed,
      arrayBuffersBytes: after.arrayBuffers - before.arrayBuffers,
      snapshotBytes,
      snapshotTraces: snapshot.traces.length,
      baselineHeapBytes: before.heapUsed,
      trackedSites: stats.trackedSites,
      droppedSites: stats.droppedSites,
      readings: stats.readings,
      cleanReadings: stats.cleanReadings,
      fillSeconds: (performance.now() - started) / 1000,
    }),
  );
}

async function parent() {
  const sizes = opts.sizes.split(',').map(Number);
  const caps = opts.caps.split(',').map(Number).sort((a, b) => a - b);
  const rows = [];
  const started = performance.now();
  for (const sites of sizes) {
    const rounds = opts.rounds ? Number(opts.rounds) : sites >= 100_000 ? 3 : 5;
    for (const [i, cap] of caps.entries()) {
      if (i > 0 && caps[i - 1] >= sites) break;
      const results = [];
      for (let round = 0; round < rounds; round++) {
        process.stderr.write(`S=${sites} maxTrackedSites=${cap}: round ${round + 1}/${rounds}… `);
        results.push(await runChild(import.meta.url, ['--expose-gc', '--no-flush-bytecode'], ['--child', `--s=${sites}`, `--cap=${cap}`]));
        process.stderr.write(`${results.at(-1).fillSeconds.toFixed(0)} s to fill the window\n`);
      }
      rows.push({ sites, cap, rounds, results });
    }
  }

  const command = ['node bench/own-memory.mjs', ...process.argv.slice(2)].join(' ');
  console.log(
    `\`${command}\` — Node ${process.version}; sampling every ${SAMPLING_INTERVAL_BYTES} B, intervalMs ${INTERVAL_MS}, ` +
      `a full window of ${WINDOW_READINGS} readings; one child process per round`,
  );
  console.log('');
  console.log('MiB, median [min–max] over the rounds. retained = heapUsed + arrayBuffers after minus before the monitor, both after gc().');
  console.log('series bound = docs/api.md\'s maxTrackedSites × min(windowMs / intervalMs + 1, 121) × 16 bytes.');
  console.log('one snapshot = for scale, the heap one takeSnapshot() of the same heap holds (the monitor keeps no whole snapshot).');
  console.log('');
  console.log('| S sites | maxTrackedSites | tracked sites | retained | of which heapUsed | of which arrayBuffers | series bound | one snapshot | clean readings | rounds | s to fill a window |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const { sites, cap, rounds, results } of rows) {
    const mib = (key) => results.map((r) => r[key] / MiB);
    const retained = results.map((r) => (r.heapBytes + r.arrayBuffersBytes) / MiB);
    const bound = (cap * WINDOW_READINGS * 16) / MiB;
    const fill = results.map((r) => r.fillSeconds);
    console.log(
      `| ${sites} | ${cap} | ${medianRange(results.map((r) => r.trackedSites), 0)} | ${medianRange(retained)} | ${medianRange(mib('heapBytes'))} | ` +
        `${medianRange(mib('arrayBuffersBytes'))} | ${bound.toFixed(1)} | ${medianRange(mib('snapshotBytes'))} | ${medianRange(results.map((r) => r.cleanReadings), 0)} | ${rounds} | ${medianRange(fill, 0)} |`,
    );
  }
  console.log(`\nWall time: ${((performance.now() - started) / 1000).toFixed(0)} s.`);
}
