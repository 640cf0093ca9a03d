import { mannKendallIncreasingP } from './robust.js';
import type { SiteSeries } from './window.js';

/** Readings without garbage the confirmation needs within the window. */
export const MIN_CLEAN_READINGS = 4;
/** p-value the clean readings must reach: they are few, so the bar is lower than the dirty series'. */
const CLEAN_P_VALUE = 0.05;

/**
 * Whether readings taken right after a full GC — with no garbage in them — confirm a site's rise.
 * Between two major GCs, the native reader counts dead objects in old space as live: a batch
 * that is built and dropped, or request data promoted before it died, piles up like a leak until
 * the next major GC. Readings right after one settle it. They must:
 * - be at least {@link MIN_CLEAN_READINGS}, spread over at least half the window, the latest
 *   no older than a quarter of it;
 * - rise (Mann–Kendall p < 0.05), by at least the threshold scaled to the span they cover, and
 *   rise in both their first and their second half (by a quarter of that pro rata each): a
 *   one-time step — a cache filled in one go — rises in one half only;
 * - come with growth of all sites together of at least half as much (see `assessTrend`).
 */
export function cleanReadingsConfirm(
  clean: SiteSeries | undefined,
  now: number,
  windowMs: number,
  growthThresholdBytes: number,
): boolean {
  if (!clean || clean.bytes.length < MIN_CLEAN_READINGS) return false;
  const first = clean.timestamps[0] as number;
  const last = clean.timestamps.at(-1) as number;
  const span = last - first;
  if (span < windowMs / 2 || now - last > windowMs / 4) return false;
  const growth = (clean.bytes.at(-1) as number) - (clean.bytes[0] as number);
  const totalGrowth = (clean.totals.at(-1) as number) - (clean.totals[0] as number);
  const middle = Math.floor((clean.bytes.length - 1) / 2);
  const riseOver = (from: number, to: number) => {
    const rise = (clean.bytes[to] as number) - (clean.bytes[from] as number);
    const elapsed = (clean.timestamps[to] as number) - (clean.timestamps[from] as number);
    return rise >= (growthThresholdBytes * elapsed) / windowMs / 4;
  };
  return (
    growth >= (growthThresholdBytes * span) / windowMs &&
    riseOver(0, middle) &&
    riseOver(middle, clean.bytes.length - 1) &&
    totalGrowth >= growth / 2 &&
    mannKendallIncreasingP(clean.bytes) < CLEAN_P_VALUE
  );
}
