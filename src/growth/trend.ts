import { growthNoiseBytes, NOISE_DEVIATIONS, STEP_DEVIATIONS, wanderBytes } from './noise.js';
import { mannKendallIncreasingP, medianOfSorted } from './robust.js';
import type { BytesSeries } from './series.js';

/** What the detector needs to judge a series over one horizon. */
export interface TrendOptions {
  /** Growth over the horizon that makes a site a suspect (bytes). */
  readonly thresholdBytes: number;
  /** The interval V8's sampler runs at (bytes): it sets the noise of every estimate. */
  readonly samplingIntervalBytes: number;
  /** How fast the site's estimate wanders as its objects turn over (bytes² per ms; see `noise.ts`). */
  readonly turnoverPerMs: number;
  /**
   * The noise of the part of the growth that is a share of the process's ArrayBuffer growth
   * (bytes; see `growth/external-share.ts`): the share's deviation times that growth. 0 for a site
   * judged on V8's heap alone.
   */
  readonly externalNoiseBytes?: number;
}

/** The judgement of one site's series over one horizon. */
export interface TrendAssessment {
  /** Growth over the span of the series, from the medians of its first and last quarters (bytes). */
  readonly growthBytes: number;
  /** The span the series covers (ms). */
  readonly spanMs: number;
  /** Medians of the four quarters of the span, oldest first (bytes). */
  readonly quarterMedians: readonly [number, number, number, number];
  /** One-sided Mann–Kendall p-value for an increasing trend (1 when not computed). */
  readonly pValue: number;
  /** The noise of the growth estimate (bytes; see `growthNoiseBytes`). */
  readonly noiseBytes: number;
  /** Growth of all sites together over the same span, measured the same way (bytes). */
  readonly totalGrowthBytes: number;
  /**
   * Whether it still grows at the end of the horizon: its last quarter-to-quarter step is at
   * least 1/8 of the threshold (rule 3's share, without its bar of the wander).
   */
  readonly stillRising: boolean;
  /** Whether the series shows a sustained rise past the threshold (see {@link assessTrend}). */
  readonly rising: boolean;
}

/** p-value below which the rise is a trend, not chance: five readings that all rise reach 0.014. */
export const TREND_P_VALUE = 0.02;
/** The last two quarter-to-quarter steps must each be at least this share of the threshold. */
const MIN_STEP_SHARE = 1 / 8;
/** All sites together must grow by at least this share of the site's growth. */
export const MIN_TOTAL_SHARE = 0.5;
/**
 * A series that never falls must have kept rising over at least this share of the horizon: a
 * table that fills for half a window and then stays rises over half of it, a leak over nearly all
 * (for k samples spread at random over the horizon, their first and last fall within 0.6 of it in
 * 7 % of draws at k = 9, 1.3 % at k = 13).
 */
const MIN_RISES_SHARE = 0.6;

/** One scratch buffer for all medians of a tick: judging takes eight per site and horizon. */
let scratch = new Float64Array(128);

/** The median of values[start, end), sorted in the scratch buffer: no allocation per call. */
function medianOfRange(values: readonly number[], start: number, end: number): number {
  const length = end - start;
  if (length <= 0) return Number.NaN;
  if (scratch.length < length) scratch = new Float64Array(length);
  for (let i = 0; i < length; i++) scratch[i] = values[start + i] as number;
  return medianOfSorted(scratch.subarray(0, length).sort());
}

/** The line through the medians of a series' quarters of time. */
export interface QuarterFit {
  /** Median value in each quarter of the span, oldest first. */
  readonly medians: [number, number, number, number];
  /** Growth over the whole span, at the rate between the first and the last quarter's medians. */
  readonly growth: number;
  readonly spanMs: number;
  /**
   * For a series that never falls, the time from its first rise to its last (ms): every rise is
   * new live objects, so this is how long it kept gaining them. Undefined when the series falls.
   */
  readonly risesSpanMs: number | undefined;
}

/**
 * Splits a series into four quarters of its time span (readings may be unevenly spaced: older
 * ones are thinned out) and takes each quarter's median, value and time; the growth over the
 * span is the rate between the first and the last quarter's medians times the span, no more than
 * the series rose (or fell) to its latest value — or, for a series that never falls, the rise
 * between the medians of its first three and last three readings when that is more (the line
 * through the quarters' middles leaves out the samples of the first and last eighths: at 10 KB/s
 * and 512 KiB, one draw in twenty passed 15 minutes for want of them; bench/detection-model.mjs).
 * Medians: one spike moves nothing. Undefined for fewer than four readings or no span of time.
 */
export function quarterFit(series: BytesSeries): QuarterFit | undefined {
  const { bytes, timestamps } = series;
  const n = bytes.length;
  if (n < 4) return undefined;
  const start = timestamps[0] as number;
  const spanMs = (timestamps[n - 1] as number) - start;
  if (!(spanMs > 0)) return undefined;
  const medians: [number, number, number, number] = [0, 0, 0, 0];
  const times: number[] = [0, 0, 0, 0];
  let from = 0;
  for (let q = 0; q < 4; q++) {
    // Each quarter ends at its quarter of the span, the last one with the series; each keeps at
    // least one reading, and leaves one to each later quarter (a late timer must not empty one).
    const end = start + ((q + 1) * spanMs) / 4;
    let to = from + 1;
    while (to < n - (3 - q) && (q === 3 || (timestamps[to] as number) < end)) to++;
    medians[q] = medianOfRange(bytes, from, to);
    times[q] = medianOfRange(timestamps, from, to);
    from = to;
  }
  const elapsed = (times[3] as number) - (times[0] as number);
  const extrapolated = elapsed > 0 ? ((medians[3] - medians[0]) * spanMs) / elapsed : 0;
  // No more than the series moved to its latest value: the line through two medians can overshoot
  // an uneven series, and a site cannot have grown by more than it holds. Whole bytes.
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const value of bytes) {
    if (value < min) min = value;
    if (value > max) max = value;
  }
  const last = bytes[n - 1] as number;
  let growth = Math.max(Math.min(extrapolated, last - min), last - max);
  // A series that never falls holds no garbage collected within it and no object that died: every
  // step is new live objects. The medians' line counts the steps between the first and the last
  // quarter's middles only; the ends' own medians count them all, as robust to one spike.
  const risesSpanMs = risesSpan(bytes, timestamps);
  if (n >= 6 && risesSpanMs !== undefined) growth = Math.max(growth, medianOf3(bytes, n - 3) - medianOf3(bytes, 0));
  return { medians, growth: Math.round(growth), spanMs, risesSpanMs };
}

/** The time from the first rise to the last of a series that never falls; undefined if it falls. */
function risesSpan(bytes: readonly number[], timestamps: readonly number[]): number | undefined {
  let first: number | undefined;
  let last = 0;
  for (let i = 1; i < bytes.length; i++) {
    const step = (bytes[i] as number) - (bytes[i - 1] as number);
    if (step < 0) return undefined;
    if (step > 0) {
      first ??= timestamps[i] as number;
      last = timestamps[i] as number;
    }
  }
  return first === undefined ? 0 : last - first;
}

/** The median of values[from], values[from + 1] and values[from + 2]. */
function medianOf3(values: readonly number[], from: number): number {
  const [a, b, c] = [values[from] as number, values[from + 1] as number, values[from + 2] as number];
  return Math.max(Math.min(a, b), Math.min(Math.max(a, b), c));
}

/** Growth of a series the way the detector measures it (0 when it cannot be measured). */
export function quarterGrowth(series: BytesSeries): number {
  return quarterFit(series)?.growth ?? 0;
}

/**
 * Judges whether a site's live bytes rise in a sustained way over one horizon. A series is
 * *rising* when all of these hold:
 * 1. it grew by at least the horizon's threshold (the rate between the first and the last
 *    quarter's medians, times the span);
 * 2. that growth stands {@link NOISE_DEVIATIONS} deviations above its noise: the samples it
 *    brought, the wander of the site's turnover over the horizon (`growthNoiseBytes`), and for a
 *    site judged with a share of the ArrayBuffer growth, that share's noise;
 * 3. it still grows in the later part of the horizon: the steps from the second to the third and
 *    from the third to the fourth quarter are both at least 1/8 of the threshold, and at least
 *    {@link STEP_DEVIATIONS} deviations of the site's wander over a quarter. A cache that warmed up
 *    and levelled off (and now turns over), a one-time step, a queue that filled and stopped fail
 *    this;
 * 4. all sites together grew by at least half as much (`totalGrowthBytes`: the {@link quarterGrowth}
 *    of the totals over the same horizon, the same for every site of a tick): when a cache warms up, its entries move from the function that filled
 *    it to the handler that replaces them — the handler's site grows while the total does not;
 * 5. the Mann–Kendall test finds an increasing trend (p < {@link TREND_P_VALUE}): a sawtooth (a
 *    batch that builds and drops) has as many falling pairs as rising ones;
 * 6. a series that never falls (objects that stay: each rise is new live objects) kept rising over
 *    at least {@link MIN_RISES_SHARE} of the horizon: a table that filled for half a window in its
 *    middle and then stayed has every other rule of a leak over the window.
 */
export function assessTrend(series: BytesSeries, totalGrowthBytes: number, options: TrendOptions): TrendAssessment | undefined {
  const fit = quarterFit(series);
  if (!fit) return undefined;
  const [, q2, q3, q4] = fit.medians;
  const growthBytes = fit.growth;
  const noiseBytes = Math.hypot(
    growthNoiseBytes(growthBytes, q4, fit.spanMs, options.samplingIntervalBytes, options.turnoverPerMs),
    options.externalNoiseBytes ?? 0,
  );
  // A step between two quarters must also stand out of the site's wander over a quarter: after a
  // cache has warmed up, its turnover moves the late quarters by chance.
  const quarterWander = wanderBytes(q4, fit.spanMs / 4, options.samplingIntervalBytes, options.turnoverPerMs);
  const minStep = Math.max(options.thresholdBytes * MIN_STEP_SHARE, STEP_DEVIATIONS * quarterWander);
  const spread = fit.risesSpanMs === undefined || fit.risesSpanMs >= MIN_RISES_SHARE * fit.spanMs;
  const candidate =
    spread &&
    growthBytes >= options.thresholdBytes &&
    growthBytes >= NOISE_DEVIATIONS * noiseBytes &&
    q3 - q2 >= minStep &&
    q4 - q3 >= minStep &&
    totalGrowthBytes >= MIN_TOTAL_SHARE * growthBytes;
  // The rank test is the costliest part: only for series that passed the cheap checks.
  const pValue = candidate ? mannKendallIncreasingP(series.bytes) : 1;
  return {
    growthBytes,
    spanMs: fit.spanMs,
    quarterMedians: fit.medians,
    pValue,
    noiseBytes,
    totalGrowthBytes,
    stillRising: q4 - q3 >= options.thresholdBytes * MIN_STEP_SHARE,
    rising: candidate && pValue < TREND_P_VALUE,
  };
}
