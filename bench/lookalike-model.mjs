// How often heapwatch's rules raise a look-alike whose only noise is V8's sampling: a table that
// fills by a bounded amount over part of a window, later in the process's life, and then stays —
// over many draws of that chance, at the defaults. The counterpart of bench/detection-model.mjs,
// whose leaks the same rules must find.
//   node bench/lookalike-model.mjs [--size-thresholds=1.2,1.5,1.9] [--fill-minutes=30]
//        [--start-minutes=40] [--sampling-kib=512] [--runs=200] [--hours=4]
// (npm run build first.)
//
// The real detector (dist/growth) judges readings every 10 s over the default horizons and window,
// of one site of 20 MB that, from --start-minutes after the process's start (after the warm-up),
// gains 1041-byte entries for --fill-minutes until it holds --size-thresholds × growthThresholdBytes
// more, and then never changes. Entries are sampled with V8's odds, as in detection-model.mjs.
// Clean readings after V8's own major GCs (every 300 s) and after the full GCs heapwatch asks for,
// as monitor/clean-readings.ts decides. Seeded: the same flags print the same figures.
import { Detector } from '../dist/growth/detector.js';
import { SuspicionTracker } from '../dist/growth/suspicion.js';
import { GrowthWindow } from '../dist/growth/window.js';
import { Traceback } from '../dist/snapshot/traceback.js';
import { defaults } from 'heapwatch';
import { parseFlags, shellCommand } from './lib/cli.mjs';

const flags = parseFlags(process.argv.slice(2), {
  'size-thresholds': '1.2,1.5,1.9',
  'fill-minutes': '30',
  'start-minutes': '40',
  'sampling-kib': '512',
  runs: '200',
  hours: '4',
});
const positive = (name) => {
  const value = Number(flags[name]);
  if (!(value > 0)) throw new Error(`Invalid --${name}="${flags[name]}" - expected a positive number`);
  return value;
};
const sizes = flags['size-thresholds'].split(',').map(Number);
if (sizes.some((size) => !(size > 0))) throw new Error(`Invalid --size-thresholds="${flags['size-thresholds']}" - expected positive numbers, comma-separated`);
const fillSeconds = positive('fill-minutes') * 60;
const startSeconds = positive('start-minutes') * 60;
const samplingIntervalBytes = positive('sampling-kib') * 1024;
const runs = positive('runs');
const endSeconds = positive('hours') * 3600;

const ENTRY_BYTES = 1041;
const MAJOR_GC_EVERY_S = 300;
const odds = 1 - Math.exp(-ENTRY_BYTES / samplingIntervalBytes);
const options = {
  intervalMs: defaults.intervalMs,
  windowMs: defaults.windowMs,
  growthThresholdBytes: defaults.growthThresholdBytes,
  warmupEndsAt: defaults.warmupMs,
};

function generator(seed) {
  let state = seed;
  return () => (state = (state * 48271) % 2147483647) / 2147483647;
}

/** Whether one draw is raised, and when (s). */
function drawOnce(seed, sizeThresholds) {
  const random = generator(seed);
  const window = new GrowthWindow(121, 10, options.windowMs);
  const clean = new GrowthWindow(121, 10, options.windowMs);
  const tracker = new SuspicionTracker(options.windowMs);
  const detector = new Detector(options, window, (key, since) => clean.series(key, since), tracker);
  const entriesInAll = Math.round((sizeThresholds * options.growthThresholdBytes) / ENTRY_BYTES);
  let siteBytes = 20e6;
  let entries = 0;
  let lastRequested = Number.NEGATIVE_INFINITY;
  let tokens = 6;
  let wantedBefore = false;
  for (let seconds = 0; seconds <= endSeconds; seconds += options.intervalMs / 1000) {
    const owed = Math.min(entriesInAll, Math.max(0, Math.floor((entriesInAll * (seconds - startSeconds)) / fillSeconds)));
    for (; entries < owed; entries++) if (random() < odds) siteBytes += ENTRY_BYTES / odds;
    const now = seconds * 1000;
    const reading = new Map([['table', { key: 'table', size: siteBytes, count: siteBytes / ENTRY_BYTES, traceback: new Traceback([]) }]]);
    window.push(now, reading, siteBytes + 50e6, () => false);
    if (seconds % MAJOR_GC_EVERY_S === 0) clean.push(now, reading, siteBytes + 50e6, () => false);
    const { raise, wantedHorizonMs } = detector.judge(now, samplingIntervalBytes);
    if (raise[0]) return seconds;
    // heapwatch's forced GCs, as in detection-model.mjs (clean-readings.ts).
    tokens = Math.min(6, tokens + (options.intervalMs * 36) / options.windowMs);
    const wantedTwice = wantedBefore && wantedHorizonMs !== undefined;
    wantedBefore = wantedHorizonMs !== undefined;
    if (!wantedTwice || tokens < 1) continue;
    const spacing = Math.max(options.intervalMs, wantedHorizonMs / 6);
    if (now - (clean.latestTimestamp ?? Number.NEGATIVE_INFINITY) < spacing || now - lastRequested < spacing) continue;
    lastRequested = now;
    tokens--;
    clean.push(now, reading, siteBytes + 50e6, () => false);
  }
  return undefined;
}

console.log(`\`${shellCommand()}\`\n`);
console.log(`A table filling over ${fillSeconds / 60} min from ${startSeconds / 60} min after start, sampled every ${samplingIntervalBytes / 1024} KiB, ${runs} draws each:\n`);
console.log('| table size | raised in | median time of the raise after the fill began |');
console.log('|---|---|---|');
for (const size of sizes) {
  const times = [];
  for (let run = 1; run <= runs; run++) {
    const at = drawOnce(run * 7919, size);
    if (at !== undefined) times.push(at - startSeconds);
  }
  times.sort((a, b) => a - b);
  const median = times.length > 0 ? `${times[Math.floor(times.length / 2)]} s` : '—';
  console.log(`| ${size} × threshold | ${times.length} of ${runs} | ${median} |`);
}
