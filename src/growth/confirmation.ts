import { STEP_DEVIATIONS, wanderBytes } from './noise.js';
import { mannKendallIncreasingP } from './robust.js';
import type { SiteSeries } from './series.js';

/** Readings without garbage the confirmation needs within the horizon. */
export const MIN_CLEAN_READINGS = 3;
/** p-value the clean readings must reach, from four on: they are few, so the bar is lower than the dirty series'. */
const CLEAN_P_VALUE = 0.05;

/** The horizon a confirmation is asked for. */
export interface ConfirmationOptions {
  /** The horizon's span (ms). */
  readonly horizonMs: number;
  /** Growth over the horizon that makes a site a suspect (bytes). */
  readonly thresholdBytes: number;
  /** The interval V8's sampler runs at (bytes). */
  readonly samplingIntervalBytes: number;
  /** How fast the site's estimate wanders as its objects turn over (bytes² per ms; see `noise.ts`). */
  readonly turnoverPerMs: number;
}

/**
 * Whether readings taken right after a full GC — with no garbage in them — confirm a site's rise
 * over a horizon. Between two major GCs, the native reader counts dead objects in old space as
 * live: a batch that is built and dropped, or request data promoted before it died, piles up like
 * a leak until the next major GC. Readings right after one settle it: they confirm the direction
 * and the shape of a rise whose size and noise the tick readings already judged (`assessTrend`).
 * Those of the horizon must:
 * - be at least {@link MIN_CLEAN_READINGS}, spread over at least half the horizon, the latest no
 *   older than a quarter of it;
 * - rise by at least the threshold scaled to the span they cover, and rise in both their first
 *   and their second half of time (by a quarter of that pro rata each, and by {@link STEP_DEVIATIONS}
 *   deviations of the site's wander over the half): a one-time step — a cache filled in one go —
 *   rises in one half only, and a cache that filled and now turns over wanders in its second;
 * - from four readings on, rise by the Mann–Kendall test (p < 0.05);
 * - come with growth of all sites together of at least half as much (see `assessTrend`).
 */
export function cleanReadingsConfirm(clean: SiteSeries | undefined, now: number, options: ConfirmationOptions): boolean {
  if (!clean || clean.bytes.length < MIN_CLEAN_READINGS) return false;
  const { horizonMs, thresholdBytes } = options;
  const first = clean.timestamps[0] as number;
  const last = clean.timestamps.at(-1) as number;
  const span = last - first;
  if (span < horizonMs / 2 || now - last > horizonMs / 4) return false;
  const growth = (clean.bytes.at(-1) as number) - (clean.bytes[0] as number);
  const totalGrowth = (clean.totals.at(-1) as number) - (clean.totals[0] as number);
  // The halves are of time, not of readings: clean readings come unevenly (heapwatch asks for
  // them while a site rises), and a middle by count can fall inside a warm-up's tail.
  const middle = middleReading(clean.timestamps, first + span / 2);
  const riseOver = (from: number, to: number) => {
    const rise = (clean.bytes[to] as number) - (clean.bytes[from] as number);
    const elapsed = (clean.timestamps[to] as number) - (clean.timestamps[from] as number);
    const wander = wanderBytes(clean.bytes[to] as number, elapsed, options.samplingIntervalBytes, options.turnoverPerMs);
    return rise >= Math.max((thresholdBytes * elapsed) / horizonMs / 4, STEP_DEVIATIONS * wander);
  };
  return (
    growth >= (thresholdBytes * span) / horizonMs &&
    riseOver(0, middle) &&
    riseOver(middle, clean.bytes.length - 1) &&
    totalGrowth >= growth / 2 &&
    (clean.bytes.length < 4 || mannKendallIncreasingP(clean.bytes) < CLEAN_P_VALUE)
  );
}

/** The reading nearest to `time`, neither the first nor the last (each half keeps one step). */
function middleReading(timestamps: readonly number[], time: number): number {
  let nearest = 1;
  for (let i = 2; i < timestamps.length - 1; i++) {
    if (Math.abs((timestamps[i] as number) - time) < Math.abs((timestamps[nearest] as number) - time)) nearest = i;
  }
  return nearest;
}
