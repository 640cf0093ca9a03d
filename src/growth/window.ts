import type { SiteReading } from '../snapshot/site-aggregator.js';
import type { Traceback } from '../snapshot/traceback.js';

/** The readings of one site over the window, oldest first. */
export interface SiteSeries {
  readonly key: string;
  /** Estimated live bytes per reading. */
  readonly bytes: readonly number[];
  /** Estimated live objects per reading. */
  readonly counts: readonly number[];
  /** When each reading was taken (ms since the epoch). */
  readonly timestamps: readonly number[];
  /** Estimated live bytes of all sites at each reading. */
  readonly totals: readonly number[];
  /** The site's largest stack at the latest reading that held it; its `site` is the site. */
  readonly traceback: Traceback;
}

interface TrackedSite {
  readonly bytes: Float64Array;
  readonly counts: Float64Array;
  /** Index of the first reading taken while this site was tracked. */
  readonly firstReading: number;
  /** Index of the latest reading in which the site held live bytes. */
  lastHeld: number;
  traceback: Traceback;
}

/**
 * A bounded window of readings: the last `capacity` readings, for at most `maxSites` sites. Memory
 * is capacity × maxSites × 16 bytes at most. Sites are admitted largest first; when the cap is
 * reached, the smallest unprotected sites are dropped and their history forgotten.
 */
export class GrowthWindow {
  private readonly timestamps: Float64Array;
  private readonly totals: Float64Array;
  private readonly sites = new Map<string, TrackedSite>();
  /** Readings pushed so far; the next one goes to slot `readings % capacity`. */
  private readings = 0;
  /** Sites of the latest reading left untracked because of the cap. */
  droppedSites = 0;

  constructor(
    readonly capacity: number,
    readonly maxSites: number,
  ) {
    this.timestamps = new Float64Array(capacity);
    this.totals = new Float64Array(capacity);
  }

  /** When the latest reading was taken, or undefined before the first. */
  get latestTimestamp(): number | undefined {
    return this.readings === 0 ? undefined : this.timestamps[(this.readings - 1) % this.capacity];
  }

  get size(): number {
    return this.sites.size;
  }

  /**
   * Adds one reading: every site's live bytes at `timestamp`, and the total of all sites. Tracked
   * sites missing from it hold nothing now (0 bytes). `protect` tells which sites must not be
   * evicted (current suspects).
   */
  push(timestamp: number, readings: ReadonlyMap<string, SiteReading>, totalBytes: number, protect: (key: string) => boolean): void {
    const slot = this.readings % this.capacity;
    this.timestamps[slot] = timestamp;
    this.totals[slot] = totalBytes;
    for (const [key, site] of this.sites) {
      const reading = readings.get(key);
      site.bytes[slot] = reading?.size ?? 0;
      site.counts[slot] = reading?.count ?? 0;
      if (!reading) continue;
      site.traceback = reading.traceback;
      if (reading.size > 0) site.lastHeld = this.readings;
    }
    this.admit(readings, slot, protect);
    // Forget sites that have held nothing for a whole window.
    for (const [key, site] of this.sites) {
      if (this.readings - site.lastHeld >= this.capacity && !protect(key)) this.sites.delete(key);
    }
    this.readings++;
  }

  /**
   * Admits the reading's untracked sites largest first while there is room, then makes room for
   * larger newcomers by evicting the smallest unprotected sites.
   */
  private admit(readings: ReadonlyMap<string, SiteReading>, slot: number, protect: (key: string) => boolean): void {
    let newcomers: SiteReading[] = [];
    for (const reading of readings.values()) if (!this.sites.has(reading.key)) newcomers.push(reading);
    // Sites of this reading left untracked: newcomers not admitted, and tracked ones evicted.
    let dropped = newcomers.length;
    let evictable: Array<[string, TrackedSite]> | undefined;
    const sortEvictable = () =>
      [...this.sites].filter(([key]) => !protect(key)).sort((a, b) => (b[1].bytes[slot] as number) - (a[1].bytes[slot] as number));
    if (this.sites.size >= this.maxSites) {
      // Full: only a newcomer larger than the smallest evictable site can get in. Most of a large
      // heap's sites are not, and need no sorting.
      evictable = sortEvictable();
      const smallestBytes = (evictable.at(-1)?.[1].bytes[slot] as number | undefined) ?? Number.POSITIVE_INFINITY;
      newcomers = newcomers.filter((reading) => reading.size > smallestBytes);
    }
    newcomers.sort((a, b) => b.size - a.size || (a.key < b.key ? -1 : 1));
    for (const reading of newcomers) {
      if (this.sites.size >= this.maxSites) {
        evictable ??= sortEvictable();
        const smallest = evictable.at(-1);
        // Newcomers come largest first: once one cannot displace the smallest, none can.
        if (!smallest || (smallest[1].bytes[slot] as number) >= reading.size) break;
        evictable.pop();
        this.sites.delete(smallest[0]);
        if (readings.has(smallest[0])) dropped++;
      }
      const site: TrackedSite = {
        bytes: new Float64Array(this.capacity),
        counts: new Float64Array(this.capacity),
        firstReading: this.readings,
        lastHeld: this.readings,
        traceback: reading.traceback,
      };
      site.bytes[slot] = reading.size;
      site.counts[slot] = reading.count;
      this.sites.set(reading.key, site);
      dropped--;
    }
    this.droppedSites = dropped;
  }

  keys(): IterableIterator<string> {
    return this.sites.keys();
  }

  /** Readings of the window taken while the site was tracked. */
  private trackedLength(site: TrackedSite): number {
    return Math.min(this.capacity, this.readings - site.firstReading);
  }

  /** The slot of the i-th of the latest `length` readings, oldest first. */
  private slotOf(i: number, length: number): number {
    return (this.readings - length + i) % this.capacity;
  }

  /** Whether the site has been tracked for a whole window (no verdict before that). */
  isFull(key: string): boolean {
    const site = this.sites.get(key);
    return site !== undefined && this.readings - site.firstReading >= this.capacity;
  }

  /**
   * The site's live bytes, oldest first, over the whole window or as much as was tracked: what
   * the judgement reads of every site at every tick, without building the rest of {@link series}.
   */
  bytesOf(key: string): number[] | undefined {
    const site = this.sites.get(key);
    if (!site) return undefined;
    const length = this.trackedLength(site);
    const bytes = new Array<number>(length);
    for (let i = 0; i < length; i++) bytes[i] = site.bytes[this.slotOf(i, length)] as number;
    return bytes;
  }

  /** The site's live bytes at the latest reading (0 when untracked). */
  latestBytesOf(key: string): number {
    const site = this.sites.get(key);
    return site === undefined || this.readings === 0 ? 0 : (site.bytes[(this.readings - 1) % this.capacity] as number);
  }

  /**
   * Largest minus smallest live bytes of the site over the window: a bound on any growth the
   * judgement could find, read without copying the series.
   */
  rangeOf(key: string): number {
    const site = this.sites.get(key);
    if (!site) return 0;
    const length = this.trackedLength(site);
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < length; i++) {
      const value = site.bytes[this.slotOf(i, length)] as number;
      if (value < min) min = value;
      if (value > max) max = value;
    }
    return length === 0 ? 0 : max - min;
  }

  /** The live bytes of all sites at each reading of the window, oldest first. */
  totalsSeries(): number[] {
    const length = Math.min(this.capacity, this.readings);
    const totals = new Array<number>(length);
    for (let i = 0; i < length; i++) totals[i] = this.totals[this.slotOf(i, length)] as number;
    return totals;
  }

  /**
   * The site's readings, oldest first: the whole window, or as much as was tracked; with `since`,
   * only the readings taken at or after that time.
   */
  series(key: string, since = Number.NEGATIVE_INFINITY): SiteSeries | undefined {
    const site = this.sites.get(key);
    if (!site) return undefined;
    const length = this.trackedLength(site);
    const bytes: number[] = [];
    const counts: number[] = [];
    const timestamps: number[] = [];
    const totals: number[] = [];
    for (let i = 0; i < length; i++) {
      const slot = this.slotOf(i, length);
      if ((this.timestamps[slot] as number) < since) continue;
      bytes.push(site.bytes[slot] as number);
      counts.push(site.counts[slot] as number);
      timestamps.push(this.timestamps[slot] as number);
      totals.push(this.totals[slot] as number);
    }
    return { key, bytes, counts, timestamps, totals, traceback: site.traceback };
  }
}
