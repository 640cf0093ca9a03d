// Whether a process-level figure (memory no allocation site explains) rises in a
// sustained way: the sites' robust trend (quarter medians, Mann–Kendall, late steps), with the noise
// measured from the series itself. There are no samples here: the figure is exact, and what moves
// it by chance is the allocator and V8 keeping pages or giving them back, tens of megabytes at a time.
import { fallingStepsVariancePerMs, NOISE_DEVIATIONS, STEP_DEVIATIONS } from './noise.js';
import { mannKendallIncreasingP } from './robust.js';
import { quarterFit, TREND_P_VALUE } from './trend.js';
import type { BytesSeries } from './series.js';

/** The judgement of a process series over one horizon. */
export interface ProcessTrendAssessment {
  /** Growth over the span, from the medians of its first and last quarters (bytes; see `quarterFit`). */
  readonly growthBytes: number;
  /** The span the series covers (ms). */
  readonly spanMs: number;
  /** The series' wander over the span at `wanderPerMs` (bytes): what the growth must stand out of. */
  readonly noiseBytes: number;
  /** Whether the series rises in a sustained way past the threshold (see {@link assessProcessTrend}). */
  readonly rising: boolean;
}

/** The later quarter-to-quarter steps must each be at least this share of the threshold, as a site's. */
const MIN_STEP_SHARE = 1 / 8;
/** A series that never falls must have kept rising over this share of the horizon, as a site's. */
const MIN_RISES_SHARE = 0.6;
/** The steepest stretch of this share of a horizon's steps (one at least) is taken out before judging. */
const STEEPEST_SHARE = 1 / 8;

/**
 * How fast a process series wanders by chance (bytes² per ms): its falling steps squared, twice,
 * over the time the steps cover — `turnoverVariancePerMs`'s measure, applied to the whole window by
 * the caller, as the detector does for a site: a short horizon may hold no fall at all.
 */
export function wanderPerMs(series: BytesSeries): number {
  return fallingStepsVariancePerMs(series);
}

/**
 * The series with its steepest stretch of rises taken out: the run of ⌈1/8⌉ of its steps that rose
 * most is made flat, every later value lowered by that rise. What is left is growth that no short
 * stretch explains — not V8 keeping the pages of a heap that shrank (Node 26: +166 MiB in one
 * second, given back 12 s later), not a native cache filled in one go, not a warm-up's ramp.
 */
export function withoutSteepestStretch(series: BytesSeries): BytesSeries {
  const { bytes } = series;
  const steps = bytes.length - 1;
  if (steps < 1) return series;
  const k = Math.max(1, Math.round(steps * STEEPEST_SHARE));
  let best = 0;
  let bestEnd = -1;
  let sum = 0;
  for (let i = 1; i <= steps; i++) {
    sum += (bytes[i] as number) - (bytes[i - 1] as number);
    if (i > k) sum -= (bytes[i - k] as number) - (bytes[i - k - 1] as number);
    if (i >= k && sum > best) [best, bestEnd] = [sum, i];
  }
  if (bestEnd < 0) return series;
  const flattened = bytes.map((value, i) => (i <= bestEnd - k ? value : i >= bestEnd ? value - best : (bytes[bestEnd - k] as number)));
  return { bytes: flattened, timestamps: series.timestamps };
}

/**
 * Judges a process series over one horizon with the sites' rules (`assessTrend`) but the two that
 * belong to sampling, on the series without its steepest stretch ({@link withoutSteepestStretch}).
 * It is *rising* when all of these hold there:
 * 1. it grew by at least `thresholdBytes` (the rate between the first and the last quarter's
 *    medians, times the span);
 * 2. that growth stands {@link NOISE_DEVIATIONS} deviations above the wander over the span at
 *    `wanderPerMs` (measured by the caller over the whole window): a process whose RSS swings by
 *    tens of megabytes as Buffers come and go must grow by several swings;
 * 3. the steps from the second to the third and from the third to the fourth quarter are each at
 *    least 1/8 of the threshold and {@link STEP_DEVIATIONS} deviations of the wander over a quarter:
 *    a warm-up that stopped fails this;
 * 4. the Mann–Kendall test finds an increasing trend (p < {@link TREND_P_VALUE});
 * 5. a series that never falls kept rising over at least 0.6 of the span.
 * `growthBytes` is the growth of the series as it is.
 */
export function assessProcessTrend(series: BytesSeries, thresholdBytes: number, perMs: number): ProcessTrendAssessment | undefined {
  const whole = quarterFit(series);
  const fit = quarterFit(withoutSteepestStretch(series));
  if (!whole || !fit) return undefined;
  const [, q2, q3, q4] = fit.medians;
  const noiseBytes = Math.sqrt(perMs * fit.spanMs);
  const minStep = Math.max(thresholdBytes * MIN_STEP_SHARE, STEP_DEVIATIONS * Math.sqrt((perMs * fit.spanMs) / 4));
  const spread = fit.risesSpanMs === undefined || fit.risesSpanMs >= MIN_RISES_SHARE * fit.spanMs;
  const candidate = spread && fit.growth >= thresholdBytes && fit.growth >= NOISE_DEVIATIONS * noiseBytes && q3 - q2 >= minStep && q4 - q3 >= minStep;
  return {
    growthBytes: whole.growth,
    spanMs: whole.spanMs,
    noiseBytes: Math.round(noiseBytes),
    rising: candidate && mannKendallIncreasingP(series.bytes) < TREND_P_VALUE,
  };
}
