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

/**
 * Sums the series that share a label set, in the order they come (sites that share function, file
 * and line are one series): `add` adds a later one's figures to the first.
 */
function sumByLabels<S extends { readonly labels: Readonly<Record<string, string>> }>(values: readonly S[], add: (into: S, from: S) => void): S[] {
  const series = new Map<string, S>();
  for (const value of values) {
    const id = Object.values(value.labels).join('\0');
    const existing = series.get(id);
    if (existing) add(existing, value);
    else series.set(id, value);
  }
  return [...series.values()];
}

/** One label set's allocations, summed as {@link seriesOf} sums the sites. */
export interface AllocationSeries {
  readonly labels: SiteLabels;
  bytes: number;
  objects: number;
}

/** The allocating sites' label sets, each with what its sites allocated. */
export function allocationSeriesOf(sites: readonly ExportedAllocation[], redact: boolean): AllocationSeries[] {
  return sumByLabels(
    sites.map((site) => ({ labels: siteLabelsOf(site.site, redact), bytes: site.allocatedBytes, objects: site.allocatedObjects })),
    (into, from) => {
      into.bytes += from.bytes;
      into.objects += from.objects;
    },
  );
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
  return sumByLabels<SeriesValues>(
    sites.map(({ site, liveBytes, count, externalBytes, growthBytes, suspected, suspicions }) => ({
      labels: siteLabelsOf(site, redact),
      liveBytes,
      count,
      externalBytes: externalBytes ?? 0,
      growthBytes,
      suspected,
      suspicions,
    })),
    (into, from) => {
      into.liveBytes += from.liveBytes;
      into.count += from.count;
      into.externalBytes += from.externalBytes;
      into.growthBytes += from.growthBytes;
      into.suspected ||= from.suspected;
      into.suspicions += from.suspicions;
    },
  );
}

/** One suspected site's bytes under one route, summed as {@link seriesOf} sums the sites. */
export interface RouteSeriesValues {
  readonly labels: SiteLabels & { route: string };
  liveBytes: number;
}

/** The suspected sites' label sets per route, each with its bytes under that route. */
export function routeSeriesOf(sites: readonly ExportedSite[], redact: boolean): RouteSeriesValues[] {
  return sumByLabels(
    sites.flatMap((site) => {
      if (!site.routes) return [];
      const labels = siteLabelsOf(site.site, redact);
      return site.routes.map((share) => ({ labels: { ...labels, route: routeLabel(share.route) }, liveBytes: share.bytes }));
    }),
    (into, from) => (into.liveBytes += from.liveBytes),
  );
}
