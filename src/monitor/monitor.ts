import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { GrowthWindow } from '../growth/window.js';
import type { SiteSeries } from '../growth/window.js';
import { SuspicionTracker } from '../growth/suspicion.js';
import { assessTrend, quarterGrowth } from '../growth/trend.js';
import type { TrendAssessment } from '../growth/trend.js';
import { LeakLog } from '../log/leak-log.js';
import type { SiteReport } from '../log/leak-log.js';
import type { Snapshot } from '../snapshot/snapshot.js';
import { compareDiffs, StatisticDiff } from '../snapshot/statistic.js';
import { takeSnapshot } from '../take-snapshot.js';
import { collectGarbage, onMajorGc } from '../v8/gc-events.js';
import { startSampling, stopSampling } from '../v8/sampler.js';
import { resolveMonitorOptions } from './options.js';
import type { HeapMonitorOptions, ResolvedMonitorOptions } from './options.js';

/** Counters of the monitor's own work, for self-observation. */
export interface MonitorStats {
  /** Readings taken at ticks and after major GCs. */
  readonly readings: number;
  /** Readings that failed (each is logged once per cause; the next tick tries again). */
  readonly readingErrors: number;
  /** Main-thread time of the last tick: read, aggregate, judge (milliseconds). */
  readonly lastTickMs: number;
  /** Sites tracked now. */
  readonly trackedSites: number;
  /** Sites left out or evicted because of `maxTrackedSites`, since the start. */
  readonly droppedSites: number;
  /** Full GCs heapwatch forced to confirm a suspicion (at most one per window). */
  readonly forcedGcs: number;
  /** Suspicions raised since the start. */
  readonly suspicionsRaised: number;
}

/** A reading right after a major GC: sizes per site with no garbage in them. */
interface CleanReading {
  readonly timestamp: number;
  readonly bytesBySite: ReadonlyMap<string, number>;
}

export interface HeapMonitorEvents {
  'leak-suspected': [SiteReport];
  'leak-cleared': [SiteReport];
}

/** See {@link createHeapMonitor}. */
export class HeapMonitor extends EventEmitter<HeapMonitorEvents> {
  readonly options: ResolvedMonitorOptions;
  private readonly window: GrowthWindow;
  private readonly tracker: SuspicionTracker;
  private readonly log: LeakLog;
  private timer: NodeJS.Timeout | undefined;
  private stopGcWatch: (() => void) | undefined;
  private ticking = false;
  private latest: Snapshot | undefined;
  private clean: CleanReading | undefined;
  private lastForcedGc = Number.NEGATIVE_INFINITY;
  private assessments = new Map<string, TrendAssessment>();
  private counters = { readings: 0, readingErrors: 0, lastTickMs: 0, forcedGcs: 0, suspicionsRaised: 0 };

  constructor(options?: HeapMonitorOptions) {
    super();
    this.options = resolveMonitorOptions(options);
    this.window = new GrowthWindow(this.options.windowReadings, this.options.maxTrackedSites);
    this.tracker = new SuspicionTracker(this.options.growthThresholdBytes, this.options.windowMs);
    this.log = new LeakLog(this.options.logger);
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
    startSampling({ samplingIntervalBytes: this.options.samplingIntervalBytes, reader: this.options.reader });
    this.stopGcWatch = onMajorGc(() => this.readAfterMajorGc());
    this.timer = setTimeout(() => this.tick(), 0);
    this.timer.unref();
    return this;
  }

  /** Stops the readings and the sampler. Idempotent. */
  stop(): void {
    if (!this.running) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.stopGcWatch?.();
    this.stopGcWatch = undefined;
    stopSampling();
  }

  /** The latest reading, filtered by `include`/`exclude`. */
  latestSnapshot(): Snapshot | undefined {
    return this.latest;
  }

  /** Every tracked site at the latest reading, largest first. */
  sites(): SiteReport[] {
    const reports: SiteReport[] = [];
    for (const key of this.window.keys()) {
      const report = this.report(key);
      if (report) reports.push(report);
    }
    return reports.sort((a, b) => b.liveBytes - a.liveBytes || (a.key < b.key ? -1 : 1));
  }

  /** The sites suspected now. */
  suspects(): SiteReport[] {
    return this.sites().filter((report) => report.suspected);
  }

  stats(): MonitorStats {
    return { ...this.counters, trackedSites: this.window.size, droppedSites: this.window.droppedSites };
  }

  /** One reading and judgement. Never throws: a failure is counted, logged once, and retried. */
  private tick(): void {
    if (this.ticking || !this.running) return;
    this.ticking = true;
    const started = performance.now();
    try {
      const snapshot = this.read();
      this.latest = snapshot;
      if (snapshot.reader === 'inspector') this.clean = cleanReadingOf(snapshot);
      this.window.push(snapshot.timestamp, snapshot.statistics('site'), (key) => this.tracker.isSuspect(key));
      this.judge(snapshot.timestamp);
    } catch (error) {
      this.counters.readingErrors++;
      this.log.failed(error);
    } finally {
      this.ticking = false;
      this.counters.lastTickMs = performance.now() - started;
      if (this.running) {
        this.timer = setTimeout(() => this.tick(), this.options.intervalMs);
        this.timer.unref();
      }
    }
  }

  private read(): Snapshot {
    const snapshot = takeSnapshot();
    this.counters.readings++;
    return this.options.filters.length > 0 ? snapshot.filterTraces(this.options.filters) : snapshot;
  }

  /** Right after a major GC, the profile holds no garbage: keep that reading to confirm suspicions. */
  private readAfterMajorGc(): void {
    if (!this.running || this.ticking) return;
    if (this.clean && Date.now() - this.clean.timestamp < this.options.intervalMs / 2) return;
    try {
      this.clean = cleanReadingOf(this.read());
    } catch (error) {
      this.counters.readingErrors++;
      this.log.failed(error);
    }
  }

  private judge(now: number): void {
    // First every assessment (the log's `top` ranks all sites), then the verdicts.
    this.assessments = new Map();
    for (const key of this.window.keys()) {
      if (this.window.isFull(key)) this.assessments.set(key, assessTrend((this.window.series(key) as SiteSeries).bytes, this.options));
    }
    for (const [key, assessment] of this.assessments) {
      const wasSuspect = this.tracker.isSuspect(key);
      const before = wasSuspect ? this.report(key) : undefined;
      const confirmed = assessment.rising && !wasSuspect && this.confirm(key, assessment, now);
      const transition = this.tracker.update(key, assessment, confirmed, now);
      if (transition === 'raised') {
        this.counters.suspicionsRaised++;
        const raised = this.report(key) as SiteReport;
        this.log.suspected(raised, this.topGrowing(), this.options.windowMs);
        this.emit('leak-suspected', raised);
      } else if (transition === 'cleared' && before) {
        this.log.cleared(before, this.options.windowMs, now);
        this.emit('leak-cleared', { ...before, suspected: false, suspectedSince: undefined });
      }
    }
    this.tracker.expireCooldowns(now);
  }

  /**
   * A rising series must still show its growth in a reading without garbage: one taken right
   * after a major GC (every inspector reading is). When V8 ran no major GC during the last
   * interval, heapwatch forces one — at most once per window.
   */
  private confirm(key: string, assessment: TrendAssessment, now: number): boolean {
    const recent = (reading: CleanReading | undefined) =>
      reading !== undefined && now - reading.timestamp <= this.options.intervalMs;
    if (!recent(this.clean) && now - this.lastForcedGc >= this.options.windowMs) {
      this.lastForcedGc = now;
      collectGarbage();
      this.counters.forcedGcs++;
      this.clean = cleanReadingOf(this.read());
    }
    if (!recent(this.clean)) return false;
    const bytes = this.clean?.bytesBySite.get(key) ?? 0;
    return bytes - assessment.quarterMedians[0] >= this.options.growthThresholdBytes;
  }

  private report(key: string, assessment = this.assessments.get(key)): SiteReport | undefined {
    const series = this.window.series(key);
    const latest = series?.latest;
    if (!series || !latest) return undefined;
    return {
      key,
      site: latest.site,
      traceback: latest.traceback,
      liveBytes: series.bytes.at(-1) ?? 0,
      count: series.counts.at(-1) ?? 0,
      growthBytes: assessment?.growthBytes ?? 0,
      suspected: this.tracker.isSuspect(key),
      suspectedSince: this.tracker.suspectSince(key),
    };
  }

  /** The sites that grew most over the window, as tracemalloc-style differences. */
  private topGrowing(): StatisticDiff[] {
    const diffs: StatisticDiff[] = [];
    for (const [key, assessment] of this.assessments) {
      if (assessment.growthBytes <= 0) continue;
      const series = this.window.series(key);
      if (!series?.latest) continue;
      diffs.push(
        new StatisticDiff(
          'site',
          key,
          series.latest.traceback,
          series.bytes.at(-1) ?? 0,
          assessment.growthBytes,
          series.counts.at(-1) ?? 0,
          Math.round(quarterGrowth(series.counts)),
        ),
      );
    }
    return diffs.sort(compareDiffs).slice(0, this.options.topSites);
  }
}

function cleanReadingOf(snapshot: Snapshot): CleanReading {
  const bytesBySite = new Map<string, number>();
  for (const stat of snapshot.statistics('site')) bytesBySite.set(stat.key, stat.size);
  return { timestamp: snapshot.timestamp, bytesBySite };
}

/**
 * Creates a monitor that reads V8's sampler every `intervalMs`, keeps a window of `windowMs` of
 * readings per allocation site, and raises a suspicion (an event and a pino record with the
 * traceback) when a site's live bytes grow past `growthThresholdBytes` in a sustained way.
 * Call `start()` to begin.
 */
export function createHeapMonitor(options?: HeapMonitorOptions): HeapMonitor {
  return new HeapMonitor(options);
}
