import { getHeapStatistics } from 'node:v8';
import { Counter, Gauge, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';
import { ErrorCode, HeapwatchError } from '../errors.js';
import { displayPath } from '../format/path.js';
import { sitePosition } from '../snapshot/frame.js';
import type { HeapMonitor } from '../monitor/monitor.js';
import { SNAPSHOT_DURATION_BUCKETS_SECONDS } from './duration-buckets.js';
import { labelledSites } from './labelled-sites.js';
import type { LabelledSite } from './labelled-sites.js';

/**
 * heapwatch's metric names: dashboards and alert rules are written against them, so they are a
 * contract. Base units (bytes, seconds), `_total` on counters, as `promtool check metrics` wants.
 */
export const PrometheusMetric = {
  siteLiveBytes: 'heapwatch_site_live_bytes',
  siteLiveObjects: 'heapwatch_site_live_objects',
  siteGrowthBytes: 'heapwatch_site_growth_bytes',
  siteLeakSuspected: 'heapwatch_site_leak_suspected',
  leakSuspicionsTotal: 'heapwatch_leak_suspicions_total',
  leakSuspects: 'heapwatch_leak_suspects',
  sampledLiveBytes: 'heapwatch_sampled_live_bytes',
  sitesTracked: 'heapwatch_sites_tracked',
  sitesDropped: 'heapwatch_sites_dropped',
  snapshotDurationSeconds: 'heapwatch_snapshot_duration_seconds',
  snapshotsTotal: 'heapwatch_snapshots_total',
  snapshotErrorsTotal: 'heapwatch_snapshot_errors_total',
  forcedGcsTotal: 'heapwatch_forced_gcs_total',
  logErrorsTotal: 'heapwatch_log_errors_total',
  samplingIntervalBytes: 'heapwatch_sampling_interval_bytes',
  growthThresholdBytes: 'heapwatch_growth_threshold_bytes',
  windowSeconds: 'heapwatch_window_seconds',
  heapSizeLimitBytes: 'heapwatch_heap_size_limit_bytes',
  arrayBuffersBytes: 'heapwatch_array_buffers_bytes',
} as const;

const SITE_LABELS = ['function', 'file', 'line'] as const;
type SiteLabel = (typeof SITE_LABELS)[number];
type SiteLabels = Record<SiteLabel, string>;

/** One label set's figures: sites that share function, file and line (not column) are summed; a compiled position's `line` carries its column (see sitePosition). */
interface SeriesValues {
  readonly labels: SiteLabels;
  liveBytes: number;
  count: number;
  growthBytes: number;
  suspected: boolean;
  suspicions: number;
}

function seriesOf(sites: readonly LabelledSite[]): SeriesValues[] {
  const series = new Map<string, SeriesValues>();
  for (const site of sites) {
    const labels = { function: site.site.functionName, file: displayPath(site.site.file), line: sitePosition(site.site) };
    const id = `${labels.function}\0${labels.file}\0${labels.line}`;
    const existing = series.get(id);
    if (!existing) {
      series.set(id, { labels, liveBytes: site.liveBytes, count: site.count, growthBytes: site.growthBytes, suspected: site.suspected, suspicions: site.suspicions });
      continue;
    }
    existing.liveBytes += site.liveBytes;
    existing.count += site.count;
    existing.growthBytes += site.growthBytes;
    existing.suspected ||= site.suspected;
    existing.suspicions += site.suspicions;
  }
  return [...series.values()];
}

/**
 * Registers heapwatch's metrics on `registry`. Values are computed in `collect()`, at scrape time,
 * from the monitor's latest reading; per-site series exist only for the labelled sites (the
 * `topSites` largest plus every suspect). The snapshot-duration histogram is the one metric fed as
 * readings happen. Returns a function that removes them all again.
 */
export function registerPrometheusMetrics(monitor: HeapMonitor, registry: Registry): () => void {
  // All or nothing: a registry that already holds one of the names would make prom-client throw
  // halfway through, leaving half the metrics registered.
  const taken = Object.values(PrometheusMetric).find((name) => registry.getSingleMetric(name) !== undefined);
  if (taken !== undefined) {
    throw new HeapwatchError(
      ErrorCode.INVALID_OPTION,
      `Invalid option "registry": it already holds the metric ${taken} (registered by another heapwatch); ` +
        `register heapwatch's metrics once per registry`,
    );
  }
  const registers = [registry];
  // One computation per reading, shared by the five per-site metrics of a scrape.
  let cached: { readings: number; series: SeriesValues[] } | undefined;
  const currentSeries = (): SeriesValues[] => {
    const { readings } = monitor.stats();
    if (cached?.readings !== readings) cached = { readings, series: seriesOf(labelledSites(monitor)) };
    return cached.series;
  };
  const siteGauge = (name: string, help: string, value: (series: SeriesValues) => number): Gauge<SiteLabel> =>
    new Gauge({
      name,
      help,
      labelNames: SITE_LABELS,
      registers,
      collect() {
        this.reset();
        for (const series of currentSeries()) this.set(series.labels, value(series));
      },
    });
  const gauge = (name: string, help: string, value: () => number): Gauge =>
    new Gauge({ name, help, registers, collect() { this.set(value()); } });
  const counter = (name: string, help: string, value: () => number): Counter =>
    new Counter({ name, help, registers, collect() { this.reset(); this.inc(value()); } });
  const { options } = monitor;

  siteGauge(PrometheusMetric.siteLiveBytes, 'Estimated live bytes allocated by the site (sampled), at the latest reading.', (s) => s.liveBytes);
  siteGauge(PrometheusMetric.siteLiveObjects, 'Estimated live objects allocated by the site (sampled), at the latest reading.', (s) => s.count);
  siteGauge(PrometheusMetric.siteGrowthBytes, "Growth of the site's live bytes over the detection window (last quarter's median minus the first's).", (s) => s.growthBytes);
  siteGauge(PrometheusMetric.siteLeakSuspected, '1 while the detector suspects the site of leaking, else 0.', (s) => (s.suspected ? 1 : 0));
  new Counter({
    name: PrometheusMetric.leakSuspicionsTotal,
    help: 'Leak suspicions raised at the site since the process started.',
    labelNames: SITE_LABELS,
    registers,
    collect() {
      this.reset();
      for (const series of currentSeries()) this.inc(series.labels, series.suspicions);
    },
  });
  gauge(PrometheusMetric.leakSuspects, 'Sites suspected of leaking now.', () => monitor.suspects().length);
  gauge(PrometheusMetric.sampledLiveBytes, 'Estimated live bytes of all watched sites at the latest reading.', () => monitor.stats().sampledLiveBytes);
  gauge(PrometheusMetric.sitesTracked, 'Sites whose series heapwatch keeps (at most maxTrackedSites).', () => monitor.stats().trackedSites);
  gauge(PrometheusMetric.sitesDropped, 'Sites of the latest reading left untracked because of maxTrackedSites.', () => monitor.stats().droppedSites);
  counter(PrometheusMetric.snapshotsTotal, 'Readings of the V8 sampler taken by heapwatch.', () => monitor.stats().readings);
  counter(PrometheusMetric.snapshotErrorsTotal, 'Readings of the V8 sampler that failed.', () => monitor.stats().readingErrors);
  counter(PrometheusMetric.logErrorsTotal, "Records heapwatch's logger refused (it threw).", () => monitor.stats().logErrors);
  counter(PrometheusMetric.forcedGcsTotal, 'Full GCs heapwatch asked V8 for, to confirm a rising site.', () => monitor.stats().requestedGcs);
  gauge(PrometheusMetric.samplingIntervalBytes, "Mean bytes between two samples of V8's sampling heap profiler.", () => monitor.stats().samplingIntervalBytes);
  gauge(PrometheusMetric.growthThresholdBytes, 'Growth over the window that makes a site a leak suspect.', () => options.growthThresholdBytes);
  gauge(PrometheusMetric.windowSeconds, 'Span of readings over which growth is judged.', () => options.windowMs / 1000);
  gauge(PrometheusMetric.heapSizeLimitBytes, "V8's heap size limit.", () => getHeapStatistics().heap_size_limit);
  // prom-client exports external memory (nodejs_external_memory_bytes) but not this part of it,
  // the Buffer and ArrayBuffer contents whose wrappers alone the sampler sees.
  gauge(
    PrometheusMetric.arrayBuffersBytes,
    'Memory of ArrayBuffers and Buffers outside the V8 heap (part of the external memory): the sampler sees only their wrapper objects.',
    () => process.memoryUsage().arrayBuffers,
  );

  const duration = new Histogram({
    name: PrometheusMetric.snapshotDurationSeconds,
    help: 'Main-thread time of one reading: read the sampler, aggregate per site, judge growth.',
    buckets: [...SNAPSHOT_DURATION_BUCKETS_SECONDS],
    registers,
  });
  const observe = ({ durationMs }: { durationMs: number }): void => duration.observe(durationMs / 1000);
  monitor.on('reading', observe);

  return () => {
    monitor.off('reading', observe);
    for (const name of Object.values(PrometheusMetric)) registry.removeSingleMetric(name);
  };
}
