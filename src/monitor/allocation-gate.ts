import { getHeapStatistics } from 'node:v8';

/**
 * Allocation the process must show, per millisecond, for a forced GC to go ahead: twice V8's
 * "low allocation throughput" (1 000 bytes/ms), under which a full GC shrinks the young generation.
 */
const ALLOCATING_BYTES_PER_MS = 2_000;
/** How often the gate looks, while a GC waits (ms): at most four times per wait, when that is shorter. */
const POLL_MS = 250;

/**
 * What the process can be seen to have allocated: V8's used heap, which rises with allocation
 * until a GC (a look across a scavenge sees no rise, and waits for the next). Not Node 26's
 * `total_allocated_bytes`: it rose by 150–900 KB per quarter second in a process at rest.
 */
const usedHeapBytes = (): number => getHeapStatistics().used_heap_size;

/**
 * Holds a forced GC back until the process is allocating. From V8 13 (Node 24 and 26) a full GC
 * that comes after about 2.5 s without allocation shrinks the young generation to its minimum —
 * measured: 64 MiB to 1 MiB after 3–5 s at rest, unchanged after 0.3 to 2 s — and it regrew only
 * halfway: the service ran twice the scavenges per request from then on (bench/forced-gc-rest.mjs,
 * BENCHMARKS §1 "Why a forced GC costs afterwards"). Right after the process allocated, the same
 * GC leaves it as it is.
 *
 * So the GC runs at the first look (every {@link POLL_MS}, or a quarter of the wait) that finds
 * the process allocating, and not at all when none does within `maxWaitMs`: a service that went
 * to rest has nothing new to confirm, and its next tick decides again. (Running it anyway once the
 * wait was over put it in rests: in the cross-process benchmark one came in the minute at rest
 * after the load, and the new space of one process in three ended halved.) Only timers while a
 * GC waits; none otherwise.
 */
export class AllocationGate {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    /** The longest a GC waits for the process to allocate (ms): a reading interval. */
    private readonly maxWaitMs: () => number,
  ) {}

  /** Whether a GC is waiting. */
  get waiting(): boolean {
    return this.timer !== undefined;
  }

  /**
   * Runs `gc` once the process is seen allocating, or `giveUp` when it was not within the wait;
   * one at a time.
   */
  whenAllocating(gc: () => void, giveUp: () => void): void {
    if (this.timer) return;
    const armedAt = Date.now();
    const pollMs = Math.max(1, Math.min(POLL_MS, this.maxWaitMs() / 4));
    let lastBytes = usedHeapBytes();
    let lastAt = armedAt;
    const look = (): void => {
      const now = Date.now();
      const bytes = usedHeapBytes();
      const allocating = bytes - lastBytes >= ALLOCATING_BYTES_PER_MS * Math.max(now - lastAt, 1);
      [lastBytes, lastAt] = [bytes, now];
      if (!allocating && now - armedAt < this.maxWaitMs()) {
        this.timer = setTimeout(look, pollMs).unref();
        return;
      }
      this.timer = undefined;
      if (allocating) gc();
      else giveUp();
    };
    this.timer = setTimeout(look, pollMs).unref();
  }

  /** Drops a waiting GC. */
  cancel(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
