import { ValueType } from '@opentelemetry/api';
import type { Attributes, BatchObservableCallback, MeterProvider, Observable } from '@opentelemetry/api';
import type { HeapMonitor } from '../monitor/monitor.js';
import type { Frame } from '../snapshot/frame.js';
import { SNAPSHOT_DURATION_BUCKETS_SECONDS } from './duration-buckets.js';
import { labelledSites } from './labelled-sites.js';

/**
 * heapwatch's OpenTelemetry instrument names. Units follow UCUM. Exported to Prometheus by the
 * Collector they get the names of heapwatch's own Prometheus metrics (`heapwatch.site.live` in
 * `By` → `heapwatch_site_live_bytes`), but the site labels differ: `code_function_name`,
 * `code_file_path` (absolute), `code_line_number`, `code_column_number`.
 */
export const OtelInstrument = {
  siteLive: 'heapwatch.site.live',
  siteLiveObjects: 'heapwatch.site.live_objects',
  siteGrowth: 'heapwatch.site.growth',
  siteLeakSuspected: 'heapwatch.site.leak_suspected',
  leakSuspicions: 'heapwatch.leak_suspicions',
  leakSuspects: 'heapwatch.leak_suspects',
  sampledLive: 'heapwatch.sampled_live',
  sitesTracked: 'heapwatch.sites.tracked',
  sitesDropped: 'heapwatch.sites.dropped',
  snapshots: 'heapwatch.snapshots',
  snapshotErrors: 'heapwatch.snapshot.errors',
  snapshotDuration: 'heapwatch.snapshot.duration',
  samplingInterval: 'heapwatch.sampling_interval',
} as const;

/** The stable `code.*` semantic-convention attributes of a site. */
export function codeAttributes(site: Frame): Attributes {
  return {
    'code.function.name': site.functionName,
    'code.file.path': site.file,
    'code.line.number': site.line,
    'code.column.number': site.column,
  };
}

/**
 * Registers heapwatch's observable instruments on `meterProvider`'s meter `heapwatch`, with one
 * batch callback that reads the monitor once per collection. Per-site points exist only for the
 * labelled sites (the `topSites` largest plus every suspect). Returns a function that removes the
 * callback again. Only `@opentelemetry/api` is used: without an SDK the instruments are no-ops.
 *
 * With a cumulative reader (the SDK's default), the SDK keeps exporting the last value of a site
 * that left the labelled set (open-telemetry/opentelemetry-js#4096); a delta reader drops it.
 * The global MeterProvider is read when this is called: register the SDK first.
 */
export function observeWithOpenTelemetry(monitor: HeapMonitor, meterProvider: MeterProvider): () => void {
  const meter = meterProvider.getMeter('heapwatch');
  const siteLive = meter.createObservableGauge(OtelInstrument.siteLive, {
    unit: 'By',
    description: 'Estimated live bytes allocated by the site (sampled), at the latest reading.',
  });
  const siteLiveObjects = meter.createObservableGauge(OtelInstrument.siteLiveObjects, {
    valueType: ValueType.INT,
    unit: '{object}',
    description: 'Estimated live objects allocated by the site (sampled), at the latest reading.',
  });
  const siteGrowth = meter.createObservableGauge(OtelInstrument.siteGrowth, {
    unit: 'By',
    description: "Growth of the site's live bytes over the detection window.",
  });
  const siteLeakSuspected = meter.createObservableGauge(OtelInstrument.siteLeakSuspected, {
    valueType: ValueType.INT,
    unit: '{suspect}',
    description: '1 while the detector suspects the site of leaking, else 0.',
  });
  const leakSuspicions = meter.createObservableCounter(OtelInstrument.leakSuspicions, {
    valueType: ValueType.INT,
    unit: '{suspicion}',
    description: 'Leak suspicions raised at the site since the process started.',
  });
  const leakSuspects = meter.createObservableGauge(OtelInstrument.leakSuspects, {
    valueType: ValueType.INT,
    unit: '{site}',
    description: 'Sites suspected of leaking now.',
  });
  const sampledLive = meter.createObservableGauge(OtelInstrument.sampledLive, {
    unit: 'By',
    description: 'Estimated live bytes of all watched sites at the latest reading.',
  });
  const sitesTracked = meter.createObservableGauge(OtelInstrument.sitesTracked, {
    valueType: ValueType.INT,
    unit: '{site}',
    description: 'Sites whose series heapwatch keeps (at most maxTrackedSites).',
  });
  const sitesDropped = meter.createObservableGauge(OtelInstrument.sitesDropped, {
    valueType: ValueType.INT,
    unit: '{site}',
    description: 'Sites of the latest reading left untracked because of maxTrackedSites.',
  });
  const snapshots = meter.createObservableCounter(OtelInstrument.snapshots, {
    valueType: ValueType.INT,
    unit: '{reading}',
    description: 'Readings of the V8 sampler taken by heapwatch.',
  });
  const snapshotErrors = meter.createObservableCounter(OtelInstrument.snapshotErrors, {
    valueType: ValueType.INT,
    unit: '{error}',
    description: 'Readings of the V8 sampler that failed.',
  });
  const samplingInterval = meter.createObservableGauge(OtelInstrument.samplingInterval, {
    valueType: ValueType.INT,
    unit: 'By',
    description: "Mean bytes between two samples of V8's sampling heap profiler.",
  });
  const observables: Observable[] = [
    siteLive,
    siteLiveObjects,
    siteGrowth,
    siteLeakSuspected,
    leakSuspicions,
    leakSuspects,
    sampledLive,
    sitesTracked,
    sitesDropped,
    snapshots,
    snapshotErrors,
    samplingInterval,
  ];

  const callback: BatchObservableCallback = (result) => {
    let suspects = 0;
    for (const site of labelledSites(monitor)) {
      const attributes = codeAttributes(site.site);
      result.observe(siteLive, site.liveBytes, attributes);
      result.observe(siteLiveObjects, site.count, attributes);
      result.observe(siteGrowth, site.growthBytes, attributes);
      result.observe(siteLeakSuspected, site.suspected ? 1 : 0, attributes);
      result.observe(leakSuspicions, site.suspicions, attributes);
      if (site.suspected) suspects++;
    }
    const stats = monitor.stats();
    result.observe(leakSuspects, suspects);
    result.observe(sampledLive, monitor.latestSnapshot()?.size ?? 0);
    result.observe(sitesTracked, stats.trackedSites);
    result.observe(sitesDropped, stats.droppedSites);
    result.observe(snapshots, stats.readings);
    result.observe(snapshotErrors, stats.readingErrors);
    result.observe(samplingInterval, monitor.options.samplingIntervalBytes);
  };
  meter.addBatchObservableCallback(callback, observables);

  // The one synchronous instrument: durations are recorded as readings happen.
  const snapshotDuration = meter.createHistogram(OtelInstrument.snapshotDuration, {
    unit: 's',
    description: 'Main-thread time of one reading: read the sampler, aggregate per site, judge growth.',
    advice: { explicitBucketBoundaries: [...SNAPSHOT_DURATION_BUCKETS_SECONDS] },
  });
  const record = ({ durationMs }: { durationMs: number }): void => snapshotDuration.record(durationMs / 1000);
  monitor.on('reading', record);

  return () => {
    monitor.off('reading', record);
    meter.removeBatchObservableCallback(callback, observables);
  };
}
