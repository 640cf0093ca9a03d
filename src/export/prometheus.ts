import { Counter, Gauge, Histogram } from 'prom-client';
import type { Aggregator, Registry } from 'prom-client';
import { ErrorCode, HeapwatchError } from '../errors.js';
import type { HeapMonitor } from '../monitor/monitor.js';
import type { UnexplainedMemory } from '../monitor/unexplained-memory.js';
import { answerClusterPrimary, clusterWorkerLabel } from './cluster-worker.js';
import { SNAPSHOT_DURATION_BUCKETS_SECONDS } from './duration-buckets.js';
import { isolatesOf } from './isolates.js';
import { containerMemoryLimitBytes } from '../monitor/container-limit.js';
import { otelErrors } from './otel-errors.js';
import type { SiteLabelOptions } from './otel.js';
import type { IsolateFigures, ThreadFiguresSource } from './isolates.js';
import { allocationSeriesOf, ISOLATE_LABELS, routeSeriesOf, seriesOf, SITE_LABELS } from './site-series.js';
import type { AllocationSeries, IsolateLabel, IsolateLabels, SeriesValues, SiteLabel } from './site-series.js';

/**
 * heapwatch's metric names: dashboards and alert rules are written against them, so they are a
 * contract. Base units (bytes, seconds), `_total` on counters, as `promtool check metrics` wants.
 */
export const PrometheusMetric = {
  siteLiveBytes: 'heapwatch_site_live_bytes',
  siteLiveObjects: 'heapwatch_site_live_objects',
  siteExternalBytes: 'heapwatch_site_external_bytes',
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
  skippedGcsTotal: 'heapwatch_skipped_gcs_total',
  logErrorsTotal: 'heapwatch_log_errors_total',
  otelErrorsTotal: 'heapwatch_otel_errors_total',
  samplingIntervalBytes: 'heapwatch_sampling_interval_bytes',
  growthThresholdBytes: 'heapwatch_growth_threshold_bytes',
  windowSeconds: 'heapwatch_window_seconds',
  heapSizeLimitBytes: 'heapwatch_heap_size_limit_bytes',
  arrayBuffersBytes: 'heapwatch_array_buffers_bytes',
  memoryUnexplainedBytes: 'heapwatch_memory_unexplained_bytes',
  memoryUnexplainedGrowthBytes: 'heapwatch_memory_unexplained_growth_bytes',
  memoryUnexplainedGrowthSuspected: 'heapwatch_memory_unexplained_growth_suspected',
  siteRouteLiveBytes: 'heapwatch_site_route_live_bytes',
  memoryLimitBytes: 'heapwatch_memory_limit_bytes',
  siteAllocatedBytesTotal: 'heapwatch_site_allocated_bytes_total',
  siteAllocatedObjectsTotal: 'heapwatch_site_allocated_objects_total',
} as const;

/**
 * Registers heapwatch's metrics on `registry`. Values are computed in `collect()`, at scrape time,
 * from the monitor's latest reading; per-site series exist only for the labelled sites (the
 * `topSites` largest plus every suspect). The snapshot-duration histogram is the one metric fed as
 * readings happen. Returns a function that removes them all again.
 *
 * In a cluster worker, per-site series carry a `worker` label and each metric names how
 * prom-client's `AggregatorRegistry` combines the workers' values on the primary's page; the
 * worker answers the primary (heapwatch's `clusterMetrics()`, or prom-client's) with no further
 * code. With `threads` (given by `heapwatch()` in the main thread), each watched worker thread's
 * figures are series of their own, labelled `thread`.
 */
export function registerPrometheusMetrics(
  monitor: HeapMonitor,
  registry: Registry,
  threads?: ThreadFiguresSource,
  labels: SiteLabelOptions = {},
): () => void {
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
  const stopAnswering = answerClusterPrimary(registry);
  const registers = [registry];
  const isolates = isolatesOf(monitor, threads);
  const worker = clusterWorkerLabel();
  const workerLabels: IsolateLabels = worker === undefined ? {} : { worker };
  const labelsOf = (isolate: IsolateFigures): IsolateLabels => (isolate.thread === undefined ? {} : { thread: isolate.thread });
  const siteLabelsOf = (isolate: IsolateFigures): IsolateLabels => ({ ...workerLabels, ...labelsOf(isolate) });
  const currentSeries = (): SeriesValues[] =>
    isolates().flatMap((isolate) => {
      const extra = siteLabelsOf(isolate);
      return seriesOf(isolate.sites(), labels.redactSites === true).map((series) => ({ ...series, labels: { ...series.labels, ...extra } }));
    });
  // Every per-site series comes from one worker (its `worker` label), so the primary's sum keeps
  // each as it is; `max` keeps the suspicion flag at 1 should two workers ever share a label.
  const siteGauge = (name: string, help: string, value: (series: SeriesValues) => number, aggregator: Aggregator = 'sum'): Gauge<SiteLabel | IsolateLabel> =>
    new Gauge({
      name,
      help,
      labelNames: [...SITE_LABELS, ...ISOLATE_LABELS],
      registers,
      aggregator,
      collect() {
        this.reset();
        for (const series of currentSeries()) this.set(series.labels, value(series));
      },
    });
  // One series per isolate: this thread's has no label, a worker thread's has `thread`.
  const gauge = (name: string, help: string, aggregator: Aggregator, value: (isolate: IsolateFigures) => number): Gauge<IsolateLabel> =>
    new Gauge({
      name,
      help,
      labelNames: ['thread'],
      registers,
      aggregator,
      collect() {
        this.reset();
        for (const isolate of isolates()) this.set(labelsOf(isolate), value(isolate));
      },
    });
  const counter = (name: string, help: string, value: (isolate: IsolateFigures) => number): Counter<IsolateLabel> =>
    new Counter({
      name,
      help,
      labelNames: ISOLATE_LABELS,
      registers,
      collect() {
        this.reset();
        for (const isolate of isolates()) this.inc(siteLabelsOf(isolate), value(isolate));
      },
    });

  siteGauge(PrometheusMetric.siteLiveBytes, 'Estimated live bytes allocated by the site (sampled), at the latest reading.', (s) => s.liveBytes);
  siteGauge(PrometheusMetric.siteLiveObjects, 'Estimated live objects allocated by the site (sampled), at the latest reading.', (s) => s.count);
  siteGauge(
    PrometheusMetric.siteExternalBytes,
    "Estimated ArrayBuffer memory (Buffer contents, outside V8's heap) held through the site's objects, at the latest reading; apart from heapwatch_site_live_bytes.",
    (s) => s.externalBytes,
  );
  siteGauge(PrometheusMetric.siteGrowthBytes, "Growth of the site's live bytes over the horizon that raised its suspicion, else over the detection window.", (s) => s.growthBytes);
  siteGauge(PrometheusMetric.siteLeakSuspected, '1 while the detector suspects the site of leaking, else 0.', (s) => (s.suspected ? 1 : 0), 'max');
  // The route in the verdict: only suspected sites, at most 10 routes each — series of their own,
  // so that the route is never a label of every site's series (docs/metrics.md).
  new Gauge({
    name: PrometheusMetric.siteRouteLiveBytes,
    help: "A suspected site's estimated live bytes allocated under each HTTP route (method and path pattern), at the latest reading.",
    labelNames: [...SITE_LABELS, 'route', ...ISOLATE_LABELS],
    registers,
    aggregator: 'sum',
    collect() {
      this.reset();
      for (const isolate of isolates()) {
        const extra = siteLabelsOf(isolate);
        for (const series of routeSeriesOf(isolate.sites(), labels.redactSites === true)) this.set({ ...series.labels, ...extra }, series.liveBytes);
      }
    },
  });
  new Counter({
    name: PrometheusMetric.leakSuspicionsTotal,
    help: 'Leak suspicions raised at the site since the process started.',
    labelNames: [...SITE_LABELS, ...ISOLATE_LABELS],
    registers,
    collect() {
      this.reset();
      for (const series of currentSeries()) this.inc(series.labels, series.suspicions);
    },
  });
  // Allocation mode (Node 26, allocations: true): the `topSites` most allocating sites — churn
  // holds nothing live, so these are labelled by what they allocated, not by what they hold.
  // Counters from heapwatch's running totals: they never fall when V8's sampler starts over.
  const allocationCounter = (name: string, help: string, value: (series: AllocationSeries) => number): Counter<SiteLabel | IsolateLabel> =>
    new Counter({
      name,
      help,
      labelNames: [...SITE_LABELS, ...ISOLATE_LABELS],
      registers,
      collect() {
        this.reset();
        for (const isolate of isolates()) {
          const extra = siteLabelsOf(isolate);
          for (const series of allocationSeriesOf(isolate.allocatingSites?.() ?? [], labels.redactSites === true)) {
            this.inc({ ...series.labels, ...extra }, value(series));
          }
        }
      },
    });
  allocationCounter(PrometheusMetric.siteAllocatedBytesTotal, 'Estimated bytes allocated by the site since heapwatch started, live or collected (sampled; Node 26 allocation mode).', (s) => s.bytes);
  allocationCounter(PrometheusMetric.siteAllocatedObjectsTotal, 'Estimated objects allocated by the site since heapwatch started (sampled; Node 26 allocation mode).', (s) => s.objects);
  // Gauges across a cluster's workers: counts and bytes add up; each worker's limits and settings
  // are its own, so the primary shows the largest (equal in every worker that runs the same code).
  gauge(PrometheusMetric.leakSuspects, 'Sites suspected of leaking now.', 'sum', (i) => i.suspects());
  gauge(PrometheusMetric.sampledLiveBytes, 'Estimated live bytes of all watched sites at the latest reading.', 'sum', (i) => i.stats().sampledLiveBytes);
  gauge(PrometheusMetric.sitesTracked, 'Sites whose series heapwatch keeps (at most maxTrackedSites).', 'sum', (i) => i.stats().trackedSites);
  gauge(PrometheusMetric.sitesDropped, 'Sites of the latest reading left untracked because of maxTrackedSites.', 'sum', (i) => i.stats().droppedSites);
  counter(PrometheusMetric.snapshotsTotal, 'Readings of the V8 sampler taken by heapwatch.', (i) => i.stats().readings);
  counter(PrometheusMetric.snapshotErrorsTotal, 'Readings of the V8 sampler that failed.', (i) => i.stats().readingErrors);
  counter(PrometheusMetric.logErrorsTotal, "Records heapwatch's logger refused (it threw).", (i) => i.stats().logErrors);
  // The process's count (OpenTelemetry runs in the main thread): no thread label; a cluster
  // worker's carries its `worker`, as every counter does.
  new Counter({
    name: PrometheusMetric.otelErrorsTotal,
    help: 'Calls into OpenTelemetry (the MeterProvider, a meter, an observation) that threw; heapwatch went on without them.',
    labelNames: ['worker'],
    registers,
    collect() {
      this.reset();
      this.inc(workerLabels, otelErrors());
    },
  });
  counter(PrometheusMetric.forcedGcsTotal, 'Full GCs heapwatch asked V8 for, to confirm a rising site.', (i) => i.stats().requestedGcs);
  counter(PrometheusMetric.skippedGcsTotal, 'Full GCs heapwatch did not ask for because their expected pause exceeded its pause budget (forcedGcPauseBudgetMs).', (i) => i.stats().skippedGcs);
  gauge(PrometheusMetric.samplingIntervalBytes, "Mean bytes between two samples of V8's sampling heap profiler.", 'max', (i) => i.stats().samplingIntervalBytes);
  gauge(PrometheusMetric.growthThresholdBytes, 'Growth over the window that makes a site a leak suspect (twice that over a shorter horizon).', 'max', (i) => i.growthThresholdBytes);
  gauge(PrometheusMetric.windowSeconds, 'The longest horizon over which growth is judged.', 'max', (i) => i.windowMs / 1000);
  gauge(PrometheusMetric.heapSizeLimitBytes, "V8's heap size limit.", 'max', (i) => i.heapSizeLimitBytes());
  // prom-client exports external memory (nodejs_external_memory_bytes) but not this part of it,
  // the Buffer and ArrayBuffer contents whose wrappers alone the sampler sees. This thread's only:
  // the process's figure, which per-thread series would repeat under every thread label.
  new Gauge({
    name: PrometheusMetric.arrayBuffersBytes,
    help: 'Memory of ArrayBuffers and Buffers outside the V8 heap (part of the external memory): the sampler sees only their wrapper objects.',
    registers,
    collect() {
      this.set(process.memoryUsage().arrayBuffers);
    },
  });

  // The memory no site explains, the process's: read by the main thread's monitor at every tick.
  // No series before its first tick, nor where it does not watch the process (a worker thread).
  // Across a cluster's workers bytes and growth add up; the verdict is 1 if any worker's is.
  const unexplainedGauge = (name: string, help: string, aggregator: Aggregator, value: (memory: UnexplainedMemory) => number): Gauge =>
    new Gauge({
      name,
      help,
      registers,
      aggregator,
      collect() {
        const memory = monitor.unexplainedMemory();
        if (memory === undefined) this.remove();
        else this.set(value(memory));
      },
    });
  unexplainedGauge(
    PrometheusMetric.memoryUnexplainedBytes,
    "Resident memory no allocation site explains: RSS minus V8's resident heap, V8's own malloc and ArrayBuffer contents (native addons, the allocator's pages, code, stacks, worker threads' heaps), at the latest reading; never below 0.",
    'sum',
    (memory) => Math.max(0, memory.unexplainedBytes),
  );
  unexplainedGauge(
    PrometheusMetric.memoryUnexplainedGrowthBytes,
    'Growth of the memory no allocation site explains, over the horizon that raised its verdict, else over the detection window; while a verdict on the ArrayBuffer memory no sampled site holds stands, of that memory.',
    'sum',
    (memory) => memory.growthBytes,
  );
  unexplainedGauge(
    PrometheusMetric.memoryUnexplainedGrowthSuspected,
    '1 while the memory no allocation site explains (native, or ArrayBuffer contents no sampled site holds) grows in a sustained way (past unexplainedGrowthThresholdBytes over the window, beyond its own swings), else 0.',
    'max',
    (memory) => (memory.suspected ? 1 : 0),
  );

  // The kill limit beside prom-client's process_resident_memory_bytes, which the alert rule projects
  // against it. No series without a limit: a 0 or +Inf would draw a line or match a comparison.
  // Every cluster worker runs in the same container: the primary shows one worker's, the largest.
  new Gauge({
    name: PrometheusMetric.memoryLimitBytes,
    help: "The memory limit of the process's cgroup (v2 memory.max, v1 memory.limit_in_bytes), where the kernel's OOM killer ends it; absent without one.",
    registers,
    aggregator: 'max',
    collect() {
      const limit = containerMemoryLimitBytes();
      if (limit === undefined) this.remove();
      else this.set(limit);
    },
  });

  const duration = new Histogram({
    name: PrometheusMetric.snapshotDurationSeconds,
    help: 'Main-thread time of one reading: read the sampler, aggregate per site, judge growth.',
    buckets: [...SNAPSHOT_DURATION_BUCKETS_SECONDS],
    // Declared only in a cluster worker: a histogram with label names has no series before its first observation.
    labelNames: worker === undefined ? [] : ['worker'],
    registers,
  });
  const observe = ({ durationMs }: { durationMs: number }): void => duration.observe(workerLabels, durationMs / 1000);
  monitor.on('reading', observe);

  return () => {
    monitor.off('reading', observe);
    stopAnswering();
    for (const name of Object.values(PrometheusMetric)) registry.removeSingleMetric(name);
  };
}
