import type { Detector } from '../growth/detector.js';
import type { ExternalShares } from '../growth/external-share.js';
import { quarterGrowth } from '../growth/trend.js';
import type { GrowthWindow } from '../growth/window.js';
import type { SuspicionTracker } from '../growth/suspicion.js';
import type { SiteReport } from '../log/site-report.js';
import { compareDiffs, StatisticDiff } from '../snapshot/statistic.js';
import type { AllocationTotals } from './allocation-totals.js';

/**
 * What the monitor tells about its sites, built from the window and the verdicts when asked: the
 * tracked sites, the suspects, their growth, the leak record's `top`, and the suspicions raised
 * per site. The exporters read it at scrape time; a report is built only for the sites asked for.
 */
export class SiteReports {
  /** Suspicions raised per site; bounded like the tracked sites (oldest entries go first). */
  private readonly suspicionCounts = new Map<string, number>();

  constructor(
    private readonly window: GrowthWindow,
    private readonly tracker: SuspicionTracker,
    private readonly detector: Detector,
    private readonly maxSites: number,
    private readonly external: ExternalShares,
    /** The interval V8's sampler runs at now (bytes): the noise of every share. */
    private readonly samplingIntervalBytes: () => number,
    /** Each site's allocations, in allocation mode. */
    private readonly allocations?: AllocationTotals,
  ) {}

  /**
   * The tracked sites at the latest reading, largest first: all of them, or the `limit` largest
   * (reports are built for those only — a scrape asks for the top few of thousands).
   */
  sites(limit = Number.POSITIVE_INFINITY): SiteReport[] {
    const ranked = [...this.window.keys()]
      .map((key) => ({ key, bytes: this.window.latestBytesOf(key) }))
      .sort((a, b) => b.bytes - a.bytes || (a.key < b.key ? -1 : 1));
    return this.reportsOf(ranked.slice(0, limit).map(({ key }) => key));
  }

  /** The sites suspected now, largest first. */
  suspects(): SiteReport[] {
    return this.reportsOf([...this.tracker.keys()]).sort((a, b) => b.liveBytes - a.liveBytes || (a.key < b.key ? -1 : 1));
  }

  private reportsOf(keys: readonly string[]): SiteReport[] {
    const reports: SiteReport[] = [];
    for (const key of keys) {
      const report = this.report(key);
      if (report) reports.push(report);
    }
    return reports;
  }

  /** The site at the latest reading, or undefined when it is not tracked. */
  report(key: string): SiteReport | undefined {
    const series = this.window.series(key, this.window.latestTimestamp);
    if (!series) return undefined;
    const interval = this.samplingIntervalBytes();
    const { growthBytes, horizonMs } = this.detector.growthOf(key, interval);
    const external = this.external.of(key, interval);
    // The site's own Buffers, sampled in JavaScript, are in its bytes: outside V8's heap.
    const sampled = this.window.outside.latestSampledOf(key);
    const allocated = this.allocations?.report(key);
    return {
      ...(allocated?.survival === undefined ? {} : { survival: allocated.survival, allocatedBytes: allocated.allocatedBytes }),
      key,
      site: series.traceback.site,
      traceback: series.traceback,
      liveBytes: Math.max(0, (series.bytes.at(-1) ?? 0) - sampled.bytes),
      count: series.counts.at(-1) ?? 0,
      externalBytes: sampled.bytes + (external?.externalBytes ?? 0),
      externalNoiseBytes: Math.round(Math.hypot(sampled.noiseBytes, external?.noiseBytes ?? 0)),
      growthBytes,
      horizonMs,
      suspected: this.tracker.isSuspect(key),
      suspectedSince: this.tracker.suspectSince(key),
    };
  }

  /** Suspicions raised at this site since the start (while the site is remembered). */
  suspicionsRaisedAt(key: string): number {
    return this.suspicionCounts.get(key) ?? 0;
  }

  /** Counts a suspicion raised at the site. */
  countSuspicion(key: string): void {
    const previous = this.suspicionCounts.get(key) ?? 0;
    this.suspicionCounts.delete(key);
    this.suspicionCounts.set(key, previous + 1);
    if (this.suspicionCounts.size > this.maxSites) {
      const oldest = this.suspicionCounts.keys().next().value as string;
      this.suspicionCounts.delete(oldest);
    }
  }

  /** The `limit` sites that grew most over their horizon, as tracemalloc-style differences. */
  topGrowing(limit: number): StatisticDiff[] {
    const diffs: StatisticDiff[] = [];
    for (const key of this.window.keys()) {
      // Growth is at most twice the range: most sites barely move, and need no series.
      if (this.window.rangeOf(key) === 0) continue;
      const { growthBytes, horizonMs } = this.detector.growthOf(key, this.samplingIntervalBytes());
      if (growthBytes <= 0) continue;
      const latest = this.window.latestTimestamp ?? 0;
      const series = this.window.series(key, this.detector.startOf(horizonMs, latest));
      if (!series) continue;
      diffs.push(
        new StatisticDiff(
          'site',
          key,
          series.traceback,
          series.bytes.at(-1) ?? 0,
          growthBytes,
          series.counts.at(-1) ?? 0,
          Math.round(quarterGrowth({ bytes: series.counts, timestamps: series.timestamps })),
        ),
      );
    }
    return diffs.sort(compareDiffs).slice(0, limit);
  }
}
