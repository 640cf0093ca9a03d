import type { ProfileNode, ReaderName } from './profile.js';

/**
 * A way of reading V8's sampling heap profiler. There is one sampler per isolate: both readers
 * drive the same one, and so does any other client in the process (DevTools, another profiler).
 *
 * What a read costs (measured on Node 20, V8 11.3, 2 cores):
 * - native (`@datadog/pprof`): no forced GC; ≤ 0.7 ms at a 1.2 GB heap with few stacks, ~18 ms at
 *   10k stacks. Objects that died since the last major GC still count as live until that GC runs.
 * - inspector (`node:inspector`): V8 forces a full mark-compact GC before every read, then the tree
 *   round-trips through JSON: 6 ms at 100 stacks, 80 ms at 10k, 370 ms at 50k, plus the GC itself
 *   (55 ms at a 76 MB heap, 164 ms at 300 MB, 740 ms at 1.2 GB of small objects). Every read is a
 *   stop-the-world pause: this reader is the fallback, not the default.
 */
export interface HeapProfileReader {
  readonly name: ReaderName;
  /**
   * Whether V8's sampler already runs in this isolate, started by anyone (dd-trace, Pyroscope,
   * DevTools): asked once, before {@link start}.
   */
  alreadyRunning(): boolean;
  /**
   * Starts V8's sampler. With `shared`, it already runs, started by another tool: only get ready
   * to read it, at whatever interval that tool chose.
   */
  start(samplingIntervalBytes: number, stackDepth: number, shared: boolean): void;
  /** Stops V8's sampler; with `shared`, leaves it running for the tool that started it. */
  stop(shared: boolean): void;
  /**
   * Returns the live profile's root and the interval it was sampled at: `expectedIntervalBytes`,
   * unless the profile shows that another client restarted the sampler (at another interval, or —
   * seen by the inspector reader only — at the same one). Throws {@link SamplerStoppedError} when
   * the sampler no longer runs.
   */
  read(expectedIntervalBytes: number): SamplerRead;
}

/** One read of V8's sampler, by a reader. */
export interface SamplerRead {
  readonly root: ProfileNode;
  /** The interval the profile was sampled at. */
  readonly samplingIntervalBytes: number;
  /** Another client restarted the sampler since the previous read: the samples taken before are gone. */
  readonly restarted: boolean;
}

/** Thrown by a reader when the sampler it started is gone; the seam turns this into a coded error. */
export class SamplerStoppedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SamplerStoppedError';
  }
}
