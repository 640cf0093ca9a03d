import { PrometheusMetric } from '../../src/export/prometheus.js';

/** heapwatch's own metrics, by the names its exporter registers: renaming one changes every query. */
export const heapwatch = PrometheusMetric;

/** prom-client's standard Node metrics, which `heapwatch()` registers unless told not to (`defaultMetrics`). */
export const nodejs = {
  heapUsedBytes: 'nodejs_heap_size_used_bytes',
  heapTotalBytes: 'nodejs_heap_size_total_bytes',
  heapSpaceUsedBytes: 'nodejs_heap_space_size_used_bytes',
  externalMemoryBytes: 'nodejs_external_memory_bytes',
  gcDurationSeconds: 'nodejs_gc_duration_seconds',
  eventLoopLagP50Seconds: 'nodejs_eventloop_lag_p50_seconds',
  eventLoopLagP99Seconds: 'nodejs_eventloop_lag_p99_seconds',
  eventLoopLagMaxSeconds: 'nodejs_eventloop_lag_max_seconds',
  residentMemoryBytes: 'process_resident_memory_bytes',
  cpuSecondsTotal: 'process_cpu_seconds_total',
  startTimeSeconds: 'process_start_time_seconds',
} as const;

/** Series recorded by deploy/prometheus/rules/heapwatch.rules.yml that the dashboards draw. */
export const recorded = {
  heapUsedAvg10mBytes: 'instance:nodejs_heap_size_used_bytes:avg_over_time10m',
  heapUsedPredicted4hBytes: 'instance:nodejs_heap_size_used_bytes:predict_linear4h',
  residentPredicted4hBytes: 'instance:process_resident_memory_bytes:predict_linear4h',
} as const;
