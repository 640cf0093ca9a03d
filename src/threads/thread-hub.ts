import { BroadcastChannel } from 'node:worker_threads';
import type { Worker } from 'node:worker_threads';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { WarningCode, warnOnce } from '../errors.js';
import type { IsolateFigures, ThreadFiguresSource } from '../export/isolates.js';
import { parseThreadMessage, THREAD_CHANNEL } from './protocol.js';
import type { ThreadMessage, ThreadReport } from './protocol.js';
import { relogThreadLine } from './thread-log.js';
import { ThreadLabels } from './thread-labels.js';

/** Worker threads labelled at once; each brings topSites + suspects series per per-site metric. */
export const MAX_WATCHED_THREADS = 32;

/**
 * A thread whose exit the hub cannot see (started before the hub, or by another worker) is
 * forgotten after this many of its intervals without a report. One the hub saw start is kept
 * until its `exit` event, however long a CPU-bound task keeps it from reporting.
 */
export const STALE_AFTER_INTERVALS = 5;

/** Exited threads whose late messages are ignored (threadIds are never reused in a process). */
const REMEMBERED_EXITS = 1024;

interface WatchedThread {
  readonly label: string;
  figures: IsolateFigures | undefined;
  lastSeenMs: number;
  intervalMs: number;
}

function figuresOf(label: string, report: ThreadReport): IsolateFigures {
  return {
    thread: label,
    sites: () => report.sites,
    suspects: () => report.suspects,
    stats: () => report.stats,
    growthThresholdBytes: report.growthThresholdBytes,
    windowMs: report.windowMs,
    heapSizeLimitBytes: () => report.heapSizeLimitBytes,
  };
}

/**
 * The main thread's end of `watchThread()`: receives the reports and log records of the worker
 * threads that watch themselves, gives each a bounded `thread` label, and hands their figures to
 * the exporters. A thread's series go when it exits (`Worker` `exit` event, for threads started
 * from this thread after the hub), when it stops watching itself, or after
 * {@link STALE_AFTER_INTERVALS} silent intervals. No timer: staleness is checked when figures are
 * read. Never throws into the host.
 */
export class ThreadHub implements ThreadFiguresSource {
  private channel: BroadcastChannel | undefined;
  private readonly threads = new Map<number, WatchedThread>();
  private readonly labels = new ThreadLabels(MAX_WATCHED_THREADS);
  private readonly exitListeners = new Map<number, { readonly worker: Worker; readonly listener: () => void }>();
  private readonly exited = new Set<number>();
  private logger: Logger | undefined;

  /** `logger`: the main thread's monitor's (`false`: the threads' records are dropped). */
  constructor(
    private readonly loggerOption: Logger | false | undefined,
    private readonly now: () => number = Date.now,
  ) {}

  get running(): boolean {
    return this.channel !== undefined;
  }

  start(): this {
    if (this.channel) return this;
    const channel = new BroadcastChannel(THREAD_CHANNEL);
    channel.onmessage = (event) => this.receive((event as MessageEvent).data);
    // Never keeps the process alive on its own.
    channel.unref();
    this.channel = channel;
    process.on('worker', this.onWorker);
    return this;
  }

  stop(): void {
    if (!this.channel) return;
    this.channel.close();
    this.channel = undefined;
    process.off('worker', this.onWorker);
    for (const { worker, listener } of this.exitListeners.values()) worker.off('exit', listener);
    this.exitListeners.clear();
    for (const threadId of [...this.threads.keys()]) this.forget(threadId);
    this.exited.clear();
  }

  /** The live watched threads, in label order. */
  threadFigures(): IsolateFigures[] {
    const now = this.now();
    const figures: IsolateFigures[] = [];
    for (const [threadId, thread] of this.threads) {
      if (!this.exitListeners.has(threadId) && now - thread.lastSeenMs > STALE_AFTER_INTERVALS * thread.intervalMs) {
        this.forget(threadId);
        continue;
      }
      if (thread.figures) figures.push(thread.figures);
    }
    return figures.sort((a, b) => ((a.thread as string) < (b.thread as string) ? -1 : 1));
  }

  private readonly onWorker = (worker: Worker): void => {
    // `worker.threadId` is -1 once the thread has exited: keep it from now.
    const { threadId } = worker;
    const listener = (): void => {
      this.exitListeners.delete(threadId);
      this.rememberExit(threadId);
      this.forget(threadId);
    };
    worker.once('exit', listener);
    this.exitListeners.set(threadId, { worker, listener });
  };

  private receive(data: unknown): void {
    try {
      const message = parseThreadMessage(data);
      if (message && !this.exited.has(message.threadId)) this.handle(message);
    } catch {
      // A message heapwatch cannot use is dropped; the host never hears of it.
    }
  }

  private handle(message: ThreadMessage): void {
    if (message.type === 'bye') return this.forget(message.threadId);
    const thread = this.threadOf(message.threadId, message.name);
    if (!thread) return;
    thread.lastSeenMs = this.now();
    thread.intervalMs = message.intervalMs;
    if (message.type === 'report') {
      thread.figures = figuresOf(thread.label, message);
      return;
    }
    if (this.loggerOption === false) return;
    this.logger ??= (this.loggerOption ?? pino()).child({ module: 'heapwatch' });
    relogThreadLine(this.logger, thread.label, message.line);
  }

  private threadOf(threadId: number, name: string): WatchedThread | undefined {
    const existing = this.threads.get(threadId);
    if (existing) return existing;
    const label = this.labels.labelOf(threadId, name.slice(0, 64));
    if (label === undefined) {
      warnOnce(
        WarningCode.THREAD_LIMIT,
        `More than ${MAX_WATCHED_THREADS} worker threads watch themselves with watchThread(); ` +
          `the figures of the others are left out of this thread's metrics until some exit`,
      );
      return undefined;
    }
    const thread: WatchedThread = { label, figures: undefined, lastSeenMs: 0, intervalMs: 0 };
    this.threads.set(threadId, thread);
    return thread;
  }

  private forget(threadId: number): void {
    this.threads.delete(threadId);
    this.labels.release(threadId);
  }

  private rememberExit(threadId: number): void {
    this.exited.add(threadId);
    if (this.exited.size > REMEMBERED_EXITS) this.exited.delete(this.exited.values().next().value as number);
  }
}
