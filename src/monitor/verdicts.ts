import { performance } from 'node:perf_hooks';
import type { Detector } from '../growth/detector.js';
import type { SuspicionTracker } from '../growth/suspicion.js';
import type { LeakLog } from '../log/leak-log.js';
import type { SiteReport } from '../log/site-report.js';
import type { RouteShare } from '../routes/attribute.js';
import type { CleanReadings } from './clean-readings.js';
import type { NotifyMonitorEvent } from './events.js';
import { growingSites } from './near-limit.js';
import type { NearLimitSource } from './near-limit.js';
import type { ResolvedMonitorOptions } from './options.js';
import type { SiteReports } from './reports.js';
import type { ArrayBuffersPlaced } from '../growth/external-share.js';
import type { UnexplainedMemory, UnexplainedMemoryWatch } from './unexplained-memory.js';

/** What a verdict reads of the monitor: its sites, series, suspects and routes now. */
export interface VerdictSource extends Pick<NearLimitSource, 'sites' | 'suspects' | 'seriesOf'> {
  routesOf(key: string): readonly RouteShare[] | undefined;
}

/**
 * Turns the monitor's judgements into verdicts: the detector's conclusions into suspicions raised
 * and cleared, each with its pino record and event, and the memory no site explains into the
 * process-level verdict. Apart from the readings (`HeapMonitor.tick`): what is said about a
 * reading, not how it is taken.
 */
export class Verdicts {
  /** Suspicions raised since the start. */
  suspicionsRaised = 0;

  constructor(
    private readonly options: ResolvedMonitorOptions,
    private readonly detector: Detector,
    private readonly tracker: SuspicionTracker,
    private readonly reports: SiteReports,
    private readonly log: LeakLog,
    private readonly clean: Pick<CleanReadings, 'wantedHorizonMs'>,
    /** The memory no site explains: the process's, so the main thread's monitor only. */
    private readonly unexplained: UnexplainedMemoryWatch | undefined,
    private readonly source: VerdictSource,
    private readonly notify: NotifyMonitorEvent,
  ) {}

  /**
   * Judges every site (see `Detector`) and turns its conclusions into verdicts, records and events;
   * with `suspectsOnly`, the suspects alone, and the clean readings stay wanted as they were.
   * Returns the main-thread time spent on the routes of its verdicts (ms): not the reading's (see
   * ReadingPace).
   */
  judge(now: number, samplingIntervalBytes: number, suspectsOnly = false): number {
    let routesMs = 0;
    const { raise, clear, wantedHorizonMs } = this.detector.judge(now, samplingIntervalBytes, suspectsOnly);
    if (!suspectsOnly) this.clean.wantedHorizonMs = wantedHorizonMs;
    for (const key of clear) {
      const before = this.reports.report(key);
      this.tracker.clear(key, now);
      if (!before) continue;
      this.log.cleared(before, this.options.windowMs, now);
      this.notify('leak-cleared', { ...before, suspected: false, suspectedSince: undefined });
    }
    for (const [key, horizon] of raise) {
      if (!this.tracker.raise(key, horizon, now)) continue;
      this.suspicionsRaised++;
      this.reports.countSuspicion(key);
      const report = this.reports.report(key) as SiteReport;
      // The first verdict reads the position of every route's handler (once, ~0.1 ms each): a
      // one-off that must not space the readings out as a slow reading would.
      const routesStarted = performance.now();
      const routes = this.source.routesOf(key);
      routesMs += performance.now() - routesStarted;
      const raised = routes === undefined ? report : { ...report, routes };
      this.log.suspected(raised, this.reports.topGrowing(this.options.topSites), this.options.windowMs);
      this.notify('leak-suspected', raised);
    }
    this.tracker.expireCooldowns(now);
    return routesMs;
  }

  /**
   * Reads the memory no site explains and judges it, whether the sampler's reading succeeded or
   * not (it needs none; `placed` tells what the sites made of the ArrayBuffer memory at the latest
   * one). Never throws: a failure is logged once per cause.
   */
  judgeUnexplained(placed: () => ArrayBuffersPlaced | undefined): void {
    if (!this.unexplained) return;
    let change;
    try {
      change = this.unexplained.observe(Date.now(), placed());
    } catch (error) {
      this.log.unexplainedCheckFailed(error);
      return;
    }
    if (change === undefined) return;
    const now = this.unexplained.current() as UnexplainedMemory;
    const { growing, spanMs } = growingSites(this.source, this.options.topSites);
    const report = { ...now, growing, spanMs, suspects: this.source.suspects().slice(0, this.options.topSites) };
    if (change === 'raised') {
      this.log.unexplainedGrowth(report, this.options.windowMs);
      this.notify('memory-unexplained-growth', now);
    } else {
      // The figures that cleared it; how long it stood comes from the verdict just ended.
      this.log.unexplainedGrowthCleared(report, this.options.windowMs, Date.now() - (this.unexplained.lastRaisedAt ?? Date.now()));
      this.notify('memory-unexplained-growth-cleared', now);
    }
  }
}
