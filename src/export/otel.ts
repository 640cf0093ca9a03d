import { ValueType } from '@opentelemetry/api';
import type { Attributes, BatchObservableCallback, MeterProvider, Observable } from '@opentelemetry/api';
import type { HeapMonitor } from '../monitor/monitor.js';
import type { Frame } from '../snapshot/frame.js';
import { SNAPSHOT_DURATION_BUCKETS_SECONDS } from './duration-buckets.js';
import { isolatesOf } from './isolates.js';
import { containerMemoryLimitBytes } from '../monitor/container-limit.js';
import { otelFailed } from './otel-errors.js';
import { routeLabel } from './route-label.js';
import { redactSite } from '../format/site-hash.js';
import type { ThreadFiguresSource } from './isolates.js';

/**
 * heapwatch's OpenTelemetry instrument names. Units follow UCUM. Exported to Prometheus by the
 * Collector they get the names of heapwatch's own Prometheus metrics (`heapwatch.site.live` in
 * `By` → `heapwatch_site_live_bytes`), but the site labels differ: `code_function_name`,
 * `code_file_path` (absolute), `code_line_number`, `code_column_number`.
 */
export const OtelInstrument = {
  siteLive: 'heapwatch.site.live',
  siteLiveObjects: 'heapwatch.site.live_objects',
  siteExternal: 'heapwatch.site.external',
  siteGrowth: 'heapwatch.site.growth',
  siteLeakSuspected: 'heapwatch.site.leak_suspected',
  leakSuspicions: 'heapwatch.leak_suspicions',
  leakSuspects: 'heapwatch.leak_suspects',
  sampledLive: 'heapwatch.sampled_live',
  sitesTracked: 'heapwatch.sites.tracked',
  sitesDropped: 'heapwatch.sites.dropped',
  snapshots: 'heapwatch.snapshots',
  snapshotErrors: 'heapwatch.snapshot.errors',
  logErrors: 'heapwatch.log.errors',
  snapshotDuration: 'heapwatch.snapshot.duration',
  samplingInterval: 'heapwatch.sampling_interval',
  memoryUnexplained: 'heapwatch.memory.unexplained',
  memoryUnexplainedGrowth: 'heapwatch.memory.unexplained_growth',
  memoryUnexplainedGrowthSuspected: 'heapwatch.memory.unexplained_growth_suspected',
  siteRouteLive: 'heapwatch.site.route.live',
  memoryLimit: 'heapwatch.memory.limit',
  siteAllocated: 'heapwatch.site.allocated',
  siteAllocatedObjects: 'heapwatch.site.allocated_objects',
} as const;

/** How the exporters label a site. */
export interface SiteLabelOptions {
  /** Hashes in place of the function name and the file path (see `redactSites`). Default: `false`. */
  readonly redactSites?: boolean;
}

/** The stable `code.*` semantic-convention attributes of a site (hashed names with `redactSites`). */
export function codeAttributes(site: Frame, labels: SiteLabelOptions = {}): Attributes {
  const redacted = labels.redactSites === true ? redactSite(site) : undefined;
  return {
    'code.function.name': redacted?.function ?? site.functionName,
    'code.file.path': redacted?.file ?? site.file,
    'code.line.number': site.line,
    'code.column.number': site.column,
  };
}

type ObservedName = Exclude<keyof typeof OtelInstrument, 'snapshotDuration'>;

interface ObservableSpec {
  readonly kind: 'gauge' | 'counter';
  readonly unit: string;
  /** Whole numbers (counts) are exported as integers, bytes and estimates as doubles. */
  readonly integer: boolean;
  readonly description: string;
}

const OBSERVED: Readonly<Record<ObservedName, ObservableSpec>> = {
  siteLive: { kind: 'gauge', unit: 'By', integer: false, description: 'Estimated live bytes allocated by the site (sampled), at the latest reading.' },
  siteLiveObjects: { kind: 'gauge', unit: '{object}', integer: true, description: 'Estimated live objects allocated by the site (sampled), at the latest reading.' },
  siteAllocated: { kind: 'counter', unit: 'By', integer: false, description: 'Estimated bytes allocated by the site since heapwatch started, live or collected (sampled; Node 26 allocation mode).' },
  siteAllocatedObjects: { kind: 'counter', unit: '{object}', integer: true, description: 'Estimated objects allocated by the site since heapwatch started (sampled; Node 26 allocation mode).' },
  siteExternal: {
    kind: 'gauge',
    unit: 'By',
    integer: false,
    description: "Estimated ArrayBuffer memory (Buffer contents, outside V8's heap) held through the site's objects, at the latest reading; apart from heapwatch.site.live.",
  },
  siteGrowth: { kind: 'gauge', unit: 'By', integer: false, description: "Growth of the site's live bytes over the horizon that raised its suspicion, else over the detection window." },
  siteLeakSuspected: { kind: 'gauge', unit: '{suspect}', integer: true, description: '1 while the detector suspects the site of leaking, else 0.' },
  leakSuspicions: { kind: 'counter', unit: '{suspicion}', integer: true, description: 'Leak suspicions raised at the site since the process started.' },
  leakSuspects: { kind: 'gauge', unit: '{site}', integer: true, description: 'Sites suspected of leaking now.' },
  sampledLive: { kind: 'gauge', unit: 'By', integer: false, description: 'Estimated live bytes of all watched sites at the latest reading.' },
  sitesTracked: { kind: 'gauge', unit: '{site}', integer: true, description: 'Sites whose series heapwatch keeps (at most maxTrackedSites).' },
  sitesDropped: { kind: 'gauge', unit: '{site}', integer: true, description: 'Sites of the latest reading left untracked because of maxTrackedSites.' },
  snapshots: { kind: 'counter', unit: '{reading}', integer: true, description: 'Readings of the V8 sampler taken by heapwatch.' },
  snapshotErrors: { kind: 'counter', unit: '{error}', integer: true, description: 'Readings of the V8 sampler that failed.' },
  logErrors: { kind: 'counter', unit: '{record}', integer: true, description: "Records heapwatch's logger refused (it threw)." },
  samplingInterval: { kind: 'gauge', unit: 'By', integer: true, description: "Mean bytes between two samples of V8's sampling heap profiler." },
  memoryUnexplained: {
    kind: 'gauge',
    unit: 'By',
    integer: true,
    description: "Resident memory no allocation site explains: RSS minus V8's resident heap, V8's own malloc and ArrayBuffer contents, at the latest reading; never below 0.",
  },
  memoryUnexplainedGrowth: {
    kind: 'gauge',
    unit: 'By',
    integer: true,
    description: 'Growth of the memory no allocation site explains, over the horizon that raised its verdict, else over the detection window; while a verdict on the ArrayBuffer memory no sampled site holds stands, of that memory.',
  },
  memoryUnexplainedGrowthSuspected: {
    kind: 'gauge',
    unit: '{suspect}',
    integer: true,
    description: '1 while the memory no allocation site explains grows in a sustained way, else 0.',
  },
  siteRouteLive: {
    kind: 'gauge',
    unit: 'By',
    integer: false,
    description: "A suspected site's estimated live bytes allocated under each HTTP route (attribute heapwatch.route: method and path pattern), at the latest reading.",
  },
  memoryLimit: { kind: 'gauge', unit: 'By', integer: true, description: "The memory limit of the process's cgroup (v2 memory.max, v1 memory.limit_in_bytes), where the kernel's OOM killer ends it; no point without one." },
};

/**
 * Registers heapwatch's observable instruments on `meterProvider`'s meter `heapwatch`, with one
 * batch callback that reads the monitor once per collection. Per-site points exist only for the
 * labelled sites (the `topSites` largest plus every suspect). Returns a function that removes the
 * callback again. Only `@opentelemetry/api` is used: without an SDK the instruments are no-ops.
 *
 * With a cumulative reader (the SDK's default), the SDK keeps exporting the last value of a site
 * that left the labelled set (open-telemetry/opentelemetry-js#4096); a delta reader drops it.
 *
 * With `threads` (given by `heapwatch()` in the main thread), each watched worker thread's
 * figures are points of their own, with the semantic-convention attribute `thread.name`.
 */
export function observeWithOpenTelemetry(
  monitor: HeapMonitor,
  meterProvider: MeterProvider,
  threads?: ThreadFiguresSource,
  labels: SiteLabelOptions = {},
): () => void {
  try {
    return observe(monitor, meterProvider, threads, labels);
  } catch (error) {
    // A provider or meter that throws (a broken wrapper, one torn down) gets no instruments; the
    // Prometheus page, the log and the host carry on.
    otelFailed('registered its instruments', error);
    return () => {};
  }
}

function observe(monitor: HeapMonitor, meterProvider: MeterProvider, threads: ThreadFiguresSource | undefined, labels: SiteLabelOptions): () => void {
  const meter = meterProvider.getMeter('heapwatch');
  const instrument = {} as Record<ObservedName, Observable>;
  for (const [name, spec] of Object.entries(OBSERVED) as Array<[ObservedName, ObservableSpec]>) {
    const options = { unit: spec.unit, description: spec.description, valueType: spec.integer ? ValueType.INT : ValueType.DOUBLE };
    instrument[name] =
      spec.kind === 'gauge'
        ? meter.createObservableGauge(OtelInstrument[name], options)
        : meter.createObservableCounter(OtelInstrument[name], options);
  }
  const observables = Object.values(instrument);
  const isolates = isolatesOf(monitor, threads);

  const callback: BatchObservableCallback = (result) => {
    try {
      observeAll(result);
    } catch (error) {
      // The observations made before stand; the SDK's collection and its other callbacks go on.
      otelFailed('observed its instruments', error);
    }
  };
  const observeAll = (result: Parameters<BatchObservableCallback>[0]): void => {
    for (const isolate of isolates()) {
      const thread: Attributes = isolate.thread === undefined ? {} : { 'thread.name': isolate.thread };
      // Allocation mode: the most allocating sites, whose points never fall (heapwatch's running totals).
      for (const site of isolate.allocatingSites?.() ?? []) {
        const attributes = { ...codeAttributes(site.site, labels), ...thread };
        result.observe(instrument.siteAllocated, site.allocatedBytes, attributes);
        result.observe(instrument.siteAllocatedObjects, site.allocatedObjects, attributes);
      }
      let suspects = 0;
      for (const site of isolate.sites()) {
        const attributes = { ...codeAttributes(site.site, labels), ...thread };
        result.observe(instrument.siteLive, site.liveBytes, attributes);
        result.observe(instrument.siteLiveObjects, site.count, attributes);
        result.observe(instrument.siteExternal, site.externalBytes ?? 0, attributes);
        result.observe(instrument.siteGrowth, site.growthBytes, attributes);
        result.observe(instrument.siteLeakSuspected, site.suspected ? 1 : 0, attributes);
        result.observe(instrument.leakSuspicions, site.suspicions, attributes);
        // The route in the verdict: suspects only, 10 routes each at most (docs/metrics.md).
        for (const share of site.routes ?? []) result.observe(instrument.siteRouteLive, share.bytes, { ...attributes, 'heapwatch.route': routeLabel(share.route) });
        if (site.suspected) suspects++;
      }
      const stats = isolate.stats();
      result.observe(instrument.leakSuspects, suspects, thread);
      result.observe(instrument.sampledLive, stats.sampledLiveBytes, thread);
      result.observe(instrument.sitesTracked, stats.trackedSites, thread);
      result.observe(instrument.sitesDropped, stats.droppedSites, thread);
      result.observe(instrument.snapshots, stats.readings, thread);
      result.observe(instrument.snapshotErrors, stats.readingErrors, thread);
      result.observe(instrument.logErrors, stats.logErrors, thread);
      result.observe(instrument.samplingInterval, stats.samplingIntervalBytes, thread);
    }
    // The process's, once, with no thread attribute; no point without a limit.
    const memoryLimitBytes = containerMemoryLimitBytes();
    if (memoryLimitBytes !== undefined) result.observe(instrument.memoryLimit, memoryLimitBytes);
    // The process's too, from the main thread's monitor: no point before its first reading.
    const unexplained = monitor.unexplainedMemory();
    if (unexplained !== undefined) {
      result.observe(instrument.memoryUnexplained, Math.max(0, unexplained.unexplainedBytes));
      result.observe(instrument.memoryUnexplainedGrowth, unexplained.growthBytes);
      result.observe(instrument.memoryUnexplainedGrowthSuspected, unexplained.suspected ? 1 : 0);
    }
  };
  // The one synchronous instrument: durations are recorded as readings happen.
  const snapshotDuration = meter.createHistogram(OtelInstrument.snapshotDuration, {
    unit: 's',
    description: 'Main-thread time of one reading: read the sampler, aggregate per site, judge growth.',
    advice: { explicitBucketBoundaries: [...SNAPSHOT_DURATION_BUCKETS_SECONDS] },
  });
  // Added last: nothing after it can throw, so a failure above leaves no callback behind.
  meter.addBatchObservableCallback(callback, observables);

  const record = ({ durationMs }: { durationMs: number }): void => {
    try {
      snapshotDuration.record(durationMs / 1000);
    } catch (error) {
      otelFailed('recorded a reading duration', error);
    }
  };
  monitor.on('reading', record);

  return () => {
    monitor.off('reading', record);
    try {
      meter.removeBatchObservableCallback(callback, observables);
    } catch (error) {
      otelFailed('removed its instruments', error);
    }
  };
}
