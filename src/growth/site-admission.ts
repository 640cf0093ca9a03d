import type { SiteReading } from '../snapshot/site-aggregator.js';

/** A tracked site as admission sees it: its live bytes per slot. */
interface Sized {
  readonly bytes: Float32Array;
}

/**
 * Which sites a window with room for `maxSites` tracks (see `growth/window.ts`): admits the
 * reading's untracked sites largest first while there is room, then makes room for larger
 * newcomers by evicting the smallest unprotected sites (their history is forgotten). `track` makes
 * the entry of an admitted site, its reading recorded at `slot`. Returns how many sites of the
 * reading were left untracked.
 */
export function admitLargest<S extends Sized>(
  sites: Map<string, S>,
  maxSites: number,
  readings: ReadonlyMap<string, SiteReading>,
  slot: number,
  protect: (key: string) => boolean,
  track: (reading: SiteReading) => S,
): number {
  let newcomers: SiteReading[] = [];
  // A site holding nothing live (churn, in allocation mode) is not tracked: its series would be zeros.
  for (const reading of readings.values()) if (!sites.has(reading.key) && (reading.size > 0 || reading.count > 0)) newcomers.push(reading);
  // Sites of this reading left untracked: newcomers not admitted, and tracked ones evicted.
  let dropped = newcomers.length;
  let evictable: Array<[string, S]> | undefined;
  const sortEvictable = () => [...sites].filter(([key]) => !protect(key)).sort((a, b) => (b[1].bytes[slot] as number) - (a[1].bytes[slot] as number));
  if (sites.size >= maxSites) {
    // Full: only a newcomer larger than the smallest evictable site can get in. Most of a large
    // heap's sites are not, and need no sorting.
    evictable = sortEvictable();
    const smallestBytes = (evictable.at(-1)?.[1].bytes[slot] as number | undefined) ?? Number.POSITIVE_INFINITY;
    newcomers = newcomers.filter((reading) => reading.size > smallestBytes);
  }
  newcomers.sort((a, b) => b.size - a.size || (a.key < b.key ? -1 : 1));
  for (const reading of newcomers) {
    if (sites.size >= maxSites) {
      evictable ??= sortEvictable();
      const smallest = evictable.at(-1);
      // Newcomers come largest first: once one cannot displace the smallest, none can.
      if (!smallest || (smallest[1].bytes[slot] as number) >= reading.size) break;
      evictable.pop();
      sites.delete(smallest[0]);
      if (readings.has(smallest[0])) dropped++;
    }
    sites.set(reading.key, track(reading));
    dropped--;
  }
  return dropped;
}
