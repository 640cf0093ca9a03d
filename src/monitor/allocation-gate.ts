import { constants, PerformanceObserver } from 'node:perf_hooks';
import type { PerformanceEntry } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';
import { usedHeapBytes } from '../v8/gc-events.js';
import { v8MajorVersion } from '../v8/v8-version.js';

/** A `gc` performance entry: `detail.kind` tells which collection it was. */
type GcEntry = PerformanceEntry & { detail?: { kind?: number } };

/**
 * What the young generation takes before a scavenge (bytes): V8's new space, used and available —
 * one semi-space; its `space_size` counts both (2 MiB with `--max-semi-space-size=1`).
 */
function youngGenerationBytes(): number {
  const space = getHeapSpaceStatistics().find((candidate) => candidate.space_name === 'new_space');
  return space ? space.space_used_size + space.space_available_size : 0;
}

/**
 * Allocation the process must show, per millisecond, for a forced GC to go ahead: twice V8's
 * "low allocation throughput" (1 000 bytes/ms), under which a full GC shrinks the young generation.
 */
const ALLOCATING_BYTES_PER_MS = 2_000;
/**
 * Allocation per millisecond a look must find for the process to count as allocating steadily: a
 * service at rest allocates ~20 bytes/ms (timers). One that allocates more at half the looks or
 * more, but under {@link ALLOCATING_BYTES_PER_MS} (a light, steady load), has its young generation
 * shrunk at V8's own full GCs too: its GC runs when the wait is over. Less often, and the process
 * rested: its GC is dropped.
 */
const STEADY_BYTES_PER_MS = 100;
/**
 * Whether the gate holds: V8 13 and later (Node 24, 26). V8 12 (Node 22) shrinks its young
 * generation too, after longer rests (6 s), but held there the corpus's slow leak went unconfirmed
 * (3 runs of 3 before the steady-allocation rule; once in CI after it, 2026-12-07, where it had
 * passed four times alone): on Node 22 the GC runs at once, and a GC in a rest shrinks the young
 * generation now and then (BENCHMARKS §1, "Node 22 shrinks too").
 */
const HOLDS = v8MajorVersion() >= 13;
/** How often the gate looks, while a GC waits (ms): at most four times per wait, when that is shorter. */
const POLL_MS = 250;
/**
 * Looks in a row that must find the process allocating: a burst that one look sees — a request,
 * a scrape — after seconds at rest leaves V8's allocation rate since its last GC low, and the GC
 * would shrink the young generation all the same. A service under load allocates at every look.
 */
const ALLOCATING_LOOKS = 2;

// What the process can be seen to have allocated between two looks: V8's used heap
// (`usedHeapBytes`, the same the tick's own allocation is measured with), which rises with
// allocation until a GC; or, across several young-generation collections, the young generation
// filled between each two of them. With a small young generation (1 MiB: V8 shrinks it at rest),
// a process allocating fast scavenges every few milliseconds, and a look across scavenges sees
// no rise: the gate never opened (every test of it that allocates failed on Node 24 with
// `--max-semi-space-size=1`, and one did in CI). Not Node 26's `total_allocated_bytes`: it rose
// by 150–900 KB per quarter second in a process at rest.

/**
 * Holds a forced GC back until the process is allocating. A full GC that comes after a few seconds
 * without allocation shrinks the young generation to its minimum. On V8 13 (Node 24 and 26):
 * 64 MiB to 1 MiB after 3–5 s at rest, unchanged after 0.3 to 2 s, and it regrew only halfway —
 * the service ran twice the scavenges per request from then on. On V8 12 (Node 22), once the rest
 * is longer: 32 MiB to 1 MiB in 3 of 6 GCs after 6 s (never after 3 s), 20 % more scavenges in the
 * phase after, regrown by its end (bench/forced-gc-rest.mjs, BENCHMARKS §1 "Why a forced GC costs
 * afterwards"). Right after the process allocated, the same GC leaves it as it is.
 *
 * So the GC runs at the second look in a row (every {@link POLL_MS}, or a quarter of the wait)
 * that finds the process allocating, heapwatch's own readings left out; when none does within
 * `maxWaitMs`, it runs then if the process allocated
 * steadily through the wait, and not at all if it rested: a service at rest has nothing new to
 * confirm, and its next tick decides again. (Running it at the wait's end whatever happened put
 * GCs in rests: in the cross-process benchmark one came in the minute at rest after the load, and
 * one process in three ended with its new space halved.) Only timers while a GC waits.
 */
export class AllocationGate {
  private timer: NodeJS.Timeout | undefined;
  /** What heapwatch itself allocated since the last look (its readings: bytes), not the service's. */
  private ownBytes = 0;
  /**
   * Whether heapwatch allocated since the last look: the young generations it filled then are
   * not the service's (a scavenge within its reading also hides the reading's bytes from the
   * used heap it is measured by).
   */
  private ownSinceLook = false;
  /** Counts the young-generation collections while a GC waits. */
  private scavengeWatch: PerformanceObserver | undefined;

  constructor(
    /** The longest a GC waits for the process to allocate (ms): a reading interval. */
    private readonly maxWaitMs: () => number,
  ) {}

  /** Whether a GC is waiting. */
  get waiting(): boolean {
    return this.timer !== undefined;
  }

  /**
   * Tells the gate what heapwatch allocated itself (bytes): a tick's reading allocates ~1 MB,
   * which a look at rest would take for the service allocating — seen across processes on Node 22,
   * a GC forced 23 s into the rest after a load, which shrank the young generation.
   */
  discount(bytes: number): void {
    if (this.timer === undefined) return;
    this.ownBytes += Math.max(0, bytes);
    this.ownSinceLook = true;
  }

  /**
   * Runs `gc` once the process is seen allocating (or allocated steadily through the wait), or
   * `giveUp` when it rested; one at a time.
   */
  whenAllocating(gc: () => void, giveUp: () => void): void {
    if (this.timer) return;
    if (!HOLDS) return gc();
    const armedAt = Date.now();
    const pollMs = Math.max(1, Math.min(POLL_MS, this.maxWaitMs() / 4));
    let lastBytes = usedHeapBytes();
    let lastAt = armedAt;
    this.ownBytes = 0;
    this.ownSinceLook = false;
    // Young-generation collections since the last look, while the GC waits.
    let scavenges = 0;
    this.scavengeWatch = new PerformanceObserver((list) => {
      scavenges += list.getEntries().filter((entry) => (entry as GcEntry).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR).length;
    });
    this.scavengeWatch.observe({ entryTypes: ['gc'] });
    // What the looks saw allocated through the wait (a look across a GC adds nothing), and how
    // many looks in a row found the process allocating.
    let allocatingLooks = 0;
    let steadyLooks = 0;
    let looks = 0;
    const look = (): void => {
      const now = Date.now();
      const bytes = usedHeapBytes();
      // Between two scavenges the young generation filled: as many times as there were, less
      // one (the first may have come at once). A burst seen by one look brings one scavenge to
      // the next at most (V8's task that empties a young generation nearly full).
      const filled = scavenges >= 2 && !this.ownSinceLook ? (scavenges - 1) * youngGenerationBytes() : 0;
      const seen = Math.max(bytes - lastBytes - this.ownBytes, filled);
      const sinceLastMs = Math.max(now - lastAt, 1);
      scavenges = 0;
      this.ownBytes = 0;
      this.ownSinceLook = false;
      [lastBytes, lastAt] = [bytes, now];
      looks++;
      allocatingLooks = seen >= ALLOCATING_BYTES_PER_MS * sinceLastMs ? allocatingLooks + 1 : 0;
      if (seen >= STEADY_BYTES_PER_MS * sinceLastMs) steadyLooks++;
      const allocating = allocatingLooks >= ALLOCATING_LOOKS;
      if (!allocating && now - armedAt < this.maxWaitMs()) {
        this.timer = setTimeout(look, pollMs).unref();
        return;
      }
      this.stopWatching();
      // Steadily: at half the looks at least, not in one burst (a look across a GC sees no rise).
      if (allocating || steadyLooks * 2 >= looks) gc();
      else giveUp();
    };
    this.timer = setTimeout(look, pollMs).unref();
  }

  /** Drops a waiting GC. */
  cancel(): void {
    clearTimeout(this.timer);
    this.stopWatching();
  }

  private stopWatching(): void {
    this.timer = undefined;
    this.scavengeWatch?.disconnect();
    this.scavengeWatch = undefined;
  }
}
