import type { FullGcPause } from '../v8/gc-events.js';

/**
 * The longest main-thread pause a full GC heapwatch asks for may cost the host by default
 * (milliseconds; the `forcedGcPauseBudgetMs` option).
 * A forced GC is stop-the-world and not incremental; 100 ms is about one of V8's own major GCs of
 * a heap that outgrew its incremental marking, and what a service with a p99.9 target of a few
 * hundred milliseconds can absorb now and then (36 per window at most).
 */
export const FORCED_GC_PAUSE_BUDGET_MS = 100;

/**
 * What a forced GC costs per byte of used heap (nanoseconds per byte): one mark-compact took 55 ms
 * at 76 MB and 740 ms at 1.2 GB of small objects (0.6–0.8) on an idle core of the machine the
 * benchmarks ran on, rounded up. With the budget: forced GCs below 100 MB of used heap, none above.
 * That is the forced GC on Node 22 and later (one mark-compact from a task: `exposed-gc.ts`). On
 * Node 20 it is the inspector's `HeapProfiler.collectGarbage`, two mark-compacts back to back:
 * 1.5–1.8 ns/B (bench/reader-gc-probe.mjs), so there a forced GC near 100 MB pauses about 150 ms,
 * not 100 (docs/detection.md, the pause budget).
 */
const NS_PER_BYTE = 1;

/**
 * Whether a forced GC fits the pause budget: its expected pause is the used heap times
 * {@link NS_PER_BYTE}. V8's own major GCs tell nothing of it: they mark incrementally and
 * concurrently, and their entries show only the last, atomic pause (12 ms at 107 MB where a forced
 * one took 130 ms per pass).
 *
 * The rate is fixed, not learnt from this process's forced GCs, on purpose: on a contended or
 * slower core the same GC takes several times longer (8 ns/B on a niced core shared with another
 * process), and a learnt rate would make whether a leak is confirmed — and every test of it —
 * depend on the machine's speed that minute. Each forced GC's real cost is measured (its `gc`
 * entries) and kept, so a host can see what it paid (`stats().lastForcedGcPauseMs`).
 */
export class ForcedGcPause {
  /** Main-thread time of the latest forced GC (ms), 0 before the first. */
  lastPauseMs = 0;

  /** `budgetMs`: `forcedGcPauseBudgetMs` (tests change it on the object too). */
  constructor(public budgetMs = FORCED_GC_PAUSE_BUDGET_MS) {}

  /** The expected pause of a forced GC with `heapBytes` of used heap (milliseconds). */
  expectedPauseMs(heapBytes: number): number {
    return (heapBytes * NS_PER_BYTE) / 1e6;
  }

  fits(heapBytes: number): boolean {
    return this.expectedPauseMs(heapBytes) <= this.budgetMs;
  }

  /** Keeps what a forced GC that ran cost. */
  record({ pauseMs }: FullGcPause): void {
    this.lastPauseMs = pauseMs;
  }
}
