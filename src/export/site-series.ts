import { displayPath } from '../format/path.js';
import { redactSite } from '../format/site-hash.js';
import type { Frame } from '../snapshot/frame.js';
import { sitePosition } from '../snapshot/frame.js';
import type { ExportedAllocation, ExportedSite } from './isolates.js';
import { routeLabel } from './route-label.js';

// The Prometheus label sets of heapwatch's per-site series (see `export/prometheus.ts`), and the
// figures of the sites that share one: pure functions of the exported sites, apart from the
// metrics that read them at scrape time.

export const SITE_LABELS = ['function', 'file', 'line'] as const;
export type SiteLabel = (typeof SITE_LABELS)[number];
export type SiteLabels = Record<SiteLabel, string>;

/**
 * Labels beside the site's. `worker`, in a cluster worker, on the series the primary's aggregated
 * page must keep apart per worker: per-site series (which worker leaks) and counters (a sum of
 * counters falls when one worker restarts, which Prometheus reads as a reset of the whole sum).
 * `thread` on every series of a watched worker thread: each isolate has its own heap and sampler.
 */
export const ISOLATE_LABELS = ['worker', 'thread'] as const;
export type IsolateLabel = (typeof ISOLATE_LABELS)[number];
export type IsolateLabels = Partial<Record<IsolateLabel, string>>;

/** A site's labels: its function and file (hashed with `redactSites`), and its position (see {@link sitePosition}). */
function siteLabelsOf(site: Frame, redact: boolean): SiteLabels {
  const names = redact ? redactSite(site) : { function: site.functionName, file: displayPath(site.file) };
  return { function: names.function, file: names.file, line: sitePosition(site) };
}

/** One label set's allocations, summed as {@link seriesOf} sums the sites. */
export interface AllocationSeries {
  readonly labels: SiteLabels;
  bytes: number;
  objects: number;
}

/** The allocating sites' label sets, each with what its sites allocated. */
export function allocationSeriesOf(sites: readonly ExportedAllocation[], redact: boolean): AllocationSeries[] {
  const series = new Map<string, AllocationSeries>();
  for (const site of sites) {
    const labels = siteLabelsOf(site.site, redact);
    const id = `${labels.function}\0${labels.file}\0${labels.line}`;
    const existing = series.get(id);
    if (existing) {
      existing.bytes += site.allocatedBytes;
      existing.objects += site.allocatedObjects;
    } else series.set(id, { labels, bytes: site.allocatedBytes, objects: site.allocatedObjects });
  }
  return [...series.values()];
}

/** One label set's figures: sites that share function, file and line (not column) are summed; a compiled position's `line` carries its column (see sitePosition). */
export interface SeriesValues {
  readonly labels: SiteLabels & IsolateLabels;
  liveBytes: number;
  count: number;
  externalBytes: number;
  growthBytes: number;
  suspected: boolean;
  suspicions: number;
}

/** The labelled sites' label sets, each with its sites' figures summed. */
export function seriesOf(sites: readonly ExportedSite[], redact: boolean): SeriesValues[] {
  const series = new Map<string, SeriesValues>();
  for (const site of sites) {
    const labels = siteLabelsOf(site.site, redact);
    const id = `${labels.function}\0${labels.file}\0${labels.line}`;
    const existing = series.get(id);
    if (!existing) {
      const { liveBytes, count, growthBytes, suspected, suspicions } = site;
      series.set(id, { labels, liveBytes, count, externalBytes: site.externalBytes ?? 0, growthBytes, suspected, suspicions });
      continue;
    }
    existing.liveBytes += site.liveBytes;
    existing.count += site.count;
    existing.externalBytes += site.externalBytes ?? 0;
    existing.growthBytes += site.growthBytes;
    existing.suspected ||= site.suspected;
    existing.suspicions += site.suspicions;
  }
  return [...series.values()];
}

/** One suspected site's bytes under one route, summed as {@link seriesOf} sums the sites. */
export interface RouteSeriesValues {
  readonly labels: SiteLabels & { route: string };
  liveBytes: number;
}

/** The suspected sites' label sets per route, each with its bytes under that route. */
export function routeSeriesOf(sites: readonly ExportedSite[], redact: boolean): RouteSeriesValues[] {
  const series = new Map<string, RouteSeriesValues>();
  for (const site of sites) {
    if (!site.routes) continue;
    const siteLabels = siteLabelsOf(site.site, redact);
    for (const share of site.routes) {
      const labels = { ...siteLabels, route: routeLabel(share.route) };
      const id = `${labels.function}\0${labels.file}\0${labels.line}\0${labels.route}`;
      const existing = series.get(id);
      if (existing) existing.liveBytes += share.bytes;
      else series.set(id, { labels, liveBytes: share.bytes });
    }
  }
  return [...series.values()];
}
