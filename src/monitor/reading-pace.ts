import { performance } from 'node:perf_hooks';
import { WarningCode, warnOnce } from '../errors.js';

/**
 * The share of the main thread readings may take once one exceeds the reading budget: 1 %. A
 * reading is one synchronous call into V8 (`getAllocationProfile`, ~750 ms at 100k live stacks)
 * followed by heapwatch's sum per site (~350 ms there): V8's part cannot be split, so a slow
 * reading is not cut into pieces but spaced out.
 */
const MAX_READING_SHARE = 0.01;

/**
 * When the next reading comes. At `intervalMs` while each reading holds the main thread within
 * `readingBudgetMs`; past it, readings are spaced so that they take at most 1 % of the time
 * (a 1.1 s reading, one every 110 s), with a coded warning once — until readings are fast again.
 */
export class ReadingPace {
  private lastReadingMs = 0;

  constructor(
    private readonly intervalMs: number,
    private readonly readingBudgetMs: number,
  ) {}

  /** The time between two readings now (ms). */
  get readingIntervalMs(): number {
    if (this.lastReadingMs <= this.readingBudgetMs) return this.intervalMs;
    return Math.max(this.intervalMs, Math.ceil(this.lastReadingMs / MAX_READING_SHARE));
  }

  /** Whether readings are spaced beyond `intervalMs` now. */
  get slowed(): boolean {
    return this.readingIntervalMs > this.intervalMs;
  }

  /**
   * Times a reading (a tick's, or one after a major GC) from now: `end()` records what it cost
   * the main thread and returns its wall time (ms). `excludedMs` is work done meanwhile that is not
   * the reading's and does not repeat with it — the routes of a new verdict, whose handlers'
   * positions are read once — and must not space the readings out.
   */
  time(): { end(excludedMs?: number): number } {
    const started = performance.now();
    const cpuStarted = process.cpuUsage();
    return {
      end: (excludedMs = 0) => {
        const wallMs = performance.now() - started;
        this.record(Math.max(0, ownTimeMs(wallMs, cpuStarted) - excludedMs));
        return wallMs;
      },
    };
  }

  /**
   * Records what a reading cost the main thread (ms): the lesser of its wall time and the
   * process's CPU time meanwhile (see {@link ownTimeMs}).
   */
  record(durationMs: number): void {
    this.lastReadingMs = durationMs;
    if (!this.slowed) return;
    warnOnce(
      WarningCode.READING_SLOW,
      `A heapwatch reading held the main thread ${Math.round(durationMs)} ms, beyond readingBudgetMs (${this.readingBudgetMs}): ` +
        `readings are spaced to ${Math.round(this.readingIntervalMs / 1000)} s apart (1 % of the main thread) while they stay that slow. ` +
        'Fewer live stacks (a larger samplingIntervalBytes, include/exclude) make readings faster.',
    );
  }
}

/**
 * What a reading cost the main thread, for its pace (ms): the lesser of its wall time and the
 * process's CPU time meanwhile. On a core shared with other processes the wall time grows with
 * their load, and with busy worker threads the process's CPU time grows with theirs; neither is
 * the reading's own work, and a test on a loaded machine must not see its readings spaced out.
 */
function ownTimeMs(wallMs: number, cpuStarted: NodeJS.CpuUsage): number {
  const cpu = process.cpuUsage(cpuStarted);
  return Math.min(wallMs, (cpu.user + cpu.system) / 1000);
}
