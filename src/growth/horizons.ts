/** Readings' intervals in the shortest horizon: five readings, the fewest a trend test can call a rise. */
export const SHORTEST_HORIZON_INTERVALS = 4;

/** One span of time, ending now, over which a site's growth is judged. */
export interface Horizon {
  /** The span (milliseconds). */
  readonly ms: number;
  /** Growth over the span that makes a site a suspect, before the noise test (bytes). */
  readonly thresholdBytes: number;
}

/**
 * The horizons a site is judged over, shortest first: four reading intervals, then each ∛2 times
 * the one before (in whole intervals: every doubling in three steps) up to the window, and the
 * window itself. A fast leak shows over the short ones, a slow one needs the long ones; the steps
 * are fine enough that a leak is judged soon after it has grown enough, whatever its rate. Over the window the threshold is `growthThresholdBytes`; over every shorter horizon it is
 * twice that, so that a rise must have gone on for a while before it is believed: a cache that
 * warms up steadily and then levels off is never suspected unless it grows by more than twice the
 * threshold while it warms up (at that size, while it lasts, a warm-up and a leak are the same
 * evidence), and once it has levelled off the window shows it (its late quarters are flat).
 */
export function horizonsOf(intervalMs: number, windowMs: number, growthThresholdBytes: number): Horizon[] {
  const horizons: Horizon[] = [];
  for (let k = 0; ; k++) {
    const ms = Math.round(SHORTEST_HORIZON_INTERVALS * 2 ** (k / 3)) * intervalMs;
    if (ms >= windowMs) break;
    if (ms !== horizons.at(-1)?.ms) horizons.push({ ms, thresholdBytes: 2 * growthThresholdBytes });
  }
  horizons.push({ ms: windowMs, thresholdBytes: growthThresholdBytes });
  return horizons;
}
