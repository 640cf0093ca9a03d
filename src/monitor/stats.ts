// What the monitor tells about its own work: its counters, and what each reading cost.
import type { MajorGcSignal } from '../v8/major-gc.js';

/** Counters of the monitor's own work, for self-observation. */
export interface MonitorStats {
  /** Readings taken at ticks and after major GCs. */
  readonly readings: number;
  /**
   * Of those, tick readings that found V8's sampler unchanged since the reading before (a process
   * at rest) and repeated it at their time, without reading V8's profile again.
   */
  readonly unchangedReadings: number;
  /**
   * Ticks whose reading held what the tick reading before held — every site's bytes and objects,
   * the ArrayBuffer memory — with no clean reading between (a process at rest): only the suspects
   * were judged, whether they settled.
   */
  readonly quietTicks: number;
  /** Readings that failed (each is logged once per cause; the next tick tries again). */
  readonly readingErrors: number;
  /** Main-thread time of the last tick: read, aggregate, judge (milliseconds). */
  readonly lastTickMs: number;
  /** Sites tracked now. */
  readonly trackedSites: number;
  /** Sites of the latest reading left untracked because of `maxTrackedSites`. */
  readonly droppedSites: number;
  /** Readings taken right after a full GC, which hold no garbage. */
  readonly cleanReadings: number;
  /**
   * How heapwatch learns of V8's major GCs in this isolate, after which its clean readings are
   * taken: `sentinel` (nothing runs at young-generation collections), `gc-entries` (a `gc`
   * PerformanceObserver, where the sentinel failed its test), or `probing` (until a major GC).
   */
  readonly majorGcSignal: MajorGcSignal;
  /** Full GCs heapwatch asked V8 for, to confirm a rising site (36 per window on average at most). */
  readonly requestedGcs: number;
  /**
   * Full GCs heapwatch did not ask for because their expected pause exceeded the pause budget
   * (100 ms): the rising site waited for V8's own major GCs instead.
   */
  readonly skippedGcs: number;
  /** Main-thread time of the latest forced GC (ms; its `gc` entries), 0 before the first. */
  readonly lastForcedGcPauseMs: number;
  /** The time between two readings now (ms): `intervalMs`, or longer while readings exceed `readingBudgetMs`. */
  readonly readingIntervalMs: number;
  /** Suspicions raised since the start. */
  readonly suspicionsRaised: number;
  /** Estimated live bytes of all watched sites at the latest reading (0 before the first). */
  readonly sampledLiveBytes: number;
  /**
   * The interval V8's sampler ran at for the latest reading (bytes): `samplingIntervalBytes`, or
   * the interval of another tool that heapwatch shares the sampler with.
   */
  readonly samplingIntervalBytes: number;
  /** Records heapwatch's logger refused (it threw); each cause is also a process warning, once. */
  readonly logErrors: number;
  /**
   * Start-overs of V8's sampler seen since the start — heapwatch's own in allocation mode (past
   * 50 000 collected samples), another tool's, or after another tool stopped it. Each forgets every
   * live sample: the sites' series start anew there (see docs/allocations.md).
   */
  readonly samplerRestarts: number;
  /**
   * Buffers the Buffer sampler sampled since it started (`bufferSampling`; 0 when off). The
   * sampler is one per isolate: monitors of one isolate share these counts.
   */
  readonly bufferSamplesTaken: number;
  /**
   * Of those, samples not kept because 10 000 live ones were held (~5 GiB of Buffers at 512 KiB):
   * the Buffers they stand for are left to the share of the ArrayBuffer memory.
   */
  readonly bufferSamplesDropped: number;
  /** Buffers whose sample failed (the stack trace API made read-only): returned unsampled, and left to the share. */
  readonly bufferSamplesFailed: number;
}

/** What one reading cost, for the snapshot-duration histogram. */
export interface ReadingTiming {
  /** Main-thread time of the reading and its judgement (milliseconds). */
  readonly durationMs: number;
  /** Whether the reading failed (it is then counted in `readingErrors`). */
  readonly failed: boolean;
}
