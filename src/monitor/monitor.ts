import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { isMainThread } from 'node:worker_threads';
import { Detector } from '../growth/detector.js';
import { ExternalShares } from '../growth/external-share.js';
import { GrowthWindow } from '../growth/window.js';
import type { SiteSeries } from '../growth/window.js';
import { SuspicionTracker } from '../growth/suspicion.js';
import { LeakLog } from '../log/leak-log.js';
import type { SiteReport } from '../log/leak-log.js';
import type { Snapshot } from '../snapshot/snapshot.js';
import { ErrorCode } from '../errors.js';
import { takeSnapshot } from '../take-snapshot.js';
import type { ReaderName } from '../v8/profile.js';
import { majorGcSignal } from '../v8/major-gc.js';
import { allocationsUnavailable, startSampling, stopSampling } from '../v8/sampler.js';
import { getHeapStatistics } from 'node:v8';
import { AllocationTotals } from './allocation-totals.js';
import type { AllocationReport } from './allocation-totals.js';
import { CleanReadings } from './clean-readings.js';
import { SeriesBreaks } from '../growth/series-breaks.js';
import type { Reading } from './clean-readings.js';
import { MemoryLimitWatch } from './memory-near-limit.js';
import { growingSites, NearLimitWatch } from './near-limit.js';
import type { NearLimitSource } from './near-limit.js';
import { ReadingPace } from './reading-pace.js';
import { resolveMonitorOptions } from './options.js';
import type { HeapMonitorOptions, ResolvedMonitorOptions } from './options.js';
import { SiteReports } from './reports.js';
import { UnexplainedMemoryWatch } from './unexplained-memory.js';
import type { UnexplainedMemory } from './unexplained-memory.js';
import { HoldReading, SiteReader } from './site-reader.js';
import type { MonitorStats, ReadingTiming } from './stats.js';
import { attributeRoutes, RouteFinder } from '../routes/attribute.js';
import type { RouteShare } from '../routes/attribute.js';
import { RouteTable } from '../routes/route-table.js';
import { sharedInterner } from '../snapshot/frame-interner.js';
import { bufferSampler } from '../buffers/buffer-sampler.js';

export interface HeapMonitorEvents {
  'leak-suspected': [SiteReport];
  'leak-cleared': [SiteReport];
  /** After every tick's reading, failed or not. */
  reading: [ReadingTiming];
  /** The memory no site explains grows in a sustained way (main thread only; see docs/detection.md). */
  'memory-unexplained-growth': [UnexplainedMemory];
  /** That growth has settled. */
  'memory-unexplained-growth-cleared': [UnexplainedMemory];
}

/** See {@link createHeapMonitor}. */
export class HeapMonitor extends EventEmitter<HeapMonitorEvents> {
  readonly options: ResolvedMonitorOptions;
  /** Every reading, one per tick. */
  private readonly window: GrowthWindow;
  /** Readings with no garbage in them: right after a major GC, or every inspector reading. */
  private readonly clean: CleanReadings;
  private readonly tracker: SuspicionTracker;
  private readonly detector: Detector;
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
  /** Every reading goes through it; none while the near-limit record is on its way. */
  private readonly reader: SiteReader;
  /** Spaces readings out while each holds the main thread beyond `readingBudgetMs`. */
  private readonly pace: ReadingPace;
  /** The latest tick reading: its sites live in the window, only its total, reader, interval and mode are kept. */
  private latest:
    | { readonly reader: ReaderName; readonly totalBytes: number; readonly samplingIntervalBytes: number; readonly allocations: boolean }
    | undefined;
  /** Each site's allocations since the start, in allocation mode (Node 26, `allocations: true`). */
  private readonly allocationTotals: AllocationTotals;
  /** Where V8's sampler started over and forgot its live samples: the series break there. */
  private readonly breaks: SeriesBreaks;
  /** Suspects are never evicted from the windows. */
  private readonly isSuspect = (key: string): boolean => this.tracker.isSuspect(key);
  private counters = { readingErrors: 0, lastTickMs: 0, suspicionsRaised: 0 };
  /** Main-thread time the current tick spent on the routes of its verdicts: not the reading's (see ReadingPace). */
  private verdictRoutesMs = 0;
  /**
   * The routes of the applications heapwatch is mounted in, added by its framework adapters (the
   * Express middleware, the Fastify plugin): what {@link routesOf} attributes a site's bytes to.
   */
  readonly routes = new RouteTable();
  /** Route shares computed on the latest reading, per site: scrapes and pages between two readings reuse them. */
  private routeShares: { readonly sites: object; readonly finder: RouteFinder; readonly bySite: Map<string, readonly RouteShare[]> } | undefined;

  constructor(options?: HeapMonitorOptions) {
    super();
    this.options = resolveMonitorOptions(options);
    const { windowSlots, maxTrackedSites, windowMs } = this.options;
    this.window = new GrowthWindow(windowSlots, maxTrackedSites, windowMs);
    this.pace = new ReadingPace(this.options.intervalMs, this.options.readingBudgetMs);
    this.reader = new SiteReader(this.options.filters, () => this.nearLimit.holdReadings(), this.options.bufferSampling ? bufferSampler : undefined);
    this.clean = new CleanReadings(this.options, {
      readNow: () => this.readBetweenTicks(),
      isProtected: this.isSuspect,
      readingIntervalMs: () => this.pace.readingIntervalMs,
    });
    this.tracker = new SuspicionTracker(windowMs);
    this.allocationTotals = new AllocationTotals(maxTrackedSites);
    // The shortest horizon's step (twice the threshold, an eighth of it): see `assessTrend`.
    this.breaks = new SeriesBreaks([this.window, this.clean.window], this.options.growthThresholdBytes / 4, this.isSuspect);
    // The warm-up counts from the start of the process (of the thread, in a worker thread).
    const warmupEndsAt = performance.timeOrigin + this.options.warmupMs;
    this.external = new ExternalShares(this.window, this.clean.window);
    const cleanSeriesOf = (key: string, since: number, share: number) => this.clean.series(key, since, share);
    this.detector = new Detector({ ...this.options, warmupEndsAt }, this.window, cleanSeriesOf, this.tracker, this.external, this.breaks);
    const samplingIntervalBytes = () => this.latest?.samplingIntervalBytes ?? this.options.samplingIntervalBytes;
    this.reports = new SiteReports(this.window, this.tracker, this.detector, maxTrackedSites, this.external, samplingIntervalBytes, this.allocationTotals);
    this.log = new LeakLog(this.options.logger);
    const atLimit: NearLimitSource = {
      sites: () => this.sites(),
      suspects: () => this.suspects(),
      seriesOf: (key) => this.seriesOf(key),
      samplingIntervalBytes: () => this.stats().samplingIntervalBytes,
      readNow: () => this.readAtLimit(),
    };
    this.nearLimit = new NearLimitWatch(atLimit, this.log, this.options);
    this.memoryLimit = new MemoryLimitWatch(atLimit, this.log, this.options);
    this.unexplained = isMainThread ? new UnexplainedMemoryWatch({ ...this.options, warmupEndsAt }) : undefined;
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
    this.clean.start();
    this.timer = setTimeout(() => this.tick(), 0);
    this.timer.unref();
    return this;
  }

  /** Stops the readings and the sampler. Idempotent. */
  stop(): void {
    if (!this.running) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.clean.stop();
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
    return this.allocationTotals.top(limit);
  }

  /**
   * Why the monitor has no allocation data, or undefined when it has (or will, at its next
   * reading): before Node 26 ("allocation data needs Node 26 or newer: …"), with the inspector
   * reader, with `allocations` off, or before `start()`.
   */
  get allocationsUnavailable(): string | undefined {
    if (this.latest?.allocations) return undefined;
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
    return this.window.series(key);
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
    const sites = this.reader.latestSites;
    const site = sites?.get(key);
    if (!sites || !site || !this.routes.known) return undefined;
    try {
      if (this.routeShares?.sites !== sites) {
        this.routeShares = { sites, finder: new RouteFinder(this.routes.ranges(), (id) => sharedInterner.fileOfScript(id)), bySite: new Map() };
      }
      let shares = this.routeShares.bySite.get(key);
      if (!shares) this.routeShares.bySite.set(key, (shares = attributeRoutes(site.stacks(), this.routeShares.finder)));
      return shares.length > 0 ? shares : undefined;
    } catch {
      // Routes of an unexpected shape, an inspector that failed: no route, never a failed verdict.
      return undefined;
    }
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
    return {
      readings: this.reader.taken,
      unchangedReadings: this.reader.unchanged,
      ...this.counters,
      trackedSites: this.window.size,
      droppedSites: this.window.droppedSites,
      cleanReadings: this.clean.taken,
      majorGcSignal: majorGcSignal(),
      requestedGcs: this.clean.requestedGcs,
      skippedGcs: this.clean.skippedGcs,
      lastForcedGcPauseMs: this.clean.pause.lastPauseMs,
      readingIntervalMs: this.pace.readingIntervalMs,
      sampledLiveBytes: this.latest?.totalBytes ?? 0,
      samplingIntervalBytes: this.latest?.samplingIntervalBytes ?? this.options.samplingIntervalBytes,
      logErrors: this.log.failedWrites,
      samplerRestarts: this.breaks.count,
    };
  }

  /** One reading and judgement. Never throws: a failure is counted, logged once, and retried. */
  private tick(): void {
    if (this.ticking || !this.running) return;
    this.ticking = true;
    const timing = this.pace.time();
    this.verdictRoutesMs = 0;
    let failed = false;
    try {
      const reading = this.reader.readAtTick(this.forcedGcFits());
      this.latest = {
        reader: reading.reader,
        totalBytes: reading.totalBytes,
        samplingIntervalBytes: reading.samplingIntervalBytes,
        allocations: reading.allocations,
      };
      this.pushReading(reading);
      if (reading.allocations && this.reader.readAtLastTick) this.allocationTotals.add(reading.sites, reading.epoch);
      // The inspector reader forces a full GC before every read, and so does allocation mode: all
      // their readings are clean, and none needs a GC asked for.
      if (reading.reader === 'inspector' || reading.allocations) {
        if (reading.reader === 'inspector' || this.reader.readAtLastTick) this.clean.push(reading);
        this.judge(reading.timestamp);
      } else {
        this.judge(reading.timestamp);
        this.clean.requestGcIfNeeded(reading.timestamp, reading.reader, this.reader.sampledAtTick);
      }
    } catch (error) {
      // A reading held back at the heap limit is no failure: the next tick reads.
      if (!(error instanceof HoldReading)) {
        failed = true;
        this.counters.readingErrors++;
        this.log.readingFailed(error);
        this.rearmAfter(error);
      }
    } finally {
      this.ticking = false;
      this.judgeUnexplained();
      this.counters.lastTickMs = timing.end(this.verdictRoutesMs);
      this.notify('reading', { durationMs: this.counters.lastTickMs, failed });
      if (this.running) {
        this.timer = setTimeout(() => this.tick(), this.pace.readingIntervalMs);
        this.timer.unref();
      }
    }
  }

  /**
   * Whether a tick may read now: always, but in allocation mode — where V8 forces a full GC
   * before each read — only while that GC's expected pause fits `forcedGcPauseBudgetMs` (and the
   * heap is not near its limit); otherwise the latest reading stands, counted in `skippedGcs`.
   */
  private forcedGcFits(): boolean {
    if (!(this.latest?.allocations ?? (this.options.allocations && allocationsUnavailable() === undefined))) return true;
    const { used_heap_size: used, heap_size_limit: limit } = getHeapStatistics();
    if (this.clean.pause.fits(used) && used <= limit * 0.75) return true;
    this.clean.skippedGcs++;
    return false;
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

  /** Adds a reading to the window, breaking the series first where V8's sampler started over. */
  private pushReading(reading: Reading): void {
    this.breaks.observe(reading.epoch, reading.timestamp, reading.samplingIntervalBytes);
    this.window.push(reading.timestamp, reading.sites, reading.totalBytes, this.isSuspect, reading);
    this.breaks.settle(reading.timestamp);
  }

  /** One more reading at the heap limit, into the series (not judged: the process is about to end). */
  private readAtLimit(): boolean {
    // In allocation mode a read forces a full GC: none at the heap limit (see clean-readings.ts).
    if (!this.running || this.ticking || (this.latest?.allocations ?? this.options.allocations)) return false;
    try {
      this.pushReading(this.reader.read());
      return true;
    } catch {
      return false;
    }
  }

  /**
   * A reading between ticks, for the clean readings: none while stopped or in a tick, nor with
   * the inspector reader (its tick readings are clean already, and each read forces one more GC).
   */
  private readBetweenTicks(): Reading | undefined {
    // Nor in allocation mode: its every read forces a full GC, which would call for one more reading.
    if (!this.running || this.ticking || this.latest?.reader === 'inspector' || (this.latest?.allocations ?? this.options.allocations)) return undefined;
    const timing = this.pace.time();
    try {
      const reading = this.reader.read();
      // The clean window takes it next: a start-over breaks both windows first.
      this.breaks.observe(reading.epoch, reading.timestamp, reading.samplingIntervalBytes);
      return reading;
    } catch (error) {
      if (error instanceof HoldReading) return undefined;
      this.counters.readingErrors++;
      this.log.readingFailed(error);
      return undefined;
    } finally {
      timing.end();
    }
  }

  /** Judges every site (see `Detector`) and turns its conclusions into verdicts, records and events. */
  private judge(now: number): void {
    // The noise of an estimate is that of the interval V8 samples at, which may be another tool's.
    const samplingIntervalBytes = this.latest?.samplingIntervalBytes ?? this.options.samplingIntervalBytes;
    const { raise, clear, wantedHorizonMs } = this.detector.judge(now, samplingIntervalBytes);
    this.clean.wantedHorizonMs = wantedHorizonMs;
    for (const key of clear) {
      const before = this.reports.report(key);
      this.tracker.clear(key, now);
      if (!before) continue;
      this.log.cleared(before, this.options.windowMs, now);
      this.notify('leak-cleared', { ...before, suspected: false, suspectedSince: undefined });
    }
    for (const [key, horizon] of raise) {
      if (!this.tracker.raise(key, horizon, now)) continue;
      this.counters.suspicionsRaised++;
      this.reports.countSuspicion(key);
      const report = this.reports.report(key) as SiteReport;
      // The first verdict reads the position of every route's handler (once, ~0.1 ms each): a
      // one-off that must not space the readings out as a slow reading would.
      const routesStarted = performance.now();
      const routes = this.routesOf(key);
      this.verdictRoutesMs += performance.now() - routesStarted;
      const raised = routes === undefined ? report : { ...report, routes };
      this.log.suspected(raised, this.reports.topGrowing(this.options.topSites), this.options.windowMs);
      this.notify('leak-suspected', raised);
    }
    this.tracker.expireCooldowns(now);
  }

  /**
   * Reads the memory no site explains and judges it, whether the sampler's reading succeeded or
   * not (it needs none). Never throws: a failure is logged once per cause.
   */
  private judgeUnexplained(): void {
    if (!this.unexplained) return;
    let change;
    try {
      change = this.unexplained.observe(Date.now());
    } catch (error) {
      this.log.unexplainedCheckFailed(error);
      return;
    }
    if (change === undefined) return;
    const now = this.unexplained.current() as UnexplainedMemory;
    const { growing, spanMs } = growingSites(this, this.options.topSites);
    const report = { ...now, growing, spanMs, suspects: this.suspects().slice(0, this.options.topSites) };
    if (change === 'raised') {
      this.log.unexplainedGrowth(report, this.options.windowMs);
      this.notify('memory-unexplained-growth', now);
    } else {
      // The figures that cleared it; how long it stood comes from the verdict just ended.
      this.log.unexplainedGrowthCleared(report, this.options.windowMs, Date.now() - (this.unexplained.lastRaisedAt ?? Date.now()));
      this.notify('memory-unexplained-growth-cleared', now);
    }
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
