import { getHeapStatistics } from 'node:v8';

/**
 * Allocation the process must show, per millisecond, for a forced GC to go ahead: twice V8's
 * "low allocation throughput" (1 000 bytes/ms), under which a full GC shrinks the young generation.
 */
const ALLOCATING_BYTES_PER_MS = 2_000;
/**
 * Allocation over the whole wait, per millisecond, under which the process is at rest and its GC
 * is dropped: a service at rest allocates ~20 bytes/ms (timers, heapwatch's own readings). One
 * that allocates more, but steadily under {@link ALLOCATING_BYTES_PER_MS} (a light, steady load),
 * has its young generation shrunk at V8's own full GCs too: its GC runs when the wait is over.
 */
const STEADY_BYTES_PER_MS = 100;
/** How often the gate looks, while a GC waits (ms): at most four times per wait, when that is shorter. */
const POLL_MS = 250;

/**
 * What the process can be seen to have allocated: V8's used heap, which rises with allocation
 * until a GC (a look across a scavenge sees no rise, and waits for the next). Not Node 26's
 * `total_allocated_bytes`: it rose by 150–900 KB per quarter second in a process at rest.
 */
const usedHeapBytes = (): number => getHeapStatistics().used_heap_size;

/**
 * Holds a forced GC back until the process is allocating. A full GC that comes after a few seconds
 * without allocation shrinks the young generation to its minimum. On V8 13 (Node 24 and 26):
 * 64 MiB to 1 MiB after 3–5 s at rest, unchanged after 0.3 to 2 s, and it regrew only halfway —
 * the service ran twice the scavenges per request from then on. On V8 12 (Node 22), once the rest
 * is longer: 32 MiB to 1 MiB in 2 of 4 GCs after 6 s (never after 3 s), 20 % more scavenges in the
 * phase after, regrown by its end (bench/forced-gc-rest.mjs, BENCHMARKS §1 "Why a forced GC costs
 * afterwards"). Right after the process allocated, the same GC leaves it as it is.
 *
 * So the GC runs at the first look (every {@link POLL_MS}, or a quarter of the wait) that finds
 * the process allocating; when none does within `maxWaitMs`, it runs then if the process allocated
 * steadily through the wait, and not at all if it rested: a service at rest has nothing new to
 * confirm, and its next tick decides again. (Running it at the wait's end whatever happened put
 * GCs in rests: in the cross-process benchmark one came in the minute at rest after the load, and
 * one process in three ended with its new space halved.) Only timers while a GC waits.
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
   * Runs `gc` once the process is seen allocating (or allocated steadily through the wait), or
   * `giveUp` when it rested; one at a time.
   */
  whenAllocating(gc: () => void, giveUp: () => void): void {
    if (this.timer) return;
    const armedAt = Date.now();
    const pollMs = Math.max(1, Math.min(POLL_MS, this.maxWaitMs() / 4));
    let lastBytes = usedHeapBytes();
    let lastAt = armedAt;
    // What the looks saw allocated through the wait (a look across a GC adds nothing).
    let seenBytes = 0;
    const look = (): void => {
      const now = Date.now();
      const bytes = usedHeapBytes();
      const allocating = bytes - lastBytes >= ALLOCATING_BYTES_PER_MS * Math.max(now - lastAt, 1);
      seenBytes += Math.max(0, bytes - lastBytes);
      [lastBytes, lastAt] = [bytes, now];
      const waitedMs = now - armedAt;
      if (!allocating && waitedMs < this.maxWaitMs()) {
        this.timer = setTimeout(look, pollMs).unref();
        return;
      }
      this.timer = undefined;
      if (allocating || seenBytes >= STEADY_BYTES_PER_MS * waitedMs) gc();
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
