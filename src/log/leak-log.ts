import { pino } from 'pino';
import type { Logger } from 'pino';
import { formatSize } from '../format/size.js';
import type { StatisticDiff } from '../snapshot/statistic.js';
import { WarningCode, warnOnce } from '../errors.js';
import { describeRoutes } from '../routes/attribute.js';
import type { MemoryNearLimitReport, NearLimitReport, UnexplainedGrowthReport } from './memory-reports.js';
import {
  describeExternal,
  describeSite,
  formatSeconds,
  growingMost,
  growthFields,
  roundedShare,
  siteFields,
  siteNoteOf,
  unexplainedFields,
} from './record-fields.js';
import type { SiteReport } from './site-report.js';

/** Whether the stream a pino logger writes to has ended or been destroyed. */
function destinationClosed(logger: Logger): boolean {
  const stream = (logger as unknown as Record<symbol, unknown>)[pino.symbols.streamSym] as
    | { writableEnded?: boolean; destroyed?: boolean; closed?: boolean }
    | undefined;
  return stream?.writableEnded === true || stream?.destroyed === true || stream?.closed === true;
}

/**
 * Writes heapwatch's records through a child of the application's pino logger, under the owned
 * key `heapwatch`. One record when a site becomes a suspect (level warn, with the traceback
 * snapshot), one when the suspicion ends (info); failures of the background work once per cause.
 */
export class LeakLog {
  private readonly logger: Logger | undefined;
  private readonly failuresLogged = new Set<string>();
  /** Records the logger refused (it threw): counted, never thrown into the monitor or the host. */
  failedWrites = 0;

  constructor(logger: Logger | false | undefined) {
    if (logger === false) return;
    this.logger = (logger ?? pino()).child({ module: 'heapwatch' });
  }

  /**
   * Writes one record. A logger that throws — a broken custom serializer or hook, a destination
   * that throws on write — loses the record, which is counted and said once as a process warning
   * (the logger itself cannot say it): the verdict, the listeners and the host carry on.
   */
  private write(level: 'info' | 'warn' | 'error' | 'fatal', fields: object, message: string): void {
    if (!this.logger) return;
    // A write to an ended stream throws nothing here but emits 'error' on the stream later, which
    // crashes a process that does not listen for it: a closed destination is not written to.
    if (destinationClosed(this.logger)) return this.lost('its destination is closed');
    try {
      this.logger[level](fields, message);
    } catch (error) {
      this.lost(`it threw: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private lost(reason: string): void {
    this.failedWrites++;
    warnOnce(WarningCode.LOG_FAILED, `heapwatch's logger cannot write (${reason}); its records are lost, counted in heapwatch_log_errors_total`);
  }

  /** See {@link describeExternal}. */
  suspected(report: SiteReport, top: readonly StatisticDiff[], windowMs: number): void {
    this.write(
      'warn',
      {
        heapwatch: {
          event: 'leak-suspected',
          site: siteFields(report.site),
          growthBytes: report.growthBytes,
          horizonMs: report.horizonMs,
          windowMs,
          liveBytes: report.liveBytes,
          count: report.count,
          // In allocation mode: a leak keeps what it allocates (near 1), churn does not (near 0).
          ...(report.survival === undefined ? {} : { survival: Math.round(report.survival * 1000) / 1000, allocatedBytes: report.allocatedBytes }),
          externalBytes: report.externalBytes,
          externalNoiseBytes: report.externalNoiseBytes,
          ...(siteNoteOf(report.site) === undefined ? {} : { siteNote: siteNoteOf(report.site) }),
          traceback: report.traceback.format(),
          ...(report.routes === undefined ? {} : { routes: report.routes.map(roundedShare) }),
          top: top.map(String),
        },
      },
      `heapwatch: leak suspected at ${describeSite(report.site)}: ` +
        `${formatSize(report.growthBytes, true)} in ${formatSeconds(report.horizonMs)}, ${formatSize(report.liveBytes)} live` +
        (report.survival === undefined ? '' : `, ${(report.survival * 100).toFixed(0)} % of what it allocated`) +
        describeExternal(report) +
        (siteNoteOf(report.site) === undefined ? '' : `; ${siteNoteOf(report.site)}`) +
        (report.routes === undefined ? '' : `; ${describeRoutes(report.routes)}`),
    );
  }

  cleared(report: SiteReport, windowMs: number, now: number): void {
    this.write(
      'info',
      {
        heapwatch: {
          event: 'leak-cleared',
          site: siteFields(report.site),
          growthBytes: report.growthBytes,
          horizonMs: report.horizonMs,
          windowMs,
          liveBytes: report.liveBytes,
          count: report.count,
          externalBytes: report.externalBytes,
          externalNoiseBytes: report.externalNoiseBytes,
          suspectedForMs: report.suspectedSince === undefined ? 0 : now - report.suspectedSince,
        },
      },
      `heapwatch: leak suspicion cleared at ${describeSite(report.site)}: ` +
        `${formatSize(report.growthBytes, true)} in ${formatSeconds(report.horizonMs)}, ${formatSize(report.liveBytes)} live`,
    );
  }

  /**
   * One record at level fatal: the process may abort right after it, so it is flushed to its
   * destination synchronously (pino's `flushSync`; `pino.final` is gone since pino 7). A transport
   * runs in a worker thread that may not write it in time: log to stdout or a `pino.destination()`.
   */
  nearHeapLimit(report: NearLimitReport): void {
    if (!this.logger) return;
    this.write(
      'fatal',
      {
        heapwatch: {
          event: 'heap-near-limit',
          heapUsedBytes: report.heapUsedBytes,
          heapLimitBytes: report.heapLimitBytes,
          externalBytes: report.externalBytes,
          arrayBuffersBytes: report.arrayBuffersBytes,
          rssBytes: report.rssBytes,
          samplingIntervalBytes: report.samplingIntervalBytes,
          spanMs: report.spanMs,
          ...growthFields(report),
          profile: report.profilePath,
        },
      },
      `heapwatch: heap near its limit, ${formatSize(report.heapUsedBytes)} used of ${formatSize(report.heapLimitBytes)}; ${growingMost(report)}`,
    );
    this.flush();
  }

  /**
   * One record at level error when RSS passes a fraction of the container's memory limit: the
   * kernel's OOM killer sends SIGKILL, which leaves no chance to write anything, so this is the
   * process's last word should the growth go on. Flushed synchronously, as `nearHeapLimit`.
   */
  memoryNearLimit(report: MemoryNearLimitReport): void {
    if (!this.logger) return;
    const outsideHeap = Math.max(0, report.rssBytes - report.heapUsedBytes);
    this.write(
      'error',
      {
        heapwatch: {
          event: 'memory-near-limit',
          rssBytes: report.rssBytes,
          memoryLimitBytes: report.memoryLimitBytes,
          fraction: report.fraction,
          heapUsedBytes: report.heapUsedBytes,
          heapLimitBytes: report.heapLimitBytes,
          externalBytes: report.externalBytes,
          arrayBuffersBytes: report.arrayBuffersBytes,
          samplingIntervalBytes: report.samplingIntervalBytes,
          spanMs: report.spanMs,
          ...growthFields(report),
        },
      },
      `heapwatch: memory near the container's limit, RSS ${formatSize(report.rssBytes)} of ${formatSize(report.memoryLimitBytes)} ` +
        `(V8 heap ${formatSize(report.heapUsedBytes)}, outside it ${formatSize(outsideHeap)}, of which array buffers ${formatSize(report.arrayBuffersBytes)}); ${growingMost(report)}`,
    );
    this.flush();
  }

  /**
   * One record at level warn when the memory no site explains grows in a sustained way: native
   * memory (an addon, a C++ leak, the allocator's fragmentation) or ArrayBuffer memory no sampled
   * site holds. The sites that grew on V8's heap come along for context (a JavaScript object may
   * keep native memory alive), but none is blamed.
   */
  unexplainedGrowth(report: UnexplainedGrowthReport, windowMs: number): void {
    this.write(
      'warn',
      {
        heapwatch: {
          event: 'memory-unexplained-growth',
          ...unexplainedFields(report, windowMs),
          heapPhysicalBytes: report.heapPhysicalBytes,
          v8MallocedBytes: report.v8MallocedBytes,
          externalBytes: report.externalBytes,
          noiseBytes: report.noiseBytes,
          spanMs: report.spanMs,
          ...growthFields(report),
        },
      },
      report.kind === 'native'
        ? `heapwatch: native memory (outside V8's heap and its ArrayBuffers) grew ${formatSize(report.growthBytes, true)} in ${formatSeconds(report.horizonMs)} ` +
            `(now ${formatSize(report.unexplainedBytes)} of RSS ${formatSize(report.rssBytes)}); no allocation site explains it: ` +
            `native code (an addon, a C++ leak) or the allocator; on V8's heap ${growingMost(report)}`
        : `heapwatch: ArrayBuffer memory (Buffers, typed arrays) grew ${formatSize(report.growthBytes, true)} in ${formatSeconds(report.horizonMs)} ` +
            `(now ${formatSize(report.arrayBuffersBytes)} of RSS ${formatSize(report.rssBytes)}); no sampled allocation site holds it: ` +
            `V8 has sampled none of the objects that hold it (large Buffers, few a second, or made by native code); ` +
            `bufferSampling: true samples the Buffers JavaScript makes and names where; on V8's heap ${growingMost(report)}`,
    );
  }

  /** One record at level info when that growth has settled (under half its threshold). */
  unexplainedGrowthCleared(report: UnexplainedGrowthReport, windowMs: number, suspectedForMs: number): void {
    const [what, now] =
      report.kind === 'native' ? ["native memory (outside V8's heap and its ArrayBuffers)", report.unexplainedBytes] : ['ArrayBuffer memory no sampled site holds', report.arrayBuffersBytes];
    this.write(
      'info',
      { heapwatch: { event: 'memory-unexplained-growth-cleared', ...unexplainedFields(report, windowMs), suspectedForMs } },
      `heapwatch: ${what} settled: ${formatSize(report.growthBytes, true)} in ${formatSeconds(report.horizonMs)}, ` +
        `now ${formatSize(now)} of RSS ${formatSize(report.rssBytes)}`,
    );
  }

  /** Hands the records written so far to the destination now: the process may end right after. */
  private flush(): void {
    const stream = (this.logger as unknown as Record<symbol, { flushSync?: () => void } | undefined>)[pino.symbols.streamSym];
    try {
      stream?.flushSync?.();
    } catch {
      // A destination still opening, or one that cannot flush: the record was handed over as it is.
    }
  }

  /** Logs a failed comparison of RSS to the container's limit once per cause: the next one tries again. */
  memoryCheckFailed(error: unknown): void {
    this.failedOnce('memory-check-failed', error, "comparing RSS to the container's memory limit failed", 'retrying at the next check (1 s under a limit, 10 s without one)');
  }

  /** Logs a failed reading of the memory no site explains once per cause: the next tick reads again. */
  unexplainedCheckFailed(error: unknown): void {
    this.failedOnce('memory-unexplained-check-failed', error, 'reading the memory outside V8\'s heap failed', 'retrying at the next interval');
  }

  /** Logs that the near-limit profile could not be written (the record before it stands). */
  profileFailed(error: unknown, path: string): void {
    this.failedOnce('heap-near-limit-profile-failed', error, `writing ${path} failed`, 'the heap-near-limit record stands');
  }

  /** Logs a failed reading once per cause (error code, else message): the next tick tries again. */
  readingFailed(error: unknown): void {
    this.failedOnce('reading-failed', error, 'reading the heap profile failed', 'retrying at the next interval');
  }

  /** Logs once that an application listener of a verdict threw; the other sites are still judged. */
  listenerFailed(error: unknown, event: string): void {
    this.failedOnce('listener-failed', error, `a "${event}" listener threw`, 'heapwatch goes on');
  }

  private failedOnce(event: string, error: unknown, what: string, next: string): void {
    const code = (error as { code?: unknown } | null)?.code;
    const message = error instanceof Error ? error.message : String(error);
    const cause = `${event}\0${typeof code === 'string' ? code : message}`;
    if (this.failuresLogged.has(cause) || this.failuresLogged.size >= 100) return;
    this.failuresLogged.add(cause);
    this.write(
      'error',
      { heapwatch: { event, code: typeof code === 'string' ? code : undefined, error: message } },
      `heapwatch: ${what} (${message}); ${next}`,
    );
  }
}
