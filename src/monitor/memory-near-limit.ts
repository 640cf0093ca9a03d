// The reading a leak leaves behind when the container's limit is near: the kernel's OOM killer ends
// the process with SIGKILL, which no code sees coming, so the record is written before, at a
// fraction of the limit, with the sites that grew most.
import { getHeapStatistics } from 'node:v8';
import type { LeakLog } from '../log/leak-log.js';
import { containerMemoryLimitBytes } from './container-limit.js';
import { growingSites } from './near-limit.js';
import type { NearLimitSource } from './near-limit.js';

/**
 * How often RSS is compared to the limit (milliseconds): a leak must cross the last tenth of the
 * limit faster than this to pass unrecorded (30 MB/s in a 300 MB container). Reading RSS costs
 * microseconds; the readings' own interval (10 s by default) would miss a Buffer leak of a few MB/s.
 */
export const MEMORY_CHECK_INTERVAL_MS = 1000;

/** How long a limit read from the cgroup files is trusted (milliseconds): it changes on a resize only. */
const LIMIT_TTL_MS = 10_000;

/** Below the threshold by this fraction of the limit, the record is armed again. */
const REARM_MARGIN = 0.1;

/** What the watch reads of the process; the real figures by default, given by the tests of its rule. */
export interface MemoryFigures {
  rssBytes(): number;
  limitBytes(): number | undefined;
}

const PROCESS_FIGURES: MemoryFigures = { rssBytes: () => process.memoryUsage.rss(), limitBytes: () => containerMemoryLimitBytes() };

/**
 * Compares RSS to the container's memory limit every second and writes one `memory-near-limit`
 * record when it passes `fraction` of it; armed again once RSS is back under `fraction - 0.1` of
 * it. Without a limit it wakes only to read the limit again, every 10 s.
 */
export class MemoryLimitWatch {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private limit: { bytes: number | undefined; readAt: number } | undefined;
  private armed = true;
  /** Records written since the start. */
  written = 0;

  constructor(
    private readonly source: NearLimitSource,
    private readonly log: LeakLog,
    private readonly options: { readonly topSites: number; readonly memoryNearLimitFraction: number },
    private readonly figures: MemoryFigures = PROCESS_FIGURES,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(MEMORY_CHECK_INTERVAL_MS);
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /**
   * The next comparison: in a second under a limit, else when the limit is read again (10 s) —
   * a process with no limit, most of them outside containers, is not woken every second for nothing.
   */
  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => {
      this.check();
      if (this.running) this.schedule(this.limit?.bytes === undefined ? LIMIT_TTL_MS : MEMORY_CHECK_INTERVAL_MS);
    }, delayMs);
    this.timer.unref();
  }

  /** One comparison; writes the record on a crossing. Never throws into the timer. */
  check(now = Date.now()): void {
    try {
      const limitBytes = this.limitBytes(now);
      if (limitBytes === undefined) return;
      const rssBytes = this.figures.rssBytes();
      const fraction = this.options.memoryNearLimitFraction;
      if (rssBytes < (fraction - REARM_MARGIN) * limitBytes) this.armed = true;
      if (!this.armed || rssBytes < fraction * limitBytes) return;
      this.armed = false;
      this.written++;
      this.write(rssBytes, limitBytes);
    } catch (error) {
      this.log.memoryCheckFailed(error);
    }
  }

  private limitBytes(now: number): number | undefined {
    if (this.limit === undefined || now - this.limit.readAt >= LIMIT_TTL_MS) this.limit = { bytes: this.figures.limitBytes(), readAt: now };
    return this.limit.bytes;
  }

  /** The figures of the moment first, then one more reading for the growth up to now. */
  private write(rssBytes: number, memoryLimitBytes: number): void {
    const memory = process.memoryUsage();
    const heap = getHeapStatistics();
    this.source.readNow();
    const { growing, spanMs } = growingSites(this.source, this.options.topSites);
    this.log.memoryNearLimit({
      rssBytes,
      memoryLimitBytes,
      fraction: this.options.memoryNearLimitFraction,
      heapUsedBytes: heap.used_heap_size,
      heapLimitBytes: heap.heap_size_limit,
      externalBytes: memory.external,
      arrayBuffersBytes: memory.arrayBuffers,
      samplingIntervalBytes: this.source.samplingIntervalBytes(),
      spanMs,
      growing,
      suspects: this.source.suspects().slice(0, this.options.topSites),
    });
  }
}
