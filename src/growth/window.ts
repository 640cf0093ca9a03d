import type { SiteReading } from '../snapshot/site-aggregator.js';
import type { Traceback } from '../snapshot/traceback.js';
import { ProcessBufferSlots, SiteBufferSlots } from './buffer-slots.js';
import type { OutsideReading } from './buffer-slots.js';
import type { BytesSeries, SiteSeries } from './series.js';
import { OutsideHeapView } from './outside-view.js';
import { admitLargest } from './site-admission.js';
import { ReadingTimeline } from './timeline.js';

interface TrackedSite {
  /**
   * Per slot of the timeline. 32-bit floats: an estimate is a count of samples times a size, and
   * 24 bits of mantissa keep a 1 GB site within 64 bytes — half the memory of 64-bit ones.
   */
  readonly bytes: Float32Array;
  readonly counts: Float32Array;
  /** Of `bytes`, those outside V8's heap: ArrayBuffer wrappers and Buffers sampled in JavaScript. */
  readonly buffers: SiteBufferSlots;
  /**
   * When the site was first tracked, or its series last started anew (see {@link GrowthWindow.restart}):
   * slots holding older readings are not the site's.
   */
  since: number;
  /** When the site last held live bytes. */
  lastHeld: number;
  traceback: Traceback;
}

/**
 * A bounded window of readings: those of the last `spanMs`, in at most `capacity` slots (see
 * {@link ReadingTimeline}: thinned out with age when they do not all fit), for at most `maxSites`
 * sites. Memory is capacity × maxSites × 16 bytes at most. Sites are admitted largest first; when
 * the cap is reached, the smallest unprotected sites are dropped and their history forgotten.
 */
export class GrowthWindow {
  private readonly timeline: ReadingTimeline;
  private readonly totals: Float64Array;
  /** The process's ArrayBuffer memory and all sites' wrapper bytes per slot. */
  private readonly outsideSlots: ProcessBufferSlots;
  /** The memory outside V8's heap over this window's readings: the process's and each site's. */
  readonly outside: OutsideHeapView;
  private readonly sites = new Map<string, TrackedSite>();
  /** Sites of the latest reading left untracked because of the cap. */
  droppedSites = 0;
  /** Readings before this time belong to no series (see {@link restart}). */
  private seriesStart = Number.NEGATIVE_INFINITY;

  constructor(
    readonly capacity: number,
    readonly maxSites: number,
    readonly spanMs: number,
  ) {
    this.timeline = new ReadingTimeline(capacity, spanMs);
    this.totals = new Float64Array(capacity);
    this.outsideSlots = new ProcessBufferSlots(capacity);
    this.outside = new OutsideHeapView(this.timeline, this.outsideSlots, this.sites);
  }

  /** When the latest reading was taken, or undefined before the first. */
  get latestTimestamp(): number | undefined {
    return this.timeline.latestTimestamp;
  }

  get size(): number {
    return this.sites.size;
  }

  /**
   * Adds one reading: every site's live bytes at `timestamp`, and the total of all sites. Tracked
   * sites missing from it hold nothing now (0 bytes). `protect` tells which sites must not be
   * evicted (current suspects). `outside` is the process's ArrayBuffer memory at the reading and
   * the wrapper bytes of all sites (0 when not read: nothing is attributed).
   */
  push(
    timestamp: number,
    readings: ReadonlyMap<string, SiteReading>,
    totalBytes: number,
    protect: (key: string) => boolean,
    outside: OutsideReading = { arrayBuffersBytes: 0, totalWrapperBytes: 0 },
  ): void {
    const slot = this.timeline.add(timestamp);
    this.totals[slot] = totalBytes;
    this.outsideSlots.record(slot, outside);
    for (const [key, site] of this.sites) {
      const reading = readings.get(key);
      site.bytes[slot] = reading?.size ?? 0;
      site.counts[slot] = reading?.count ?? 0;
      site.buffers.record(slot, reading);
      if (!reading) continue;
      site.traceback = reading.traceback;
      if (reading.size > 0) site.lastHeld = timestamp;
    }
    this.admit(readings, slot, timestamp, protect);
    // Forget sites that have held nothing for a whole span.
    for (const [key, site] of this.sites) {
      if (timestamp - site.lastHeld >= this.spanMs && !protect(key)) this.sites.delete(key);
    }
  }

  /** Tracks the reading's untracked sites that fit under the cap (see {@link admitLargest}). */
  private admit(readings: ReadonlyMap<string, SiteReading>, slot: number, timestamp: number, protect: (key: string) => boolean): void {
    this.droppedSites = admitLargest(this.sites, this.maxSites, readings, slot, protect, (reading) => {
      const site: TrackedSite = {
        bytes: new Float32Array(this.capacity),
        counts: new Float32Array(this.capacity),
        buffers: new SiteBufferSlots(this.capacity),
        since: timestamp,
        lastHeld: timestamp,
        traceback: reading.traceback,
      };
      site.bytes[slot] = reading.size;
      site.counts[slot] = reading.count;
      site.buffers.record(slot, reading);
      return site;
    });
  }

  /**
   * Starts every series anew at `timestamp` (the time of the first reading that follows): V8's
   * sampler started over and forgot every live sample, so readings taken before do not compare
   * with those after. Sites stay tracked (suspects keep their place); their history is forgotten.
   */
  restart(timestamp: number): void {
    this.seriesStart = timestamp;
    for (const site of this.sites.values()) {
      site.since = timestamp;
      site.lastHeld = Math.max(site.lastHeld, timestamp);
    }
  }

  /** Starts one site's series anew at `timestamp` (a reading already in the window): no-op if untracked. */
  restartSite(key: string, timestamp: number): void {
    const site = this.sites.get(key);
    if (site) site.since = Math.max(site.since, timestamp);
  }

  keys(): IterableIterator<string> {
    return this.sites.keys();
  }

  /** When the site was first tracked, or undefined when it is not tracked. */
  trackedSince(key: string): number | undefined {
    return this.sites.get(key)?.since;
  }

  /** The slots of the site's readings taken at or after `since`, oldest first. */
  private slotsOf(site: TrackedSite, since: number): number[] {
    return this.timeline.slotsSince(Math.max(since, site.since));
  }

  /**
   * The site's live bytes and their times, oldest first, since `since` (or as much as was
   * tracked): what the judgement reads, without building the rest of {@link series}.
   */
  bytesOf(key: string, since = Number.NEGATIVE_INFINITY, externalShare = 0): BytesSeries | undefined {
    const site = this.sites.get(key);
    if (!site) return undefined;
    if (externalShare > 0) return this.withExternal(site, since, externalShare);
    const slots = this.slotsOf(site, since);
    return { bytes: slots.map((slot) => site.bytes[slot] as number), timestamps: slots.map((slot) => this.timeline.timeOf(slot)) };
  }

  /**
   * The site's live bytes plus `externalShare` of the process's ArrayBuffer memory, at every
   * reading since `since` — also those from before the site was tracked (its heap bytes 0 then):
   * the ArrayBuffer memory was read at each, and a Buffer leak's first sampled wrapper comes long
   * after its first Buffers (see `growth/external-share.ts`).
   */
  private withExternal(site: TrackedSite, since: number, externalShare: number): BytesSeries {
    const slots = this.timeline.slotsSince(since);
    return {
      bytes: slots.map((slot) => this.heapBytesAt(site, slot) + externalShare * this.outsideSlots.arrayBuffersAt(slot)),
      timestamps: slots.map((slot) => this.timeline.timeOf(slot)),
    };
  }

  /** The site's heap bytes at a slot: 0 at slots from before it was tracked (they hold other readings). */
  private heapBytesAt(site: TrackedSite, slot: number): number {
    return this.timeline.timeOf(slot) < site.since ? 0 : (site.bytes[slot] as number);
  }

  /** The site's traceback at the latest reading that held it (its largest stack's); undefined when untracked. */
  tracebackOf(key: string): Traceback | undefined {
    return this.sites.get(key)?.traceback;
  }

  /** The site's live bytes at the latest reading (0 when untracked). */
  latestBytesOf(key: string): number {
    const site = this.sites.get(key);
    const slot = this.timeline.latestSlot;
    return site === undefined || slot === undefined ? 0 : (site.bytes[slot] as number);
  }

  /**
   * Largest minus smallest live bytes of the site over the window: a bound on any growth the
   * judgement could find, read without copying the series.
   */
  rangeOf(key: string): number {
    const site = this.sites.get(key);
    if (!site) return 0;
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    for (const slot of this.slotsOf(site, Number.NEGATIVE_INFINITY)) {
      const value = site.bytes[slot] as number;
      if (value < min) min = value;
      if (value > max) max = value;
    }
    return max >= min ? max - min : 0;
  }

  /** The live bytes of all sites at each reading since `since`, oldest first; with `outside`, plus the ArrayBuffer memory. */
  totalsSeries(since = Number.NEGATIVE_INFINITY, outside = false): BytesSeries {
    const slots = this.timeline.slotsSince(Math.max(since, this.seriesStart));
    const total = (slot: number) => (this.totals[slot] as number) + (outside ? this.outsideSlots.arrayBuffersAt(slot) : 0);
    return { bytes: slots.map(total), timestamps: slots.map((slot) => this.timeline.timeOf(slot)) };
  }

  /**
   * The site's readings, oldest first: the whole window, or as much as was tracked; with `since`,
   * only the readings taken at or after that time.
   */
  series(key: string, since = Number.NEGATIVE_INFINITY, externalShare = 0): SiteSeries | undefined {
    const site = this.sites.get(key);
    if (!site) return undefined;
    if (externalShare > 0) {
      // As `bytesOf` with a share: every reading since `since`, the site's heap bytes 0 before it
      // was tracked; all sites together grow with the ArrayBuffer memory too.
      const slots = this.timeline.slotsSince(since);
      const tracked = (slot: number) => this.timeline.timeOf(slot) >= site.since;
      const external = (slot: number) => this.outsideSlots.arrayBuffersAt(slot);
      return {
        key,
        bytes: slots.map((slot) => this.heapBytesAt(site, slot) + externalShare * external(slot)),
        counts: slots.map((slot) => (tracked(slot) ? (site.counts[slot] as number) : 0)),
        timestamps: slots.map((slot) => this.timeline.timeOf(slot)),
        totals: slots.map((slot) => (this.totals[slot] as number) + external(slot)),
        arrayBuffers: slots.map(external),
        wrapperBytes: slots.map((slot) => (tracked(slot) ? site.buffers.wrappersAt(slot) : 0)),
        sampledExternalBytes: slots.map((slot) => (tracked(slot) ? site.buffers.sampledAt(slot) : 0)),
        traceback: site.traceback,
      };
    }
    const slots = this.slotsOf(site, since);
    return {
      key,
      bytes: slots.map((slot) => site.bytes[slot] as number),
      counts: slots.map((slot) => site.counts[slot] as number),
      timestamps: slots.map((slot) => this.timeline.timeOf(slot)),
      totals: slots.map((slot) => this.totals[slot] as number),
      arrayBuffers: slots.map((slot) => this.outsideSlots.arrayBuffersAt(slot)),
      wrapperBytes: slots.map((slot) => site.buffers.wrappersAt(slot)),
      sampledExternalBytes: slots.map((slot) => site.buffers.sampledAt(slot)),
      traceback: site.traceback,
    };
  }
}
