import type { Frame } from '../snapshot/frame.js';
import type { SampledSite } from '../snapshot/site-aggregator.js';
import { survivalOf } from '../snapshot/statistic.js';
import type { Traceback } from '../snapshot/traceback.js';

/** What the monitor knows of one site's allocations: counters since heapwatch started. */
export interface AllocationReport {
  readonly key: string;
  readonly site: Frame;
  readonly traceback: Traceback;
  /** Estimated bytes the site allocated since heapwatch started (a counter: never falls). */
  readonly allocatedBytes: number;
  /** Estimated objects the site allocated since heapwatch started (a counter). */
  readonly allocatedObjects: number;
  /** Share of the bytes allocated since the sampler last started over that are live at the latest reading (0–1). */
  readonly survival: number | undefined;
}

interface SiteTotals {
  traceback: Traceback;
  /** V8's figures at the previous reading: what the next one adds to. */
  v8Bytes: number;
  v8Objects: number;
  allocatedBytes: number;
  allocatedObjects: number;
  survival: number | undefined;
}

/**
 * Running totals of each site's allocations across readings. V8's allocated counts grow from
 * the sampler's start and fall back when it starts over (heapwatch does, to bound V8's store of
 * collected samples; a tool sharing the sampler may at every profile it takes): each reading
 * adds what grew since the previous one, and after a start-over (a new `epoch`, or a count below
 * the previous) all it shows. So the counters never fall, as Prometheus counters must not.
 * Bounded: past `maxSites`, the sites that allocated least are forgotten.
 */
export class AllocationTotals {
  private readonly sites = new Map<string, SiteTotals>();
  private epoch: number | undefined;

  constructor(private readonly maxSites: number) {}

  get size(): number {
    return this.sites.size;
  }

  /** Adds one reading in allocation mode. */
  add(readings: ReadonlyMap<string, SampledSite>, epoch: number): void {
    const restarted = this.epoch !== undefined && epoch !== this.epoch;
    this.epoch = epoch;
    if (restarted) {
      for (const totals of this.sites.values()) {
        totals.v8Bytes = 0;
        totals.v8Objects = 0;
      }
    }
    for (const site of readings.values()) {
      if (site.allocatedObjects <= 0) continue;
      let totals = this.sites.get(site.key);
      if (!totals) {
        totals = { traceback: site.traceback, v8Bytes: 0, v8Objects: 0, allocatedBytes: 0, allocatedObjects: 0, survival: undefined };
        this.sites.set(site.key, totals);
      }
      const fell = site.allocatedBytes < totals.v8Bytes;
      totals.allocatedBytes += fell ? site.allocatedBytes : site.allocatedBytes - totals.v8Bytes;
      totals.allocatedObjects += fell ? site.allocatedObjects : Math.max(0, site.allocatedObjects - totals.v8Objects);
      totals.v8Bytes = site.allocatedBytes;
      totals.v8Objects = site.allocatedObjects;
      totals.survival = survivalOf(site.size, site.allocatedBytes);
      totals.traceback = site.traceback;
    }
    if (this.sites.size > this.maxSites) this.forgetSmallest();
  }

  private forgetSmallest(): void {
    const ranked = [...this.sites].sort((a, b) => a[1].allocatedBytes - b[1].allocatedBytes);
    for (const [key] of ranked.slice(0, this.sites.size - this.maxSites)) this.sites.delete(key);
  }

  report(key: string): AllocationReport | undefined {
    const totals = this.sites.get(key);
    if (!totals) return undefined;
    const { traceback, allocatedBytes, allocatedObjects, survival } = totals;
    return { key, site: traceback.site, traceback, allocatedBytes, allocatedObjects, survival };
  }

  /** The `limit` sites that allocated most since heapwatch started, most first (then by key). */
  top(limit: number): AllocationReport[] {
    return [...this.sites.keys()]
      .sort((a, b) => (this.sites.get(b) as SiteTotals).allocatedBytes - (this.sites.get(a) as SiteTotals).allocatedBytes || (a < b ? -1 : 1))
      .slice(0, limit)
      .map((key) => this.report(key) as AllocationReport);
  }
}
