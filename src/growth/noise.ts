import type { BytesSeries } from './series.js';

/**
 * Growth must stand this many deviations of its noise above zero: for a site whose objects stay,
 * nine samples. At 2.2 (five samples) a 2 KB/s leak in a large site passed the hour in 9 draws of
 * 200 instead of 28, but a table that fills by 1.2 to 1.9 times the threshold over half a window
 * later in life was raised in 47 to 89 % of draws at the defaults, against 4 to 35 % at 3
 * (bench/lookalike-model.mjs): at 512 KiB such a table is five to eight samples, and its estimate
 * passes twice the threshold by chance.
 */
export const NOISE_DEVIATIONS = 3;
/**
 * A late step of a rise must stand this many deviations of the site's wander above zero: as many
 * as growth stands above its noise. At two, a cache that warmed up for half a window and then
 * turned over wandered past them in about one run in ten (test/scenarios, three at a time).
 */
export const STEP_DEVIATIONS = 3;
/**
 * Clean readings the wander is measured from; until there are this many, it is measured from the
 * tick readings (garbage included: more, the safe side). From a few steps, the falling ones are as
 * likely to be none as not (a turning-over site rises in two steps of three one time in four), and
 * a wander of zero lets a warm-up's chance rise pass for a leak's.
 */
export const MIN_CLEAN_READINGS_FOR_WANDER = 9;

/**
 * How fast a site's estimate wanders as its objects turn over: the variance, per millisecond, of
 * the change between two readings (bytes² per ms). On readings without garbage (right after a full
 * GC) a site whose objects do not change does not move at all — V8 keeps each sample for as long as
 * its object lives — and one whose objects die and are replaced moves by the samples that left and
 * those that came, a random walk whose variance grows with the time between the readings (see
 * docs/detection.md, "The noise of growth"). Samples leave a site only when its objects die, so the
 * falling steps measure the turnover alone, whatever the site's growth brings: their squares, twice
 * (the rising half of the wander mirrors them), over the time the steps cover. A leak whose objects
 * never die has none. On tick readings, garbage collected between two readings falls too: more
 * than the wander, the safe side.
 */
export function turnoverVariancePerMs(series: BytesSeries | undefined): number {
  if (!series || series.bytes.length < 3) return 0;
  return fallingStepsVariancePerMs(series);
}

/** A series' falling steps squared, twice, over the time all its steps cover (bytes² per ms). */
export function fallingStepsVariancePerMs(series: BytesSeries): number {
  let squares = 0;
  let elapsed = 0;
  for (let i = 1; i < series.bytes.length; i++) {
    const step = (series.bytes[i] as number) - (series.bytes[i - 1] as number);
    if (step < 0) squares += step * step;
    elapsed += (series.timestamps[i] as number) - (series.timestamps[i - 1] as number);
  }
  return elapsed > 0 ? (2 * squares) / elapsed : 0;
}

/**
 * The standard deviation of a site's wander over `ms` as its objects turn over (bytes): a random
 * walk at the measured rate, up to twice the site's whole variance (L × R for L live bytes sampled
 * every R), reached once every object has been replaced.
 */
export function wanderBytes(liveBytes: number, ms: number, samplingIntervalBytes: number, turnoverPerMs: number): number {
  return Math.sqrt(Math.min(turnoverPerMs * ms, 2 * Math.max(liveBytes, 0) * samplingIntervalBytes));
}

/**
 * The standard deviation of a growth estimate over `horizonMs` (bytes): the noise a site's growth
 * must stand out of. Two sources, independent:
 * - the samples the growth brought: growth G brings about G / R samples of R bytes each, a Poisson
 *   count of variance G × R. This alone counts for a site whose other objects do not change;
 * - the wander of the site's turnover over the horizon ({@link wanderBytes}).
 */
export function growthNoiseBytes(
  growthBytes: number,
  liveBytes: number,
  horizonMs: number,
  samplingIntervalBytes: number,
  turnoverPerMs: number,
): number {
  const samples = Math.max(growthBytes, 0) * samplingIntervalBytes;
  return Math.sqrt(samples + wanderBytes(liveBytes, horizonMs, samplingIntervalBytes, turnoverPerMs) ** 2);
}
