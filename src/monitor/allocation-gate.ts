import { getHeapStatistics } from 'node:v8';

/**
 * Allocation the process must show, per millisecond, for a forced GC to go ahead: twice V8's
 * "low allocation throughput" (1 000 bytes/ms), under which a full GC shrinks the young generation.
 */
const ALLOCATING_BYTES_PER_MS = 2_000;
/** How often the gate looks, while a GC waits (ms). */
const POLL_MS = 250;

/**
 * What the process can be seen to have allocated: V8's used heap, which rises with allocation
 * until a GC (a look across a scavenge sees no rise, and waits for the next). Not Node 26's
 * `total_allocated_bytes`: it rose by 150–900 KB per quarter second in a process at rest.
 */
export type AllocatedBytes = () => number;

const usedHeapBytes: AllocatedBytes = () => getHeapStatistics().used_heap_size;

/**
 * Holds a forced GC back until the process is allocating. From V8 13 (Node 24 and 26) a full GC
 * that comes after about 2.5 s without allocation shrinks the young generation to its minimum —
 * measured: 64 MiB to 1 MiB after 3 s at rest, unchanged after 0.3 to 2 s — and a service then
 * runs ~80 more scavenges per 6 400 requests while it regrows (BENCHMARKS §1, "the forced GC and
 * the young generation"). Right after the process allocated, the same GC leaves it as it is.
 *
 * So the GC runs at the first look (every {@link POLL_MS}) that finds the process allocating, or
 * after `maxWaitMs` in any case: a service that allocates that little pays little to regrow, and
 * its slow leaks still need the clean reading. Only timers while a GC waits; none otherwise.
 */
export class AllocationGate {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    /** The longest a GC waits for the process to allocate (ms): a reading interval. */
    private readonly maxWaitMs: () => number,
    private readonly allocatedBytes: AllocatedBytes = usedHeapBytes,
  ) {}

  /** Whether a GC is waiting. */
  get waiting(): boolean {
    return this.timer !== undefined;
  }

  /** Runs `gc` once the process allocates (or the wait is over); one at a time. */
  whenAllocating(gc: () => void): void {
    if (this.timer) return;
    const armedAt = Date.now();
    let lastBytes = this.allocatedBytes();
    let lastAt = armedAt;
    const look = (): void => {
      const now = Date.now();
      const bytes = this.allocatedBytes();
      const allocating = bytes - lastBytes >= ALLOCATING_BYTES_PER_MS * Math.max(now - lastAt, 1);
      [lastBytes, lastAt] = [bytes, now];
      if (!allocating && now - armedAt < this.maxWaitMs()) {
        this.timer = setTimeout(look, POLL_MS).unref();
        return;
      }
      this.timer = undefined;
      gc();
    };
    this.timer = setTimeout(look, POLL_MS).unref();
  }

  /** Drops a waiting GC. */
  cancel(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
