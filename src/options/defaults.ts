/**
 * Every default in one place, frozen, with its unit. The options table of docs/api.md is checked
 * against this object by a test.
 */
export const defaults = Object.freeze({
  /**
   * Mean bytes allocated between two samples (bytes): V8's own default, and the peers' (dd-trace,
   * Pyroscope, Cloud Profiler). See docs/detection.md for the measured cost and delays.
   */
  samplingIntervalBytes: 512 * 1024,
  /** Frames kept per sampled stack (frames). */
  stackDepth: 64,
  /**
   * Whether V8's sampler keeps the samples of collected objects (Node 26 and later), so that each
   * site's allocated bytes and survival are known: off, since every reading then forces a full GC
   * (see BENCHMARKS.md §7).
   */
  allocations: false,
  /**
   * Whether the Buffers the application makes are sampled in JavaScript (by bytes, at
   * `bufferSamplingIntervalBytes`) while a monitor runs, so that a Buffer leak is judged on its
   * bytes outside V8's heap from its first sampled Buffer: off, since its cost — 5–10 ns a call,
   * ~6 µs (Node 26) to ~22 µs (Node 22) a sample — measured as a whole on a Buffer-bound Express
   * route on Node 22 at 6.5 % (5.6–8.8 %) CPU per request at the default 512 KiB interval and
   * 3.5 % (1.2–5.6 %) at 4 MiB, past the 0.5 % cost target at either (BENCHMARKS.md, issue 22,
   * "the Buffer sampler's cost").
   */
  bufferSampling: false,
  /**
   * Mean bytes of Buffers made between two samples of the Buffer sampler (bytes): V8's own
   * `samplingIntervalBytes` default, because the growth test's noise model (src/growth) is V8's
   * interval — a sparser Buffer interval reaches it only through the measured wander of a site's
   * readings. At 4 MiB (8× sparser, ~8× fewer stack captures) one leak run in eight was suspected
   * after 60.2 s, past the 60 s the external-leak test asserts, and sizes strayed further
   * (±20 MB at 96 MB against ±7 MB). A larger value trades that noise and a later detection for
   * less cost; the sampler is off by default anyway (`bufferSampling`). Independent of
   * `samplingIntervalBytes`.
   */
  bufferSamplingIntervalBytes: 512 * 1024,
  /** Which reader drives V8's sampler: the native one when it loads, else the inspector. */
  reader: 'auto' as 'auto' | 'native' | 'inspector',
  /** Time between two readings of the sampler by the monitor (milliseconds). */
  intervalMs: 10_000,
  /** The longest horizon over which growth is judged (milliseconds): a slow leak needs an hour. */
  windowMs: 3_600_000,
  /**
   * Time after the process (or worker thread) starts during which no site is suspected
   * (milliseconds): caches filling after a deploy look exactly like leaks while they fill.
   * `windowMs` when that is shorter.
   */
  warmupMs: 600_000,
  /** Growth over the window that makes a site a leak suspect; twice that over a shorter horizon (bytes). */
  growthThresholdBytes: 2 * 1024 * 1024,
  /** Sites listed in a leak record's `top` and labelled in metrics (sites). */
  topSites: 10,
  /** Sites whose series the monitor keeps; the largest are kept (sites). */
  maxTrackedSites: 2_000,
  /**
   * Main-thread time one reading may take before readings are spaced out to 1 % of the main
   * thread (milliseconds): a tick at ~10k live stacks takes ~70 ms.
   */
  readingBudgetMs: 100,
  /**
   * Longest expected pause of a full GC heapwatch asks V8 for, to confirm a rising site with a
   * reading free of garbage (milliseconds; about 1 ms per MB of used heap): above it, the site
   * waits for V8's own major GCs. 0: heapwatch never forces one.
   */
  forcedGcPauseBudgetMs: 100,
  /**
   * Fraction of the container's memory limit at which RSS makes heapwatch write the
   * `memory-near-limit` record (a fraction of 1): the last tenth leaves a few seconds at a fast
   * leak, and a steady process rarely sits that close to its limit.
   */
  memoryNearLimitFraction: 0.9,
  /**
   * Growth over the window of the memory no allocation site explains (RSS outside V8's heap and
   * its external memory) that raises the process-level verdict; twice that over a shorter horizon
   * (bytes): several times the swings measured on busy processes (up to 16 MiB over 30 s).
   */
  unexplainedGrowthThresholdBytes: 32 * 1024 * 1024,
});
