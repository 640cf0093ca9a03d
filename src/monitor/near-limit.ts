// The reading a leak leaves behind when it exhausts the heap: one fatal record with the sites
// that grew most, their tracebacks and the suspects, written while V8 gives the process room to
// write it, and optionally the pprof profile of that moment.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getHeapStatistics } from 'node:v8';
import { gzipSync } from 'node:zlib';
import type { Profile } from 'pprof-format';
import type { SiteSeries } from '../growth/series.js';
import { pprofFromSnapshot } from '../http/pprof.js';
import type { LeakLog } from '../log/leak-log.js';
import type { SiteReport } from '../log/site-report.js';
import { compareDiffs, StatisticDiff } from '../snapshot/statistic.js';
import { takeSnapshot } from '../take-snapshot.js';
import { armNearHeapLimit, heapLimitRaised } from '../v8/near-heap-limit.js';

/** What the monitor lends the watch: its sites and their series, and one more reading. */
export interface NearLimitSource {
  sites(): SiteReport[];
  suspects(): SiteReport[];
  seriesOf(key: string): SiteSeries | undefined;
  /** The interval V8 samples at now (bytes). */
  samplingIntervalBytes(): number;
  /** Adds a reading of the heap as it is now to the series; false when none could be taken. */
  readNow(): boolean;
}

/** Growth of each site from its oldest reading in the window to its latest, the largest `limit`. */
export function growingSites(source: Pick<NearLimitSource, 'sites' | 'seriesOf'>, limit: number): { growing: StatisticDiff[]; spanMs: number } {
  const diffs: StatisticDiff[] = [];
  let spanMs = 0;
  for (const report of source.sites()) {
    const series = source.seriesOf(report.key);
    if (!series || series.bytes.length === 0) continue;
    spanMs = Math.max(spanMs, (series.timestamps.at(-1) ?? 0) - (series.timestamps[0] ?? 0));
    // The detector's quarter medians need a whole window; a process dying young may never have
    // had one. At the limit, the plain difference is the fact to report.
    const sizeDiff = (series.bytes.at(-1) ?? 0) - (series.bytes[0] ?? 0);
    if (sizeDiff <= 0) continue;
    const count = series.counts.at(-1) ?? 0;
    diffs.push(new StatisticDiff('site', report.key, series.traceback, series.bytes.at(-1) ?? 0, sizeDiff, count, count - (series.counts[0] ?? 0)));
  }
  return { growing: diffs.sort(compareDiffs).slice(0, limit), spanMs };
}

/**
 * Arms V8's near-heap-limit hook for one monitor: once per stay at the limit. Armed again after
 * the sampler was restarted (which drops the hook), and after a process that reached the limit
 * came back under it (V8 restores the original limit once the heap falls below 90 % of it).
 */
export class NearLimitWatch {
  /** V8's heap limit when armed, before it raises it for heapwatch (bytes). */
  private heapLimitBytes = 0;
  private armed = false;
  /** The callback ran since the hook was armed. */
  private fired = false;
  /** V8 raised the limit since the hook was armed (the hook fired, whether its callback came or not). */
  private reachedLimit = false;
  /** Why the hook is not armed, when it is not (the inspector reader, a shared sampler…). */
  unavailable: string | undefined;

  constructor(
    private readonly source: NearLimitSource,
    private readonly log: LeakLog,
    private readonly options: { readonly topSites: number; readonly outOfMemoryProfileDir: string | undefined },
  ) {}

  arm(): void {
    this.heapLimitBytes = getHeapStatistics().heap_size_limit;
    this.fired = false;
    this.reachedLimit = false;
    const armed = armNearHeapLimit((profile) => {
      // Already written from a tick's reading (see `afterReading`): one record per stay at the limit.
      if (this.fired) return;
      this.fired = true;
      this.reachedLimit = true;
      this.source.readNow();
      this.atLimit(() => profile);
    });
    this.armed = armed === true;
    this.unavailable = armed === true ? undefined : armed.message;
  }

  /**
   * Whether the sampler must not be read now: V8 raised the limit for heapwatch and the callback
   * has not run yet (a read would drop the profile the callback is waiting for). Re-arms the hook
   * once a process that had reached the limit is back under it.
   */
  holdReadings(): boolean {
    if (!this.armed) return false;
    const raised = heapLimitRaised(this.heapLimitBytes);
    // Back under the original limit after a stay at it, the hook is spent: armed for the next one.
    // Also when the callback never came (another reader of the sampler dropped its profile).
    if (raised) this.reachedLimit = true;
    else if (this.reachedLimit) this.arm();
    return raised && !this.fired;
  }

  /**
   * After a tick's reading. When V8 raised the limit while the tick read, the callback may never
   * come: a read of the sampler while the hook fires drops the profile the addon keeps for it.
   * Seen once in CI on Node 26, a reading slowed to 123 ms at the limit: no record, and V8 aborted
   * at the raised limit. So the record is written now, from the reading just taken, and the
   * callback, should it still come, finds it written. Its profile file, if asked for, is a fresh
   * snapshot's.
   */
  afterReading(): void {
    if (!this.armed || this.fired || !heapLimitRaised(this.heapLimitBytes)) return;
    this.fired = true;
    this.reachedLimit = true;
    this.atLimit(() => pprofFromSnapshot(takeSnapshot()));
  }

  /**
   * Everything here runs inside the room V8 gave, after the reading of the moment: the heap
   * figures, the record, flushed, and last the profile file, the least needed.
   */
  private atLimit(profile: () => Profile): void {
    const heap = getHeapStatistics();
    const memory = process.memoryUsage();
    const dir = this.options.outOfMemoryProfileDir;
    const profilePath = dir === undefined ? undefined : join(dir, `heap-near-limit-${process.pid}-${Date.now()}.pb.gz`);
    const { growing, spanMs } = growingSites(this.source, this.options.topSites);
    this.log.nearHeapLimit({
      heapUsedBytes: heap.used_heap_size,
      heapLimitBytes: this.heapLimitBytes,
      externalBytes: memory.external,
      arrayBuffersBytes: memory.arrayBuffers,
      rssBytes: memory.rss,
      samplingIntervalBytes: this.source.samplingIntervalBytes(),
      spanMs,
      growing,
      suspects: this.source.suspects().slice(0, this.options.topSites),
      profilePath,
    });
    if (dir === undefined || profilePath === undefined) return;
    try {
      mkdirSync(dir, { recursive: true });
      writeFileSync(profilePath, gzipSync(profile().encode()));
    } catch (error) {
      this.log.profileFailed(error, profilePath);
    }
  }
}
