// How long heapwatch's rules take to raise a leak whose only noise is V8's sampling, over many
// draws of that chance: the distribution behind one measured delay of bench/detection.mjs.
//   node bench/detection-model.mjs [--rate=2000] [--holding-mb=100] [--sampling-kib=512] [--runs=200]
//        [--major-gc-every-s=300] [--forced-gcs=yes|no] [--max-minutes=120] [--warmup-s=<the default warmupMs>]
// (npm run build first.)
//
// The real detector (dist/growth) judges readings every 10 s over the default horizons and window,
// of one site that holds --holding-mb of objects that never change and gains 1041-byte entries at
// --rate bytes/s from the first reading on. Each entry is sampled with V8's odds at the interval
// (1 − e^(−size/interval)) and, once sampled, counts size / odds bytes for as long as it lives —
// as V8 does. Clean readings (no garbage: none here) after V8's own major GCs, every
// --major-gc-every-s, and after the full GCs heapwatch asks for while the site is a candidate, as
// monitor/clean-readings.ts does: wanted at two ticks in a row, a sixth of the horizon apart and at least an interval, six in a
// row at most and 36 per window (--forced-gcs=no: none, as above the pause budget's 100 MB of heap,
// which the 100 MB site is). The leak starts with the process: nothing is raised before
// --warmup-s (heapwatch's warmupMs; 0: none). Nothing else: no
// garbage, no turnover, no other site, no clock — the chance of the samples alone, which is what
// sets the delay of a slow leak in a site whose other objects stay (docs/detection.md, the model).
// Seeded: the same flags print the same figures.
import { Detector } from '../dist/growth/detector.js';
import { SuspicionTracker } from '../dist/growth/suspicion.js';
import { GrowthWindow } from '../dist/growth/window.js';
import { Traceback } from '../dist/snapshot/traceback.js';
import { defaults } from 'heapwatch';
import { medianOf, parseFlags, shellCommand } from './lib/cli.mjs';

const flags = parseFlags(process.argv.slice(2), {
  rate: '2000',
  'holding-mb': '100',
  'sampling-kib': '512',
  runs: '200',
  'major-gc-every-s': '300',
  'forced-gcs': 'yes',
  'max-minutes': '120',
  'warmup-s': String(defaults.warmupMs / 1000),
});
const number = (name, { zeroAllowed = false } = {}) => {
  const value = Number(flags[name]);
  if (!(value > 0 || (zeroAllowed && value === 0))) {
    throw new Error(`Invalid --${name}="${flags[name]}" - expected a ${zeroAllowed ? 'non-negative' : 'positive'} number`);
  }
  return value;
};
const positive = (name) => number(name);
const rate = positive('rate');
const holdingBytes = number('holding-mb', { zeroAllowed: true }) * 1e6;
const samplingIntervalBytes = positive('sampling-kib') * 1024;
const runs = positive('runs');
const majorGcEveryS = positive('major-gc-every-s');
if (!['yes', 'no'].includes(flags['forced-gcs'])) throw new Error(`Invalid --forced-gcs="${flags['forced-gcs']}" - expected yes or no`);
const forcedGcs = flags['forced-gcs'] === 'yes';
const maxSeconds = positive('max-minutes') * 60;
const warmupSeconds = number('warmup-s', { zeroAllowed: true });

const ENTRY_BYTES = 1041;
const odds = 1 - Math.exp(-ENTRY_BYTES / samplingIntervalBytes);
const options = {
  intervalMs: defaults.intervalMs,
  windowMs: defaults.windowMs,
  growthThresholdBytes: defaults.growthThresholdBytes,
  warmupEndsAt: warmupSeconds * 1000,
};
const windowSlots = 121; // what the monitor keeps per site at the defaults (docs/detection.md, "Memory")

/** A small seeded generator (Park–Miller): the draws are the same at every run of the script. */
function generator(seed) {
  let state = seed;
  return () => (state = (state * 48271) % 2147483647) / 2147483647;
}

/**
 * When heapwatch asks V8 for a full GC (and takes a clean reading after it), as
 * monitor/clean-readings.ts decides: while a site is a candidate over a horizon, a sixth of it
 * apart (and an interval) from the latest clean reading and the latest request, from a bucket of
 * six refilled 36 times per window.
 */
function forcedGcPolicy() {
  let tokens = 6;
  let tokensAt;
  let lastRequested = Number.NEGATIVE_INFINITY;
  let wantedBefore = false;
  return {
    wants(now, wantedHorizonMs, lastClean = Number.NEGATIVE_INFINITY) {
      if (tokensAt !== undefined) tokens = Math.min(6, tokens + ((now - tokensAt) * 36) / options.windowMs);
      tokensAt = now;
      const wantedTwice = wantedBefore && wantedHorizonMs !== undefined;
      wantedBefore = wantedHorizonMs !== undefined;
      if (!wantedTwice || tokens < 1) return false;
      const spacing = Math.max(options.intervalMs, wantedHorizonMs / 6);
      if (now - lastClean < spacing || now - lastRequested < spacing) return false;
      lastRequested = now;
      tokens--;
      return true;
    },
  };
}

/** Seconds from the leak's start to the site's suspicion, and the horizon (s); Infinity if none. */
function delayOfOneDraw(seed) {
  const random = generator(seed);
  const window = new GrowthWindow(windowSlots, 10, options.windowMs);
  const clean = new GrowthWindow(windowSlots, 10, options.windowMs);
  const tracker = new SuspicionTracker(options.windowMs);
  const detector = new Detector(options, window, (key, since) => clean.series(key, since), tracker);
  const forced = forcedGcPolicy();
  let siteBytes = holdingBytes;
  let entries = 0;
  for (let seconds = 0; seconds <= maxSeconds; seconds += options.intervalMs / 1000) {
    for (const owed = Math.floor((rate * seconds) / ENTRY_BYTES); entries < owed; entries++) {
      if (random() < odds) siteBytes += ENTRY_BYTES / odds;
    }
    const reading = new Map([['leak', { key: 'leak', size: siteBytes, count: siteBytes / ENTRY_BYTES, traceback: new Traceback([]) }]]);
    const now = seconds * 1000;
    window.push(now, reading, siteBytes + 50e6, () => false);
    if (seconds % majorGcEveryS === 0) clean.push(now, reading, siteBytes + 50e6, () => false);
    const { raise, wantedHorizonMs } = detector.judge(now, samplingIntervalBytes);
    if (raise[0]) return { seconds, horizonS: raise[0][1].ms / 1000 };
    if (forcedGcs && forced.wants(now, wantedHorizonMs, clean.latestTimestamp)) clean.push(now, reading, siteBytes + 50e6, () => false);
  }
  return { seconds: Number.POSITIVE_INFINITY, horizonS: 0 };
}

const delays = Array.from({ length: runs }, (_, run) => delayOfOneDraw(run + 1).seconds).sort((a, b) => a - b);
const quantile = (q) => delays[Math.min(delays.length - 1, Math.floor(q * delays.length))];
const over = (minutes) => delays.filter((s) => s > minutes * 60).length;
console.log(`\`${shellCommand()}\`\n`);
console.log(`${rate} B/s into a site holding ${holdingBytes / 1e6} MB, sampled every ${samplingIntervalBytes / 1024} KiB, ${runs} draws:`);
console.log(`median ${medianOf(delays)} s, 10th percentile ${quantile(0.1)} s, 90th ${quantile(0.9)} s;`);
console.log(`over 15 min: ${over(15)}, over 30 min: ${over(30)}, over 60 min: ${over(60)}, not within ${maxSeconds / 60} min: ${over(maxSeconds / 60)}`);
