import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { isMainThread } from 'node:worker_threads';
import { Detector } from '../growth/detector.js';
import { ExternalShares } from '../growth/external-share.js';
import type { SiteSeries } from '../growth/series.js';
import { SuspicionTracker } from '../growth/suspicion.js';
import { LeakLog } from '../log/leak-log.js';
import type { SiteReport } from '../log/site-report.js';
import type { Snapshot } from '../snapshot/snapshot.js';
import { ErrorCode } from '../errors.js';
import { takeSnapshot } from '../take-snapshot.js';
import { usedHeapBytes } from '../v8/gc-events.js';
import { majorGcSignal } from '../v8/major-gc.js';
import { allocationsUnavailable, startSampling, stopSampling } from '../v8/sampler.js';
import type { AllocationReport } from './allocation-totals.js';
import { MemoryLimitWatch } from './memory-near-limit.js';
import { NearLimitWatch } from './near-limit.js';
import type { NearLimitSource } from './near-limit.js';
import { resolveMonitorOptions } from './options.js';
import type { HeapMonitorOptions, ResolvedMonitorOptions } from './options.js';
import { SiteReports } from './reports.js';
import { UnexplainedMemoryWatch } from './unexplained-memory.js';
import type { UnexplainedMemory } from './unexplained-memory.js';
import { Verdicts } from './verdicts.js';
import type { HeapMonitorEvents, NotifyMonitorEvent } from './events.js';
import { RouteShares } from './route-shares.js';
import { HoldReading } from './site-reader.js';
import { MonitorReadings } from './readings.js';
import type { MonitorStats } from './stats.js';
import type { RouteShare } from '../routes/attribute.js';
import { RouteTable } from '../routes/route-table.js';
import { bufferSampler } from '../buffers/buffer-sampler.js';

/** See {@link createHeapMonitor}. */
export class HeapMonitor extends EventEmitter<HeapMonitorEvents> {
  readonly options: ResolvedMonitorOptions;
  /** How readings are taken, and the windows, clean readings and totals they go to. */
  private readonly readings: MonitorReadings;
  private readonly tracker: SuspicionTracker;
  /** The detector's conclusions and the unexplained memory's, turned into records and events. */
  private readonly verdicts: Verdicts;
  /** The sites' shares of the process's ArrayBuffer memory, which V8's sampler does not see. */
  private readonly external: ExternalShares;
  private readonly reports: SiteReports;
  private readonly log: LeakLog;
  /** V8's near-heap-limit hook: the record a leak leaves when it exhausts the heap. */
  private readonly nearLimit: NearLimitWatch;
  /** RSS against the container's memory limit: the record a leak leaves before the OOM killer. */
  private readonly memoryLimit: MemoryLimitWatch;
  /** The memory no site explains, judged at every tick: the process's, so the main thread's monitor only. */
  private readonly unexplained: UnexplainedMemoryWatch | undefined;
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;
  /** Suspects are never evicted from the windows. */
  private readonly isSuspect = (key: string): boolean => this.tracker.isSuspect(key);
  private counters = { readingErrors: 0, lastTickMs: 0 };
  /** Main-thread time the current tick spent on the routes of its verdicts: not the reading's (see ReadingPace). */
  private verdictRoutesMs = 0;
  /**
   * The routes of the applications heapwatch is mounted in, added by its framework adapters (the
   * Express middleware, the Fastify plugin): what {@link routesOf} attributes a site's bytes to.
   */
  readonly routes = new RouteTable();
  /** Route shares computed on the latest reading, per site: scrapes and pages between two readings reuse them. */
  private readonly routeShares = new RouteShares(this.routes);

  constructor(options?: HeapMonitorOptions) {
    super();
    this.options = resolveMonitorOptions(options);
    const { maxTrackedSites, windowMs } = this.options;
    this.readings = new MonitorReadings(this.options, {
      isSuspect: this.isSuspect,
      holdReadings: () => this.nearLimit.holdReadings(),
      idle: () => this.running && !this.ticking,
      readingFailed: (error) => this.readingFailed(error),
    });
    const { window, clean, breaks, allocationTotals } = this.readings;
    this.tracker = new SuspicionTracker(windowMs);
    // The warm-up counts from the start of the process (of the thread, in a worker thread).
    const warmupEndsAt = performance.timeOrigin + this.options.warmupMs;
    this.external = new ExternalShares(window, clean.window);
    const cleanSeriesOf = (key: string, since: number, share: number) => clean.series(key, since, share);
    const detector = new Detector({ ...this.options, warmupEndsAt }, window, cleanSeriesOf, this.tracker, this.external, breaks);
    const samplingIntervalBytes = () => this.readings.samplingIntervalBytes;
    this.reports = new SiteReports(window, this.tracker, detector, maxTrackedSites, this.external, samplingIntervalBytes, allocationTotals);
    this.log = new LeakLog(this.options.logger);
    const atLimit: NearLimitSource = {
      sites: () => this.sites(),
      suspects: () => this.suspects(),
      seriesOf: (key) => this.seriesOf(key),
      samplingIntervalBytes: () => this.stats().samplingIntervalBytes,
      readNow: () => this.readings.atLimit(),
    };
    this.nearLimit = new NearLimitWatch(atLimit, this.log, this.options);
    this.memoryLimit = new MemoryLimitWatch(atLimit, this.log, this.options);
    this.unexplained = isMainThread ? new UnexplainedMemoryWatch({ ...this.options, warmupEndsAt }) : undefined;
    const notify: NotifyMonitorEvent = (event, ...args) => this.notify(event, ...args);
    this.verdicts = new Verdicts(this.options, detector, this.tracker, this.reports, this.log, clean, this.unexplained, this, notify);
  }

  /**
   * Why no `heap-near-limit` record can be written (the inspector reader, a sampler shared with
   * another tool, nothing to write to), or undefined when V8's hook is armed. Known once started.
   */
  get nearHeapLimitUnavailable(): string | undefined {
    return this.nearLimit.unavailable;
  }

  get running(): boolean {
    return this.timer !== undefined;
  }

  /**
   * Starts sampling (sharing V8's sampler with anyone who started it with the same options) and
   * takes a reading every `intervalMs`. Throws only for a sampler conflict, here, at start.
   */
  start(): this {
    if (this.running) return this;
    startSampling({ samplingIntervalBytes: this.options.samplingIntervalBytes, reader: this.options.reader, allocations: this.options.allocations });
    if (this.options.bufferSampling) bufferSampler.acquire(this.options.bufferSamplingIntervalBytes);
    this.armNearLimit();
    // The process's memory is the main thread's to watch: a worker thread's monitor would repeat it.
    if (isMainThread && this.options.logger !== false) this.memoryLimit.start();
    this.readings.clean.start();
    this.timer = setTimeout(() => this.tick(), 0);
    this.timer.unref();
    return this;
  }

  /** Stops the readings and the sampler. Idempotent. */
  stop(): void {
    if (!this.running) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.readings.clean.stop();
    this.memoryLimit.stop();
    if (this.options.bufferSampling) bufferSampler.release();
    stopSampling();
  }

  /**
   * A fresh reading, filtered by `include`/`exclude`, outside the monitor's own series (for the
   * debug endpoints). Throws as `takeSnapshot()` does.
   */
  snapshotNow(): Snapshot {
    if (this.nearLimit.holdReadings()) {
      throw new Error("V8's heap is at its limit; heapwatch reads again once its heap-near-limit record is written");
    }
    let snapshot: Snapshot;
    try {
      snapshot = takeSnapshot();
    } catch (error) {
      this.rearmAfter(error);
      throw error;
    }
    return this.options.filters.length > 0 ? snapshot.filterTraces(this.options.filters) : snapshot;
  }

  /**
   * The tracked sites at the latest reading, largest first: all of them, or the `limit` largest
   * (reports are built for those only — a scrape asks for the top few of thousands).
   */
  sites(limit = Number.POSITIVE_INFINITY): SiteReport[] {
    return this.reports.sites(limit);
  }

  /** The sites suspected now, largest first. */
  suspects(): SiteReport[] {
    return this.reports.suspects();
  }

  /**
   * The `limit` sites that allocated most since the monitor started (allocated bytes and objects,
   * counters that never fall, and survival), most first; empty without allocation data — see
   * {@link allocationsUnavailable} for why.
   */
  allocatingSites(limit = Number.POSITIVE_INFINITY): AllocationReport[] {
    return this.readings.allocationTotals.top(limit);
  }

  /**
   * Why the monitor has no allocation data, or undefined when it has (or will, at its next
   * reading): before Node 26 ("allocation data needs Node 26 or newer: …"), with the inspector
   * reader, with `allocations` off, or before `start()`.
   */
  get allocationsUnavailable(): string | undefined {
    if (this.readings.latest?.allocations) return undefined;
    return allocationsUnavailable();
  }

  /** What the monitor knows of one tracked site now, or undefined when the site is not tracked. */
  reportOf(key: string): SiteReport | undefined {
    return this.reports.report(key);
  }

  /**
   * The readings of one tracked site over the window (live bytes, objects and when each reading
   * was taken), oldest first — the heap page's sparklines; undefined when the site is not tracked.
   */
  seriesOf(key: string): SiteSeries | undefined {
    return this.readings.window.series(key);
  }

  /**
   * The routes on the site's stacks at the latest reading, with the share of its live bytes each
   * allocated (see docs/frameworks.md, "The route in the verdict"); an entry with `route: null`
   * for the bytes allocated outside every route. Undefined when no framework told heapwatch its
   * routes (the monitor used without the Express middleware or the Fastify plugin, or before the
   * first request reached the middleware), or when the latest reading holds nothing of the site.
   * Computed when asked, from the stacks of that one site: never on the request path.
   */
  routesOf(key: string): readonly RouteShare[] | undefined {
    return this.routeShares.of(this.readings.reader.latestSites, key);
  }

  /**
   * The memory no allocation site explains (RSS outside V8's heap, V8's own malloc and external
   * memory), its growth and the process-level verdict, at the latest tick; undefined before the
   * first, and in a worker thread (the process's memory is the main thread's to watch).
   */
  unexplainedMemory(): UnexplainedMemory | undefined {
    return this.unexplained?.current();
  }

  /** Suspicions raised at this site since the start (while the site is remembered). */
  suspicionsRaisedAt(key: string): number {
    return this.reports.suspicionsRaisedAt(key);
  }

  stats(): MonitorStats {
    const { reader, window, clean, pace, breaks, latest } = this.readings;
    return {
      readings: reader.taken,
      unchangedReadings: reader.unchanged,
      quietTicks: this.readings.quietTicks,
      readingErrors: this.counters.readingErrors,
      lastTickMs: this.counters.lastTickMs,
      suspicionsRaised: this.verdicts.suspicionsRaised,
      trackedSites: window.size,
      droppedSites: window.droppedSites,
      cleanReadings: clean.taken,
      majorGcSignal: majorGcSignal(),
      requestedGcs: clean.requestedGcs,
      skippedGcs: clean.skippedGcs,
      lastForcedGcPauseMs: clean.pause.lastPauseMs,
      readingIntervalMs: pace.readingIntervalMs,
      sampledLiveBytes: latest?.totalBytes ?? 0,
      samplingIntervalBytes: this.readings.samplingIntervalBytes,
      logErrors: this.log.failedWrites,
      samplerRestarts: breaks.count,
      bufferSamplesTaken: this.options.bufferSampling ? bufferSampler.taken : 0,
      bufferSamplesDropped: this.options.bufferSampling ? bufferSampler.droppedSamples : 0,
      bufferSamplesFailed: this.options.bufferSampling ? bufferSampler.failedSamples : 0,
    };
  }

  /** One reading and judgement. Never throws: a failure is counted, logged once, and retried. */
  private tick(): void {
    if (this.ticking || !this.running) return;
    this.ticking = true;
    const timing = this.readings.pace.time();
    const heapBefore = usedHeapBytes();
    this.verdictRoutesMs = 0;
    let failed = false;
    try {
      this.readings.atTick((now, quiet) => this.judge(now, quiet));
      this.nearLimit.afterReading();
    } catch (error) {
      // A reading held back at the heap limit is no failure: the next tick reads.
      if (!(error instanceof HoldReading)) {
        failed = true;
        this.readingFailed(error);
        this.rearmAfter(error);
      }
    } finally {
      this.ticking = false;
      this.verdicts.judgeUnexplained(() => this.external.placed(this.readings.samplingIntervalBytes));
      // A GC that waits for the service to allocate must not take the tick's own garbage for it.
      this.readings.clean.discountOwnAllocation(usedHeapBytes() - heapBefore);
      this.counters.lastTickMs = timing.end(this.verdictRoutesMs);
      this.notify('reading', { durationMs: this.counters.lastTickMs, failed });
      this.readings.reader.endTick();
      if (this.running) {
        this.timer = setTimeout(() => this.tick(), this.readings.pace.readingIntervalMs);
        this.timer.unref();
      }
    }
  }

  /** A failed reading: counted, and logged once per cause. */
  private readingFailed(error: unknown): void {
    this.counters.readingErrors++;
    this.log.readingFailed(error);
  }

  /** Arms V8's near-heap-limit hook, unless nothing would be written (no logger, no profile directory). */
  private armNearLimit(): void {
    if (this.options.logger === false && this.options.outOfMemoryProfileDir === undefined) {
      this.nearLimit.unavailable = 'logger is false and no outOfMemoryProfileDir is set: nothing to write';
      return;
    }
    this.nearLimit.arm();
  }

  /** A sampler restarted after another client stopped it lost the hook with it: armed again. */
  private rearmAfter(error: unknown): void {
    if ((error as { code?: unknown } | null)?.code === ErrorCode.SAMPLER_LOST && this.running) this.armNearLimit();
  }

  /**
   * Judges every site at the latest reading's sampling interval (see {@link Verdicts.judge}); at a
   * quiet tick, which repeats the reading before, only the suspects.
   */
  private judge(now: number, quiet: boolean): void {
    // The noise of an estimate is that of the interval V8 samples at, which may be another tool's.
    this.verdictRoutesMs += this.verdicts.judge(now, this.readings.samplingIntervalBytes, quiet);
  }

  /** Emits an event; a listener that throws is logged once, and the monitor goes on. */
  private notify<E extends keyof HeapMonitorEvents>(event: E, ...args: HeapMonitorEvents[E]): void {
    try {
      this.emit(event, ...(args as never));
    } catch (error) {
      this.log.listenerFailed(error, event);
    }
  }
}

/**
 * Creates a monitor that reads V8's sampler every `intervalMs`, keeps a window of `windowMs` of
 * readings per allocation site, and raises a suspicion (an event and a pino record with the
 * traceback) when a site's live bytes grow in a sustained way past `growthThresholdBytes` over
 * the window, or twice that over a shorter horizon, beyond the noise of sampling and garbage
 * collection (see docs/detection.md). Call `start()` to begin.
 */
export function createHeapMonitor(options?: HeapMonitorOptions): HeapMonitor {
  return new HeapMonitor(options);
}
