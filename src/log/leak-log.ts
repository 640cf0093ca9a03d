import { pino } from 'pino';
import type { Logger } from 'pino';
import { displayPath } from '../format/path.js';
import { formatSize } from '../format/size.js';
import type { Frame } from '../snapshot/frame.js';
import { sitePosition } from '../snapshot/frame.js';
import type { StatisticDiff } from '../snapshot/statistic.js';
import type { Traceback } from '../snapshot/traceback.js';
import { WarningCode, warnOnce } from '../errors.js';

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
  /** Growth over the window: last quarter's median minus first quarter's (bytes). */
  readonly growthBytes: number;
  /** Whether the detector suspects the site. */
  readonly suspected: boolean;
  /** When the suspicion was raised (ms since the epoch), while suspected. */
  readonly suspectedSince: number | undefined;
}

/** Whether the stream a pino logger writes to has ended or been destroyed. */
function destinationClosed(logger: Logger): boolean {
  const stream = (logger as unknown as Record<symbol, unknown>)[pino.symbols.streamSym] as
    | { writableEnded?: boolean; destroyed?: boolean; closed?: boolean }
    | undefined;
  return stream?.writableEnded === true || stream?.destroyed === true || stream?.closed === true;
}

/** The site as log records carry it: greppable, relative path when under the working directory. */
function siteFields(site: Frame) {
  return { function: site.functionName, file: displayPath(site.file), line: site.line, column: site.column };
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
  private write(level: 'info' | 'warn' | 'error', fields: object, message: string): void {
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

  suspected(report: SiteReport, top: readonly StatisticDiff[], windowMs: number): void {
    this.write(
      'warn',
      {
        heapwatch: {
          event: 'leak-suspected',
          site: siteFields(report.site),
          growthBytes: report.growthBytes,
          windowMs,
          liveBytes: report.liveBytes,
          count: report.count,
          traceback: report.traceback.format(),
          top: top.map(String),
        },
      },
      `heapwatch: leak suspected at ${describeSite(report.site)}: ` +
        `${formatSize(report.growthBytes, true)} in ${Math.round(windowMs / 1000)} s, ${formatSize(report.liveBytes)} live`,
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
          windowMs,
          liveBytes: report.liveBytes,
          count: report.count,
          suspectedForMs: report.suspectedSince === undefined ? 0 : now - report.suspectedSince,
        },
      },
      `heapwatch: leak suspicion cleared at ${describeSite(report.site)}: ` +
        `${formatSize(report.growthBytes, true)} in ${Math.round(windowMs / 1000)} s, ${formatSize(report.liveBytes)} live`,
    );
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
