import { getHeapStatistics } from 'node:v8';
import type { HeapMonitor } from '../monitor/monitor.js';
import type { MonitorStats } from '../monitor/stats.js';
import type { RouteShare } from '../routes/attribute.js';
import type { AllocationReport } from '../monitor/allocation-totals.js';
import { labelledSites } from './labelled-sites.js';
import type { LabelledSite } from './labelled-sites.js';

/** What the exporters need of one labelled site: plain data, so a worker thread can send it. */
export type ExportedSite = Pick<LabelledSite, 'site' | 'liveBytes' | 'count' | 'growthBytes' | 'suspected' | 'suspicions'> & {
  /** Estimated ArrayBuffer memory held through the site's objects (see `SiteReport.externalBytes`); 0 when absent. */
  readonly externalBytes?: number;
  /** A suspected site's routes and their shares (`HeapMonitor.routesOf`); this thread's sites only. */
  readonly routes?: readonly RouteShare[] | undefined;
};

/** What the exporters need of one site's allocations (allocation mode): plain data. */
export type ExportedAllocation = Pick<AllocationReport, 'site' | 'allocatedBytes' | 'allocatedObjects'>;

/**
 * One isolate's figures at its latest reading, as the exporters read them: this thread's
 * monitor, or a watched worker thread's latest report. V8 has one heap and one sampler per
 * isolate, so each isolate has series of its own.
 */
export interface IsolateFigures {
  /** The `thread` label of a worker thread; undefined for the thread that serves the metrics. */
  readonly thread: string | undefined;
  /** The sites that carry labels: the `topSites` largest plus every suspect. */
  sites(): readonly ExportedSite[];
  /** Sites suspected now. */
  suspects(): number;
  /**
   * The `topSites` sites that allocated most since the start, in allocation mode (Node 26,
   * `allocations: true`); absent or empty otherwise. This thread's monitor only, for now.
   */
  allocatingSites?(): readonly ExportedAllocation[];
  stats(): MonitorStats;
  readonly growthThresholdBytes: number;
  readonly windowMs: number;
  /** V8's heap size limit of this isolate (a worker thread's may be set by `resourceLimits`). */
  heapSizeLimitBytes(): number;
}

/** Where the figures of watched worker threads come from (the main thread's thread hub). */
export interface ThreadFiguresSource {
  /** The live watched threads, in label order. */
  threadFigures(): readonly IsolateFigures[];
}

/**
 * This thread's figures, read from its monitor. The labelled sites are built once per reading
 * (a scrape asks for them once per per-site metric) and the suspect count with them.
 */
export function figuresOfMonitor(monitor: HeapMonitor): IsolateFigures {
  let cached: { readings: number; sites: ExportedSite[]; suspects: number } | undefined;
  const current = (): { sites: ExportedSite[]; suspects: number } => {
    const { readings } = monitor.stats();
    if (cached?.readings !== readings) {
      // Routes only for suspects: what the verdict named, bounded by the suspects and 10 routes each.
      const sites = labelledSites(monitor).map((site) => (site.suspected ? { ...site, routes: monitor.routesOf(site.key) } : site));
      cached = { readings, sites, suspects: monitor.suspects().length };
    }
    return cached;
  };
  return {
    thread: undefined,
    sites: () => current().sites,
    suspects: () => current().suspects,
    allocatingSites: () => monitor.allocatingSites(monitor.options.topSites),
    stats: () => monitor.stats(),
    growthThresholdBytes: monitor.options.growthThresholdBytes,
    windowMs: monitor.options.windowMs,
    heapSizeLimitBytes: () => getHeapStatistics().heap_size_limit,
  };
}

/** This thread's figures first, then each watched worker thread's. */
export function isolatesOf(monitor: HeapMonitor, threads: ThreadFiguresSource | undefined): () => readonly IsolateFigures[] {
  const own = figuresOfMonitor(monitor);
  if (!threads) return () => [own];
  return () => [own, ...threads.threadFigures()];
}
