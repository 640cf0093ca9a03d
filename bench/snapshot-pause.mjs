// The main-thread time of one heapwatch tick against the floor, per number of distinct live stacks.
//
// The floor is what any reader of V8's sampling heap profiler pays without a forced GC:
// @datadog/pprof's heap.v8Profile(), which copies V8's tree into JavaScript objects. A tick adds
// heapwatch's own work: flattening the tree into traces (takeSnapshot), grouping them by site
// (statistics('site')), pushing the reading into the window and judging it. Target (the issue):
// a whole tick within 1.5× the floor at every size, growing near-linearly.
//
// One fresh child process per size and reader, so heaps don't mix (no --expose-gc: nothing here
// forces a GC). Each child retains N distinct live sites (bench/lib/live-sites.mjs, ~7 KB each)
// and samples every 1 KiB, so that each site holds a few samples (at the default 128 KiB, N sites
// would need N × 0.5 MiB of heap). A monitor (intervalMs 10, so ticks come back to back; default
// maxTrackedSites) first fills its window — 61 readings, as many as the default window holds, so
// the judging costs what it costs in production — then R rounds of two ticks follow:
//   - a plain tick: its 'reading' listener does nothing, so the event-loop delay recorded next
//     (monitorEventLoopDelay, 1 ms resolution) is the tick's own;
//   - a measuring tick: its listener reads that delay, then times v8Profile() (the floor),
//     takeSnapshot() and statistics('site') on the same heap, between two ticks.
// Tick times are the monitor's own `reading` durations, over all 2R ticks. GCs overlapping a tick
// come from 'gc' performance entries. The native reader must force none: a major GC inside a tick
// would be the sign (the entries do not flag the full GC the inspector forces, so "forced" cannot
// be read from them); minor GCs are the tick's own allocations. The inspector reader, which forces a full GC before every read, is
// timed in a child of its own (takeSnapshot() per round, after one warm-up read).
//
// A full run takes about 10 minutes on 2 cores, most of it at N = 100000, where a child reaches
// ~3 GB resident and one inspector read takes ~4.5 s (kept: 8 reads; --inspector-max skips them).
//
//   node bench/snapshot-pause.mjs [--sizes=100,1000,10000,50000,100000] [--rounds=7]
//                                 [--window=61] [--inspector-max=100000] [--cpu-prof=N]
// --cpu-prof=N profiles 20 more ticks at size N once the window is full, before the measured rounds
// (node:inspector's CPU profiler, as `node --cpu-prof` but over those ticks only) and prints the
// top functions by self time, with file:line.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { constants, monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import pprof from '@datadog/pprof';
import { createHeapMonitor, startSampling, takeSnapshot } from 'heapwatch';
import { runChild } from './lib/child-process.mjs';
import { startCpuProfile, summariseCpuProfile } from './lib/cpu-profile.mjs';
import { median, medianRange } from './lib/distribution.mjs';
import { countLiveStacks, retainSites } from './lib/live-sites.mjs';

const SAMPLING_INTERVAL_BYTES = 1024;
const TICK_INTERVAL_MS = 10; // the smallest intervalMs heapwatch accepts
const PROFILED_TICKS = 20;

const { values: opts } = parseArgs({
  options: {
    sizes: { type: 'string', default: '100,1000,10000,50000,100000' },
    rounds: { type: 'string', default: '7' },
    window: { type: 'string', default: '61' },
    'inspector-max': { type: 'string', default: '100000' },
    'cpu-prof': { type: 'string' },
    // Internal: what a child process measures.
    child: { type: 'string' },
    n: { type: 'string' },
    'profile-to': { type: 'string' },
  },
});
const rounds = Number(opts.rounds);
const windowReadings = Number(opts.window);

if (opts.child === 'native') await nativeChild(Number(opts.n), opts['profile-to']);
else if (opts.child === 'inspector') await inspectorChild(Number(opts.n));
else await parent();

async function nativeChild(n, profileTo) {
  startSampling({ samplingIntervalBytes: SAMPLING_INTERVAL_BYTES, reader: 'native' });
  const retained = await retainSites(n);
  const { nodes, liveStacks } = countLiveStacks(pprof.heap.v8Profile());
  const sites = takeSnapshot().statistics('site').length;

  const gcs = [];
  const gcObserver = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gcs.push({ start: entry.startTime, end: entry.startTime + entry.duration, major: entry.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR });
    }
  });
  gcObserver.observe({ entryTypes: ['gc'] });
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();

  const monitor = createHeapMonitor({
    samplingIntervalBytes: SAMPLING_INTERVAL_BYTES,
    reader: 'native',
    intervalMs: TICK_INTERVAL_MS,
    windowMs: TICK_INTERVAL_MS * (windowReadings - 1),
    // Ticks back to back at every size: past the reading budget they would be spaced out to 1 % of
    // the main thread (100 s apart at 100k stacks), which is what this benchmark does not measure.
    readingBudgetMs: 3_600_000,
    logger: false,
  });
  const ticks = [];
  const floors = [];
  const snapshotMs = [];
  const statisticsMs = [];
  const delays = [];
  let warmTicks = 0;
  const profiledTicks = profileTo ? PROFILED_TICKS : 0;
  let stopProfile;
  let cleanBefore = 0;
  const keepAlive = setInterval(() => {}, 1000); // the monitor's timers are unref'd
  await new Promise((resolve) => {
    monitor.on('reading', ({ durationMs, failed }) => {
      const end = performance.now();
      // reset() also forgets when the histogram's timer last fired, so the blocking that follows
      // a reset is not recorded: resetting in the measuring listener keeps its work out, and the
      // plain listener does nothing at all. So what the histogram holds at a measuring listener
      // is the plain tick before it, and the idle time around it (plus any extra reading the
      // monitor took after a major GC meanwhile: counted in `withCleanRead`).
      const { cleanReadings } = monitor.stats();
      if (warmTicks < windowReadings + profiledTicks) {
        delay.reset();
        cleanBefore = cleanReadings;
        warmTicks++;
        if (profileTo && warmTicks === windowReadings) stopProfile = startCpuProfile();
        if (stopProfile && warmTicks === windowReadings + profiledTicks) stopProfile(profileTo);
        return;
      }
      if (ticks.length % 2 === 1) {
        delays.push({ maxMs: delay.max / 1e6, p99Ms: delay.percentile(99) / 1e6, withCleanRead: cleanReadings !== cleanBefore });
        delay.reset();
        cleanBefore = cleanReadings;
      }
      ticks.push({ start: end - durationMs, end, durationMs, failed });
      if (ticks.length % 2 === 0) {
        // The measuring round: the floor and heapwatch's parts on the same heap as the ticks.
        const t0 = performance.now();
        pprof.heap.v8Profile();
        const t1 = performance.now();
        const snapshot = takeSnapshot();
        const t2 = performance.now();
        snapshot.statistics('site');
        const t3 = performance.now();
        floors.push({ start: t0, end: t1, durationMs: t1 - t0 });
        snapshotMs.push(t2 - t1);
        statisticsMs.push(t3 - t2);
      }
      if (ticks.length === 2 * rounds) resolve();
    });
    monitor.start();
  });
  await sleep(100); // gc entries are delivered asynchronously
  clearInterval(keepAlive);
  gcObserver.disconnect();
  const stats = monitor.stats();
  monitor.stop();
  const overlapping = (spans, which) =>
    gcs.filter((gc) => which(gc) && spans.some((span) => gc.start < span.end && gc.end > span.start)).length;
  const major = (gc) => gc.major;
  const other = (gc) => !gc.major;
  const result = {
    n,
    retainedSites: retained.length,
    treeNodes: nodes,
    liveStacks,
    sites,
    heapUsedMB: process.memoryUsage().heapUsed / 2 ** 20,
    tickMs: ticks.map((tick) => tick.durationMs),
    failedTicks: ticks.filter((tick) => tick.failed).length,
    floorMs: floors.map((floor) => floor.durationMs),
    snapshotMs,
    statisticsMs,
    delayMaxMs: delays.map((d) => d.maxMs),
    delayP99Ms: delays.map((d) => d.p99Ms),
    delaysWithCleanRead: delays.filter((d) => d.withCleanRead).length,
    majorGcsInTicks: overlapping(ticks, major),
    otherGcsInTicks: overlapping(ticks, other),
    majorGcsInFloors: overlapping(floors, major),
    otherGcsInFloors: overlapping(floors, other),
    trackedSites: stats.trackedSites,
    cleanReadings: stats.cleanReadings,
  };
  console.log(JSON.stringify(result));
}

async function inspectorChild(n) {
  startSampling({ samplingIntervalBytes: SAMPLING_INTERVAL_BYTES, reader: 'inspector' });
  const retained = await retainSites(n);
  const stacks = takeSnapshot().traces.length; // also the warm-up read
  const readMs = [];
  for (let round = 0; round < rounds; round++) {
    await sleep(TICK_INTERVAL_MS);
    const started = performance.now();
    takeSnapshot();
    readMs.push(performance.now() - started);
  }
  console.log(JSON.stringify({ n, retainedSites: retained.length, stacks, readMs }));
}

async function parent() {
  const sizes = opts.sizes.split(',').map(Number);
  const inspectorMax = Number(opts['inspector-max']);
  const profileSize = opts['cpu-prof'] === undefined ? undefined : Number(opts['cpu-prof']);
  if (profileSize !== undefined && !sizes.includes(profileSize)) {
    throw new Error(`--cpu-prof=${opts['cpu-prof']} names no size of --sizes=${opts.sizes}`);
  }
  const profileFile = profileSize && join(mkdtempSync(join(tmpdir(), 'heapwatch-cpu-')), `ticks-${profileSize}.cpuprofile`);
  const common = [`--rounds=${rounds}`, `--window=${windowReadings}`];
  const rows = [];
  const started = performance.now();
  for (const n of sizes) {
    process.stderr.write(`N=${n}: native… `);
    const profileArgs = n === profileSize ? [`--profile-to=${profileFile}`] : [];
    const native = await runChild(import.meta.url, [], ['--child=native', `--n=${n}`, ...common, ...profileArgs]);
    let inspector;
    if (n <= inspectorMax) {
      process.stderr.write('inspector… ');
      inspector = await runChild(import.meta.url, [], ['--child=inspector', `--n=${n}`, ...common]);
    }
    process.stderr.write(`done (${((performance.now() - started) / 1000).toFixed(0)} s so far)\n`);
    rows.push({ native, inspector });
  }

  const command = ['node bench/snapshot-pause.mjs', ...process.argv.slice(2)].join(' ');
  console.log(`\`${command}\` — Node ${process.version}, ${rounds} rounds, window of ${windowReadings} readings, sampling every ${SAMPLING_INTERVAL_BYTES} B, default maxTrackedSites`);
  console.log('');
  console.log('Times in ms, median [min–max]. floor = `pprof.heap.v8Profile()`; takeSnapshot includes its own v8Profile();');
  console.log('tick = read + aggregate + judge (the monitor\'s `reading` duration); GCs = major/other (minor, incremental steps) overlapping the ticks (the floor reads).');
  console.log(`loop delay: per plain tick; between two ticks ${TICK_INTERVAL_MS} ms apart the 1 ms histogram holds ~${TICK_INTERVAL_MS} samples, so p99 ≈ max: one block.`);
  console.log('');
  console.log('| N sites | live stacks | floor | takeSnapshot | statistics(\'site\') | tick | tick/floor | loop delay max | loop delay p99 | GCs in ticks (floors) | inspector read |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const { native: r, inspector } of rows) {
    const ratio = median(r.tickMs) / median(r.floorMs);
    const inspectorCell = inspector ? medianRange(inspector.readMs) : `skipped (N > ${inspectorMax})`;
    console.log(
      `| ${r.n} | ${r.liveStacks} | ${medianRange(r.floorMs)} | ${medianRange(r.snapshotMs)} | ${medianRange(r.statisticsMs)} | ` +
        `${medianRange(r.tickMs)} | ${ratio.toFixed(2)}× | ${medianRange(r.delayMaxMs, 0)} | ${medianRange(r.delayP99Ms, 0)} | ` +
        `${r.majorGcsInTicks}/${r.otherGcsInTicks} (${r.majorGcsInFloors}/${r.otherGcsInFloors}) | ${inspectorCell} |`,
    );
  }
  console.log('');
  for (const { native: r, inspector } of rows) {
    console.log(
      `- N=${r.n}: ${r.treeNodes} tree nodes, ${r.liveStacks} with live samples, ${r.sites} sites in a snapshot` +
        `${inspector ? ` (inspector: ${inspector.stacks} traces)` : ''}; heap used ${r.heapUsedMB.toFixed(0)} MiB; ` +
        `${r.trackedSites} tracked sites; ${r.failedTicks} failed ticks; ${r.cleanReadings} readings after a major GC, ` +
        `${r.delaysWithCleanRead} of them within a measured delay.`,
    );
  }
  console.log(`\nWall time: ${((performance.now() - started) / 1000).toFixed(0)} s.`);
  if (profileFile) {
    console.log(`\nCPU profile of ${PROFILED_TICKS} ticks with a full window at N=${profileSize} (${profileFile}):\n`);
    console.log(summariseCpuProfile(JSON.parse(readFileSync(profileFile, 'utf8'))));
  }
}
