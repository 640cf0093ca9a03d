import type { BytesSeries } from './series.js';
import type { OutsideReading, ProcessBufferSlots, SiteBufferSlots } from './buffer-slots.js';
import type { ReadingTimeline } from './timeline.js';

/** What the view reads of a tracked site. */
export interface SiteOutside {
  /** When the site was first tracked, or its series last started anew: older slots are not its. */
  readonly since: number;
  readonly buffers: SiteBufferSlots;
}

/** A site's wrapper bytes at both ends of some readings (see {@link OutsideHeapView.wrapperEndsSince}). */
export interface WrapperEnds {
  readonly first: number;
  readonly latest: number;
}

/**
 * The growth window's memory outside V8's heap, read over its timeline (see `growth/window.ts`):
 * the process's ArrayBuffer memory at each reading, and each site's ArrayBuffer wrappers and
 * sampled Buffers — what `growth/external-share.ts` attributes that memory by. A view: the window
 * records the readings, and this answers from them.
 */
export class OutsideHeapView {
  constructor(
    private readonly timeline: ReadingTimeline,
    private readonly slots: ProcessBufferSlots,
    private readonly sites: ReadonlyMap<string, SiteOutside>,
  ) {}

  /** The process's ArrayBuffer memory and all sites' wrapper bytes at the latest reading (0 before the first). */
  latest(): OutsideReading {
    return this.slots.at(this.timeline.latestSlot);
  }

  /** The process's ArrayBuffer memory at each reading since `since`, oldest first. */
  arrayBuffersSeries(since = Number.NEGATIVE_INFINITY): BytesSeries {
    const slots = this.timeline.slotsSince(since);
    return { bytes: slots.map((slot) => this.slots.arrayBuffersAt(slot)), timestamps: slots.map((slot) => this.timeline.timeOf(slot)) };
  }

  /**
   * The standard deviation of the growth of the process's ArrayBuffer memory since `since` (bytes):
   * exact unless the Buffer sampler's estimate was taken from it, whose noise at either end it
   * then has (the samples at the two ends may be others: a conservative sum).
   */
  arrayBuffersGrowthNoise(since = Number.NEGATIVE_INFINITY): number {
    const slots = this.timeline.slotsSince(since);
    const [first, latest] = [slots[0], slots.at(-1)];
    return first === undefined || latest === undefined ? 0 : Math.hypot(this.slots.noiseAt(first), this.slots.noiseAt(latest));
  }

  /**
   * Every tracked site's wrapper bytes at the first reading since `since` and lately, for those
   * holding wrappers at either end (one pass). Lately is the least of the two latest readings, so
   * that a wrapper-sized sample of garbage (dead, not yet collected: the native reader counts it
   * until the next major GC) seen once does not pass for a Buffer kept — a kept wrapper stays in
   * every later reading; with `persistent` false, the latest reading's alone (readings without
   * garbage need no second one). 0 where untracked.
   */
  wrapperEndsSince(since: number, persistent = true): Map<string, WrapperEnds> {
    const ends = new Map<string, WrapperEnds>();
    const slots = this.timeline.slotsSince(since);
    if (slots.length === 0) return ends;
    const [first, last] = [slots[0] as number, slots.at(-1) as number];
    const before = persistent && slots.length >= 2 ? (slots.at(-2) as number) : last;
    for (const [key, site] of this.sites) {
      const at = (slot: number) => (this.timeline.timeOf(slot) < site.since ? 0 : site.buffers.wrappersAt(slot));
      const pair = { first: at(first), latest: Math.min(at(last), at(before)) };
      if (pair.first > 0 || pair.latest > 0) ends.set(key, pair);
    }
    return ends;
  }

  /**
   * The site's Buffers sampled in JavaScript at the latest reading, and their standard deviation
   * (bytes; 0 when untracked or none): part of its bytes, outside V8's heap.
   */
  latestSampledOf(key: string): { readonly bytes: number; readonly noiseBytes: number } {
    const site = this.sites.get(key);
    const slot = this.timeline.latestSlot;
    return site === undefined || slot === undefined ? { bytes: 0, noiseBytes: 0 } : site.buffers.latestSampled(slot);
  }
}
