import type { BytesSeries } from './window.js';

/** Growth must stand this many deviations of the site's wander above zero (its turnover over the horizon). */
export const NOISE_DEVIATIONS = 3;
/**
 * Growth must stand this many deviations of its own samples' noise (a Poisson count) above zero:
 * at 2.2, five samples' worth. A site whose objects stay moves only by new samples, each a live
 * object kept, so this bar is about the estimate's size against the threshold, not about garbage
 * or turnover — the clean readings, the late steps and the wander (at 3) keep those out. At 3
 * (nine samples), a 2 KB/s leak brings 13.7 samples an hour at 512 KiB, and in one hour of six
 * too few of them landed in the window to pass (bench/detection-model.mjs).
 */
export const SAMPLE_DEVIATIONS = 2.2;
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

/**
 * Whether growth stands out of its noise: {@link SAMPLE_DEVIATIONS} deviations of the samples it
 * brought and {@link NOISE_DEVIATIONS} of the site's wander over the horizon, together (the two
 * are independent: their variances add, each weighted by its bar).
 */
export function standsOutOfNoise(
  growthBytes: number,
  liveBytes: number,
  horizonMs: number,
  samplingIntervalBytes: number,
  turnoverPerMs: number,
): boolean {
  if (growthBytes <= 0) return false;
  const samples = growthBytes * samplingIntervalBytes;
  const wander = wanderBytes(liveBytes, horizonMs, samplingIntervalBytes, turnoverPerMs) ** 2;
  return growthBytes ** 2 >= SAMPLE_DEVIATIONS ** 2 * samples + NOISE_DEVIATIONS ** 2 * wander;
}
