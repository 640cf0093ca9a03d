import { mannKendallIncreasingP, medianOfSorted } from './robust.js';

/** What the detector needs to judge a series. */
export interface TrendOptions {
  /** Growth over the window that makes a site a suspect (bytes). */
  readonly growthThresholdBytes: number;
  /** The sampler's mean interval (bytes): it sets the noise of every estimate. */
  readonly samplingIntervalBytes: number;
}

/** The judgement of one site's series over a full window. */
export interface TrendAssessment {
  /** Median of the last quarter minus median of the first quarter (bytes). */
  readonly growthBytes: number;
  /** Medians of the four quarters of the window, oldest first (bytes). */
  readonly quarterMedians: readonly [number, number, number, number];
  /** One-sided Mann–Kendall p-value for an increasing trend. */
  readonly pValue: number;
  /** The sampling noise of the latest level: about sqrt(bytes × samplingIntervalBytes). */
  readonly noiseBytes: number;
  /** Growth of all sites together over the window, measured the same way (bytes). */
  readonly totalGrowthBytes: number;
  /** Whether the series shows a sustained rise past the threshold (see {@link assessTrend}). */
  readonly rising: boolean;
}

/** p-value below which the rise is a trend, not chance. */
export const TREND_P_VALUE = 0.01;
/** The last two quarter-to-quarter steps must each be at least this share of the threshold. */
const MIN_STEP_SHARE = 1 / 8;
/** Growth must stand this many noise deviations above the sampling noise. */
const NOISE_DEVIATIONS = 3;
/** All sites together must grow by at least this share of the site's growth. */
const MIN_TOTAL_SHARE = 0.5;

/**
 * Medians of the first quarter, the two halves of the middle, and the last quarter of a series of
 * at least 4 values. The outer quarters are as long as each other, so growth is not biased.
 */
export function medianOfQuarters(values: readonly number[]): [number, number, number, number] {
  const quarter = Math.max(1, Math.floor(values.length / 4));
  const middleLength = values.length - 2 * quarter;
  const half = Math.max(1, Math.floor(middleLength / 2));
  // The third part is the second half of the middle, or the whole middle when it is too short to halve.
  const thirdStart = middleLength > half ? quarter + half : quarter;
  return [
    medianOfRange(values, 0, quarter),
    medianOfRange(values, quarter, quarter + Math.min(half, Math.max(middleLength, 0))),
    medianOfRange(values, thirdStart, values.length - quarter),
    medianOfRange(values, values.length - quarter, values.length),
  ];
}

/** One scratch buffer for all medians of a tick: judging takes eight per tracked site. */
let scratch = new Float64Array(128);

/** The median of values[start, end), sorted in the scratch buffer: no allocation per call. */
function medianOfRange(values: readonly number[], start: number, end: number): number {
  const length = end - start;
  if (length <= 0) return Number.NaN;
  if (scratch.length < length) scratch = new Float64Array(length);
  for (let i = 0; i < length; i++) scratch[i] = values[start + i] as number;
  return medianOfSorted(scratch.subarray(0, length).sort());
}

/** Growth of a series the way the detector measures it: last quarter's median minus the first's. */
export function quarterGrowth(values: readonly number[]): number {
  const [first, , , last] = medianOfQuarters(values);
  return last - first;
}

/**
 * Judges whether a site's live bytes rise in a sustained way over the window. A series is
 * *rising* when all of these hold:
 * 1. it grew by at least `growthThresholdBytes` from the first quarter's median to the last's
 *    (medians: one spike moves nothing);
 * 2. that growth is at least 3 × the sampling noise sqrt(bytes × samplingIntervalBytes), so a
 *    steady site whose estimate wanders is not a suspect;
 * 3. it still grows in the later part of the window: the steps from the second to the third and
 *    from the third to the fourth quarter are both positive (at least 1/8 of the threshold). A
 *    cache that warmed up and levelled off, a one-time step, a queue that filled and stopped fail
 *    this;
 * 4. all sites together grew by at least half as much (`totalGrowthBytes`: the {@link quarterGrowth}
 *    of the totals, the same for every site of a tick): when a cache warms up, its entries move
 *    from the function that filled it to the handler that replaces them — the handler's site
 *    grows while the total does not;
 * 5. the Mann–Kendall test finds an increasing trend at p < 0.01: a sawtooth (a batch that builds
 *    and drops) has as many falling pairs as rising ones.
 */
export function assessTrend(bytes: readonly number[], totalGrowthBytes: number, options: TrendOptions): TrendAssessment {
  const quarterMedians = medianOfQuarters(bytes);
  const [q1, q2, q3, q4] = quarterMedians;
  const growthBytes = q4 - q1;
  const noiseBytes = Math.sqrt(Math.max(q4, 0) * options.samplingIntervalBytes);
  const minStep = options.growthThresholdBytes * MIN_STEP_SHARE;
  const candidate =
    growthBytes >= options.growthThresholdBytes &&
    growthBytes >= NOISE_DEVIATIONS * noiseBytes &&
    q3 - q2 >= minStep &&
    q4 - q3 >= minStep &&
    totalGrowthBytes >= MIN_TOTAL_SHARE * growthBytes;
  // The rank test is the costliest part: only for series that passed the cheap checks.
  const pValue = candidate ? mannKendallIncreasingP(bytes) : 1;
  return { growthBytes, quarterMedians, pValue, noiseBytes, totalGrowthBytes, rising: candidate && pValue < TREND_P_VALUE };
}
