import { pino } from 'pino';
import type { Logger } from 'pino';
import { displayPath } from '../format/path.js';
import { formatSize } from '../format/size.js';
import type { Frame } from '../snapshot/frame.js';
import { NATIVE_SITE, sitePosition } from '../snapshot/frame.js';
import type { StatisticDiff } from '../snapshot/statistic.js';
import type { Traceback } from '../snapshot/traceback.js';
import { WarningCode, warnOnce } from '../errors.js';
import { redactSite } from '../format/site-hash.js';
import type { RouteShare } from '../routes/attribute.js';
import { describeRoutes } from '../routes/attribute.js';

/** What the monitor knows of one site at one reading. */
export interface SiteReport {
  /** Identifies the site: `file:line:column:function`. */
  readonly key: string;
  /** The allocating function, source-mapped. */
  readonly site: Frame;
  /** The stack that holds the most of the site's bytes, source-mapped. */
  readonly traceback: Traceback;
  /** Estimated live bytes at the latest reading. */
  readonly liveBytes: number;
  /** Estimated live objects at the latest reading. */
  readonly count: number;
  /**
   * Estimated ArrayBuffer memory (Buffer and typed-array contents, outside V8's heap) held through
   * the site's objects at the latest reading (bytes): apart from `liveBytes`, which is V8's heap
   * only. See docs/concepts.md, "Outside V8's heap".
   */
  readonly externalBytes: number;
  /** The standard deviation of `externalBytes` (bytes). */
  readonly externalNoiseBytes: number;
  /**
   * Growth over `horizonMs` of the site's live bytes and its share of the growth of ArrayBuffer
   * memory together: the rate between the medians of its first and last quarters, times its span
   * (bytes).
   */
  readonly growthBytes: number;
  /**
   * The horizon of `growthBytes` (ms): the one over which the site rose when it was suspected,
   * else the window — or as much of it as the site has been watched for.
   */
  readonly horizonMs: number;
  /**
   * The share of the site's bytes allocated since the sampler started that are still live (0–1):
   * near 1 for a leak, near 0 for churn. Only in allocation mode (Node 26, `allocations: true`).
   */
  readonly survival?: number;
  /** Estimated bytes the site allocated since heapwatch started; only in allocation mode. */
  readonly allocatedBytes?: number;
  /** Whether the detector suspects the site. */
  readonly suspected: boolean;
  /** When the suspicion was raised (ms since the epoch), while suspected. */
  readonly suspectedSince: number | undefined;
  /**
   * The routes on the site's stacks and the share of its live bytes from each (see
   * `HeapMonitor.routesOf`), in the report of a `leak-suspected` event; absent when no framework
   * told heapwatch its routes.
   */
  readonly routes?: readonly RouteShare[];
}

/**
 * Said of a site in Node's own code (no function of the service's on its stack): Buffers Node's
 * stream reader made from socket data (`onStreamRead`) and the service kept. The function that
 * keeps them is not on the stack that allocated them; V8's sampler records only that stack.
 */
const NODE_SITE_NOTE =
  "allocated by Node's own code (socket or stream chunks, say): the function that keeps these objects is not on the stack that allocated them; look where the service keeps what its streams emit";
/** Said of the native site: a request body's chunks are made by Node's HTTP parser in C++. */
const NATIVE_SITE_NOTE =
  "allocated outside JavaScript (an HTTP request body's chunks are made by Node's parser in C++, say): the function that keeps these objects is not on the stack that allocated them; look where the service keeps what its requests' and streams' 'data' events emit";

function siteNoteOf(site: Frame): string | undefined {
  if (site.file.startsWith('node:')) return NODE_SITE_NOTE;
  return site === NATIVE_SITE || (site.file === '' && site.functionName === NATIVE_SITE.functionName) ? NATIVE_SITE_NOTE : undefined;
}

/** `, plus 96 MiB of Buffers outside V8's heap (±12 MiB)`, or nothing for a site holding none. */
function describeExternal(report: SiteReport): string {
  if (!(report.externalBytes > 0)) return '';
  return ` on V8's heap, plus ${formatSize(report.externalBytes)} of Buffers outside it (±${formatSize(report.externalNoiseBytes)})`;
}

/** What heapwatch knows of the process near a memory limit, V8's or the container's. Bytes unless said. */
interface NearLimitFigures {
  readonly heapUsedBytes: number;
  readonly heapLimitBytes: number;
  readonly externalBytes: number;
  readonly arrayBuffersBytes: number;
  readonly rssBytes: number;
  readonly samplingIntervalBytes: number;
  /** The time the monitor's readings span, up to the last one (ms; taken at the limit when it could be). */
  readonly spanMs: number;
  /** The sites that grew most over that span, largest growth first. */
  readonly growing: readonly StatisticDiff[];
  readonly suspects: readonly SiteReport[];
}

/**
 * What heapwatch knows when V8's heap nears its limit (`heapLimitBytes`: its limit before V8
 * raised it to make room); see {@link LeakLog.nearHeapLimit}.
 */
export interface NearLimitReport extends NearLimitFigures {
  /** Where the pprof profile is being written, when `outOfMemoryProfileDir` is set. */
  readonly profilePath: string | undefined;
}

/**
 * What heapwatch knows when RSS passes a fraction of the container's memory limit; see
 * {@link LeakLog.memoryNearLimit}.
 */
export interface MemoryNearLimitReport extends NearLimitFigures {
  /** The cgroup's memory limit, where the kernel's OOM killer ends the process. */
  readonly memoryLimitBytes: number;
  /** The fraction of the limit RSS passed (`memoryNearLimitFraction`). */
  readonly fraction: number;
}

/**
 * What heapwatch knows when the memory no site explains grows in a sustained way; see
 * {@link LeakLog.unexplainedGrowth}. The growing sites are context: none of them holds it.
 */
export interface UnexplainedGrowthReport extends Pick<NearLimitFigures, 'growing' | 'suspects' | 'spanMs' | 'rssBytes' | 'externalBytes' | 'arrayBuffersBytes'> {
  /** RSS minus V8's resident heap pages, V8's own malloc and external memory, now. */
  readonly unexplainedBytes: number;
  /** Its growth over `horizonMs`. */
  readonly growthBytes: number;
  /** The horizon it rose over (ms). */
  readonly horizonMs: number;
  /** Its own wander over that horizon: what the growth stood out of. */
  readonly noiseBytes: number;
  /** V8's heap pages resident in memory. */
  readonly heapPhysicalBytes: number;
  /** V8's own malloc. */
  readonly v8MallocedBytes: number;
}

/** The growing sites and the suspects as both near-limit records carry them. */
function growthFields({ growing, suspects }: Pick<NearLimitFigures, 'growing' | 'suspects'>): { growing: object[]; suspects: object[] } {
  return {
    growing: growing.map((diff) => ({ statistic: String(diff), traceback: diff.traceback.format() })),
    suspects: suspects.map((suspect) => ({
      ...siteFields(suspect.site),
      liveBytes: suspect.liveBytes,
      externalBytes: suspect.externalBytes,
      growthBytes: suspect.growthBytes,
    })),
  };
}

/** The end of both near-limit messages: the site that grew most, or that none did. */
function growingMost({ growing: [first], spanMs }: Pick<NearLimitFigures, 'growing' | 'spanMs'>): string {
  return first ? `growing most: ${describeSite(first.site)} ${formatSize(first.sizeDiff, true)} in ${Math.round(spanMs / 1000)} s` : 'no site grew';
}

/** The figures both unexplained-growth records carry. */
function unexplainedFields(report: UnexplainedGrowthReport, windowMs: number): object {
  return { growthBytes: report.growthBytes, horizonMs: report.horizonMs, windowMs, unexplainedBytes: report.unexplainedBytes, rssBytes: report.rssBytes };
}

/** Whether the stream a pino logger writes to has ended or been destroyed. */
function destinationClosed(logger: Logger): boolean {
  const stream = (logger as unknown as Record<symbol, unknown>)[pino.symbols.streamSym] as
    | { writableEnded?: boolean; destroyed?: boolean; closed?: boolean }
    | undefined;
  return stream?.writableEnded === true || stream?.destroyed === true || stream?.closed === true;
}

/**
 * The site as log records carry it: greppable, relative path when under the working directory,
 * and the hashes that `redactSites` shows in the metric labels instead of the names (`labels`),
 * so that a hash seen on a dashboard leads back to the function.
 */
function siteFields(site: Frame) {
  const redacted = redactSite(site);
  return { function: site.functionName, file: displayPath(site.file), line: site.line, column: site.column, labels: { function: redacted.function, file: redacted.file } };
}

/** A route share as records carry it: whole bytes, the share to a thousandth. */
function roundedShare(share: RouteShare): RouteShare {
  return { route: share.route, bytes: Math.round(share.bytes), share: Math.round(share.share * 1000) / 1000 };
}

/** `40 s`, `64 min`: a horizon as a message gives it (minutes from ten of them up). */
function formatSeconds(ms: number): string {
  const seconds = Math.round(ms / 1000);
  return seconds >= 600 ? `${Math.round(seconds / 60)} min` : `${seconds} s`;
}

/** `getData (src/store.ts:12)`: how a site reads in a message. */
export function describeSite(site: Frame): string {
  return `${site.functionName} (${displayPath(site.file)}:${sitePosition(site)})`;
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
   * One record at level warn when the memory no site explains grows in a sustained way: a native
   * addon, a C++ leak, the allocator's fragmentation. The sites that grew on V8's heap come along
   * for context (a JavaScript object may keep native memory alive), but none is blamed.
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
          arrayBuffersBytes: report.arrayBuffersBytes,
          noiseBytes: report.noiseBytes,
          spanMs: report.spanMs,
          ...growthFields(report),
        },
      },
      `heapwatch: memory outside V8's heap and its external memory grew ${formatSize(report.growthBytes, true)} in ${formatSeconds(report.horizonMs)} ` +
        `(now ${formatSize(report.unexplainedBytes)} of RSS ${formatSize(report.rssBytes)}); no allocation site explains it: ` +
        `native code (an addon, a C++ leak) or the allocator; on V8's heap ${growingMost(report)}`,
    );
  }

  /** One record at level info when that growth has settled (under half its threshold). */
  unexplainedGrowthCleared(report: UnexplainedGrowthReport, windowMs: number, suspectedForMs: number): void {
    this.write(
      'info',
      { heapwatch: { event: 'memory-unexplained-growth-cleared', ...unexplainedFields(report, windowMs), suspectedForMs } },
      `heapwatch: memory outside V8's heap and its external memory settled: ${formatSize(report.growthBytes, true)} in ${formatSeconds(report.horizonMs)}, ` +
        `now ${formatSize(report.unexplainedBytes)} of RSS ${formatSize(report.rssBytes)}`,
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
