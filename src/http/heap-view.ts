// What `/debug/heap?format=json` carries beside tracemalloc's statistics: the heap page's data.
// The page renders it in the browser, so that the HTML stays a static asset (see heap-page.ts).
import { getHeapStatistics } from 'node:v8';
import { displayPath } from '../format/path.js';
import type { HeapMonitor } from '../monitor/monitor.js';
import type { Frame } from '../snapshot/frame.js';
import { frameKey } from '../snapshot/frame.js';
import type { Snapshot } from '../snapshot/snapshot.js';
import type { Statistic } from '../snapshot/statistic.js';
import type { RouteShare } from '../routes/attribute.js';

/** The process figures beside the sampled ones: what the sampler cannot attribute, and the limit. */
export interface ProcessView {
  /** V8's used heap when the reading was taken (bytes). */
  readonly heapUsedBytes: number;
  /** V8's heap limit, young generation included (bytes): `v8.getHeapStatistics().heap_size_limit`. */
  readonly heapLimitBytes: number;
  /** C++ memory bound to JavaScript objects, ArrayBuffer contents included (bytes). */
  readonly externalBytes: number;
  /** ArrayBuffer and Buffer contents (bytes); part of `externalBytes`. */
  readonly arrayBuffersBytes: number;
  /** Resident set size of the process (bytes). */
  readonly rssBytes: number;
}

/** One row of the page's table: a site of this reading, with the monitor's history of it. */
export interface SiteView {
  readonly key: string;
  readonly function: string;
  /** Relative to the working directory when under it; `node:*`; empty for built-ins. */
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** Estimated live bytes and objects in this reading. */
  readonly liveBytes: number;
  readonly count: number;
  /**
   * Estimated ArrayBuffer memory (Buffer contents, outside V8's heap) held through the site's
   * objects, and its noise (bytes): the monitor's estimate when it tracks the site (its growth
   * shared by the wrappers that grew), else this reading's share. Apart from `liveBytes`.
   */
  readonly externalBytes: number;
  readonly externalNoiseBytes: number;
  /** The monitor's growth over its window (bytes); 0 until the site has a whole window. */
  readonly growthBytes: number;
  readonly suspected: boolean;
  /** When the suspicion was raised (ISO 8601), or null. */
  readonly suspectedSince: string | null;
  /** The site's largest stack, as the log records print it: most recent call first. */
  readonly traceback: readonly string[];
  /** The monitor's readings of the site, oldest first (empty when it does not track the site). */
  readonly series: { readonly timestamps: readonly number[]; readonly bytes: readonly number[] };
  /**
   * The routes on the site's stacks at the monitor's latest reading, with their shares of its
   * bytes (`route: null`: outside every route); null when no framework told heapwatch its routes.
   */
  readonly routes: readonly RouteShare[] | null;
}

/** The live sampled heap by stack, for the flame graph: frames once, stacks as indexes into them. */
export interface StacksView {
  readonly frames: ReadonlyArray<{ readonly function: string; readonly file: string; readonly line: number; readonly column: number }>;
  /** The largest stacks; `frames` innermost first (as in a Traceback), `site` the key of its site. */
  readonly stacks: ReadonlyArray<{ readonly site: string; readonly frames: readonly number[]; readonly size: number; readonly count: number }>;
  /** Bytes and objects of the stacks left out by `stacks`. */
  readonly otherBytes: number;
  readonly otherCount: number;
}

/** One row of the page's allocating sites: what a site allocated, and how much of it is still live. */
export interface AllocatingSiteView {
  readonly key: string;
  readonly function: string;
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** Estimated bytes and objects the site allocated since V8's sampler last started over, live or collected since. */
  readonly allocatedBytes: number;
  readonly allocatedObjects: number;
  /** Estimated live bytes now. */
  readonly liveBytes: number;
  /** The share of the allocated bytes still live (0–1, three decimals): near 1 for a leak, near 0 for churn. */
  readonly survival: number | null;
}

/**
 * The top allocating sites of the reading (Node 26, `allocations: true`), or why there are none:
 * `reason` says it plainly (before Node 26, allocation mode off, the inspector reader).
 */
export type AllocationsView =
  | { readonly available: true; readonly sites: readonly AllocatingSiteView[] }
  | { readonly available: false; readonly reason: string };

export interface HeapView {
  readonly process: ProcessView;
  readonly monitor: { readonly intervalMs: number; readonly windowMs: number; readonly growthThresholdBytes: number; readonly readings: number };
  readonly sites: readonly SiteView[];
  readonly stacks: StacksView;
  readonly allocations: AllocationsView;
}

function processView(snapshot: Snapshot): ProcessView {
  return {
    heapUsedBytes: snapshot.heapUsedBytes,
    heapLimitBytes: getHeapStatistics().heap_size_limit,
    externalBytes: snapshot.unattributed.externalBytes,
    arrayBuffersBytes: snapshot.unattributed.arrayBuffersBytes,
    rssBytes: process.memoryUsage.rss(),
  };
}

function siteView(stat: Statistic, monitor: HeapMonitor): SiteView {
  const { site } = stat;
  const report = monitor.reportOf(stat.key);
  const series = monitor.seriesOf(stat.key);
  return {
    key: stat.key,
    function: site.functionName,
    file: displayPath(site.file),
    line: site.line,
    column: site.column,
    liveBytes: Math.round(stat.size),
    count: Math.round(stat.count),
    externalBytes: Math.round(report?.externalBytes ?? stat.externalSize),
    externalNoiseBytes: Math.round(report?.externalNoiseBytes ?? stat.externalNoise),
    growthBytes: Math.round(report?.growthBytes ?? 0),
    suspected: report?.suspected ?? false,
    suspectedSince: report?.suspectedSince === undefined ? null : new Date(report.suspectedSince).toISOString(),
    traceback: stat.traceback.format(),
    series: { timestamps: series?.timestamps ?? [], bytes: (series?.bytes ?? []).map(Math.round) },
    routes: monitor.routesOf(stat.key)?.map(({ route, bytes, share }) => ({ route, bytes: Math.round(bytes), share: Math.round(share * 1000) / 1000 })) ?? null,
  };
}

/** The `top` largest sites of the reading, and every current suspect among the others. */
function sitesView(snapshot: Snapshot, monitor: HeapMonitor, top: number): SiteView[] {
  const statistics = snapshot.statistics('site');
  const shown = statistics.slice(0, top);
  const suspects = new Set(monitor.suspects().map((report) => report.key));
  for (const stat of statistics.slice(top)) if (suspects.has(stat.key)) shown.push(stat);
  return shown.map((stat) => siteView(stat, monitor));
}

function stacksView(snapshot: Snapshot, top: number): StacksView {
  const frames: Array<StacksView['frames'][number]> = [];
  const indexes = new Map<string, number>();
  const indexOf = (frame: Frame): number => {
    const key = frameKey(frame);
    let index = indexes.get(key);
    if (index === undefined) {
      indexes.set(key, (index = frames.length));
      frames.push({ function: frame.functionName, file: displayPath(frame.file), line: frame.line, column: frame.column });
    }
    return index;
  };
  const statistics = snapshot.statistics('traceback');
  const stacks = statistics.slice(0, top).map((stat) => ({
    site: frameKey(stat.traceback.site),
    frames: stat.traceback.frames.map(indexOf),
    size: Math.round(stat.size),
    count: Math.round(stat.count),
  }));
  let otherBytes = 0;
  let otherCount = 0;
  for (const stat of statistics.slice(top)) {
    otherBytes += stat.size;
    otherCount += stat.count;
  }
  return { frames, stacks, otherBytes: Math.round(otherBytes), otherCount: Math.round(otherCount) };
}

/** The `top` sites of the reading that allocated most since V8's sampler last started over. */
function allocationsView(snapshot: Snapshot, top: number): AllocationsView {
  if (!snapshot.allocations) return { available: false, reason: snapshot.allocationsUnavailable ?? 'no allocation data' };
  const sites = snapshot
    .statistics('site', 'allocated')
    .slice(0, top)
    .filter((stat) => (stat.allocatedSize ?? 0) > 0)
    .map((stat) => ({
      key: stat.key,
      function: stat.site.functionName,
      file: displayPath(stat.site.file),
      line: stat.site.line,
      column: stat.site.column,
      allocatedBytes: Math.round(stat.allocatedSize ?? 0),
      allocatedObjects: Math.round(stat.allocatedCount ?? 0),
      liveBytes: Math.round(stat.size),
      survival: stat.survival === undefined ? null : Math.round(stat.survival * 1000) / 1000,
    }));
  return { available: true, sites };
}

/**
 * The page's view of one reading: its `top` largest sites (and every suspect) joined with the
 * monitor's series of each, its `stacks` largest stacks, its most allocating sites (allocation
 * mode), and the process figures. Sites and stacks
 * come from the same reading, so a frame of the flame graph names exactly the sites under it.
 */
export function heapView(snapshot: Snapshot, monitor: HeapMonitor, top: number, stacks: number): HeapView {
  const { intervalMs, windowMs, growthThresholdBytes } = monitor.options;
  return {
    process: processView(snapshot),
    monitor: { intervalMs, windowMs, growthThresholdBytes, readings: monitor.stats().readings },
    sites: sitesView(snapshot, monitor, top),
    stacks: stacksView(snapshot, stacks),
    allocations: allocationsView(snapshot, top),
  };
}
