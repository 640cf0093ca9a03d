import type { Logger } from 'pino';
import { defaults } from '../options/defaults.js';
import {
  booleanOption,
  integerOption,
  invalidOption,
  numberOption,
  objectOption,
  rejectUnknownKeys,
  stringArrayOption,
} from '../options/validate.js';
import { Filter } from '../snapshot/filter.js';
import { allocationsOption, readerOption, samplingIntervalOption } from '../v8/sampler.js';

/** Options of {@link createHeapMonitor}; every one is optional. */
export interface HeapMonitorOptions {
  /**
   * Time between two readings of the sampler (milliseconds), 10 to 3600000. Default: 10000, or a
   * quarter of `windowMs` when only that is given and is under 40 s.
   */
  readonly intervalMs?: number;
  /**
   * The longest horizon over which growth is judged (milliseconds), at least 4 intervals; beyond
   * 120 intervals, older readings are kept thinned out. Default: 3600000 (60 min), or 4 times
   * `intervalMs` when only that is given and is over 15 min.
   */
  readonly windowMs?: number;
  /**
   * Time after the process (a worker thread: the thread) starts during which no site is suspected
   * (milliseconds), 0 to 86400000: while a cache fills it cannot be told from a leak, and a cache
   * filled within this time and then steady is never suspected. Readings, metrics and the heap
   * page are unchanged meanwhile. A leak present from the start is suspected once it is over.
   * Default: 600000 (10 min), or `windowMs` when that is shorter.
   */
  readonly warmupMs?: number;
  /**
   * Growth over the window that makes a site a leak suspect; twice as much over any shorter
   * horizon (bytes). Default: 2097152 (2 MiB).
   */
  readonly growthThresholdBytes?: number;
  /** Mean bytes between two samples (bytes). Default: 524288 (512 KiB). */
  readonly samplingIntervalBytes?: number;
  /** Sites listed in a leak record's `top` (and labelled in metrics). Default: 10. */
  readonly topSites?: number;
  /** Sites whose series are kept; the largest win (sites). Default: 2000. */
  readonly maxTrackedSites?: number;
  /**
   * Main-thread time one reading may hold (milliseconds; the lesser of its wall and CPU time), 1 to 3600000: a reading that takes
   * longer (tens of thousands of live stacks) spaces the next ones out so that readings take at
   * most 1 % of the main thread, with a `HEAPWATCH_W_READING_SLOW` warning. Default: 100.
   */
  readonly readingBudgetMs?: number;
  /**
   * Longest expected pause of a full GC heapwatch may ask V8 for (milliseconds), 0 to 60000. A site
   * that rises is confirmed by readings free of garbage, taken right after full GCs: V8's own, or
   * one heapwatch forces when those have not come lately. A forced GC stops the process for about
   * 1 ms per MB of used heap, so above this budget none is forced and the site waits for V8's
   * own major GCs — which a light process with a large heap may not run for hours. Raise it to
   * confirm slow leaks in a large heap sooner at that pause; 0: never force one. Default: 100.
   */
  readonly forcedGcPauseBudgetMs?: number;
  /**
   * Fraction of the container's memory limit (cgroup `memory.max`, v1 `memory.limit_in_bytes`) at
   * which RSS makes heapwatch write one `memory-near-limit` record with the sites that grew most,
   * 0.5 to 0.99; written again only after RSS fell a tenth of the limit below it. The kernel's OOM
   * killer ends a process at the limit with SIGKILL, which leaves no chance to write anything.
   * Without a limit, or with `logger: false`, nothing is compared. Default: 0.9.
   */
  readonly memoryNearLimitFraction?: number;
  /**
   * Growth over the window of the memory no allocation site explains — native memory, RSS minus
   * V8's resident heap, V8's own malloc and ArrayBuffer contents (native addons, C++ leaks, the
   * allocator's fragmentation), or ArrayBuffer contents while no sampled site's wrappers take
   * their growth — that raises the process-level verdict (a `memory-unexplained-growth` record, the
   * `heapwatch_memory_unexplained_growth_suspected` metric); twice as much over any shorter horizon
   * (bytes), at least 1. Judged at every reading in the main thread, with the sites' trend rules
   * against the series' own swings (docs/detection.md). Default: 33554432 (32 MiB).
   */
  readonly unexplainedGrowthThresholdBytes?: number;
  /**
   * A pino logger: heapwatch logs through a child of it. `false` logs nothing. Default: a pino
   * logger writing to standard output.
   */
  readonly logger?: Logger | false;
  /** Only sites whose file matches one of these globs are watched. Default: all. */
  readonly include?: readonly string[];
  /** Sites whose file matches one of these globs are not watched. Default: none. */
  readonly exclude?: readonly string[];
  /** Reader of V8's sampler, as for `startSampling()`. Default: `'auto'`. */
  readonly reader?: 'auto' | 'native' | 'inspector';
  /**
   * Allocation mode (Node 26 and later, native reader): V8's sampler keeps the samples of
   * collected objects, so that each site's allocated bytes and objects (counters) and survival
   * are known, and `/debug/pprof/allocs` serves them. Every reading then forces a full GC; a tick
   * reads only while its expected pause fits `forcedGcPauseBudgetMs`. Elsewhere heapwatch warns
   * once (`HEAPWATCH_W_ALLOCATIONS_UNAVAILABLE`) and watches live memory. See docs/allocations.md.
   * Default: false.
   */
  readonly allocations?: boolean;
  /**
   * Samples the Buffers the application makes (`Buffer.alloc`, `allocUnsafe`, `allocUnsafeSlow`,
   * `from`, `concat`, `copyBytesFrom`) in JavaScript, by bytes at `bufferSamplingIntervalBytes`,
   * so that a site holding Buffers is judged on their bytes — outside V8's heap, where V8's sampler
   * does not see them — from its first sampled Buffer. While a monitor runs those factories are
   * wrapped: same results and errors, a byte countdown per call (5–10 ns) and a stack capture and
   * a `WeakRef` per sampled Buffer (~6 µs on Node 26, ~22 µs on Node 22, in an Express route; once per
   * ~`bufferSamplingIntervalBytes` made). Off, a site's Buffers are estimated
   * from V8's samples of their small objects only: a 1.6 MB/s leak of 16 KiB Buffers is suspected
   * in 30–70 s or later instead of 50 s (see docs/concepts.md, "Outside V8's heap"). Default: false.
   */
  readonly bufferSampling?: boolean;
  /**
   * Mean bytes of Buffers made between two samples of the Buffer sampler (bytes), 1 to 2^31 − 1: a
   * site holding B bytes of Buffers is estimated within about ±sqrt(B × this) (one standard
   * deviation; ±7 MB at 96 MB at the default, ±20 MB at 4 MiB). By default V8's own interval: the
   * growth test's noise model is V8's interval, so a larger value reaches it only through the
   * measured wander of the site's readings. A larger value trades more noise and a later detection
   * for fewer samples, each a stack capture and a `WeakRef` (~6–22 µs) on the request path: at
   * 4 MiB one 1.6 MB/s leak run in eight was suspected after 60.2 s instead of 50 s. Independent of
   * `samplingIntervalBytes` (changing that one leaves this one as it is); used only with
   * `bufferSampling: true`. Default: 524288 (512 KiB).
   */
  readonly bufferSamplingIntervalBytes?: number;
  /**
   * Directory where, when V8's heap nears its limit, the pprof profile of that moment is written
   * (`heap-near-limit-<pid>-<ms>.pb.gz`, created if missing), beside the `heap-near-limit` record.
   * Native reader only. Default: none (no file).
   */
  readonly outOfMemoryProfileDir?: string;
}

export interface ResolvedMonitorOptions {
  readonly intervalMs: number;
  readonly windowMs: number;
  readonly warmupMs: number;
  readonly growthThresholdBytes: number;
  readonly samplingIntervalBytes: number;
  readonly topSites: number;
  readonly maxTrackedSites: number;
  readonly readingBudgetMs: number;
  readonly forcedGcPauseBudgetMs: number;
  readonly memoryNearLimitFraction: number;
  readonly unexplainedGrowthThresholdBytes: number;
  readonly logger: Logger | false | undefined;
  readonly filters: readonly Filter[];
  readonly reader: 'auto' | 'native' | 'inspector';
  readonly allocations: boolean;
  readonly bufferSampling: boolean;
  readonly bufferSamplingIntervalBytes: number;
  readonly outOfMemoryProfileDir: string | undefined;
  /** Readings kept per site and window: every reading of the window, or thinned out with age beyond {@link WINDOW_SLOTS}. */
  readonly windowSlots: number;
}

export const MONITOR_OPTION_NAMES = [
  'intervalMs',
  'windowMs',
  'warmupMs',
  'growthThresholdBytes',
  'samplingIntervalBytes',
  'topSites',
  'maxTrackedSites',
  'readingBudgetMs',
  'forcedGcPauseBudgetMs',
  'memoryNearLimitFraction',
  'unexplainedGrowthThresholdBytes',
  'logger',
  'include',
  'exclude',
  'reader',
  'allocations',
  'bufferSampling',
  'bufferSamplingIntervalBytes',
  'outOfMemoryProfileDir',
] as const;

/**
 * Readings kept per site and window at most: beyond, older readings are thinned out (see
 * `growth/timeline.ts`). 121 slots hold every reading of a 20-minute window read every 10 s.
 */
export const WINDOW_SLOTS = 121;

function loggerOption(value: unknown): Logger | false | undefined {
  if (value === undefined || value === false) return value;
  const candidate = value as Partial<Logger> | null;
  if (typeof candidate !== 'object' || candidate === null || typeof candidate.child !== 'function' || typeof candidate.warn !== 'function') {
    throw invalidOption('logger', 'a pino logger (an object with child() and warn()) or false', value);
  }
  return value as Logger;
}

function outOfMemoryProfileDirOption(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.trim() === '') throw invalidOption('outOfMemoryProfileDir', 'a directory path (a non-empty string)', value);
  return value;
}

const MIN_WINDOW_INTERVALS = 4;

/**
 * `intervalMs` and `windowMs` depend on each other (a window spans at least 4 intervals: fewer
 * readings cannot show a trend), and an option the user did not pass must never be the cause of
 * an error. When only one of them is given, the other's default is brought within range of it:
 * `intervalMs: 1_200_000` alone gets a window of 80 min, `windowMs: 20_000` alone an interval of
 * 5 s. Only a pair the user gave can be refused, and the error then names the window.
 */
function timingOptions(given: Record<string, unknown>): { intervalMs: number; windowMs: number } {
  const intervalGiven = given.intervalMs === undefined ? undefined : integerOption('intervalMs', given.intervalMs, 10, 3_600_000);
  const windowGiven = given.windowMs === undefined ? undefined : integerOption('windowMs', given.windowMs, MIN_WINDOW_INTERVALS * 10, 86_400_000);
  const intervalMs = intervalGiven ?? Math.min(defaults.intervalMs, Math.floor((windowGiven ?? defaults.windowMs) / MIN_WINDOW_INTERVALS));
  const windowMs = windowGiven ?? Math.max(defaults.windowMs, MIN_WINDOW_INTERVALS * intervalMs);
  if (windowMs < MIN_WINDOW_INTERVALS * intervalMs) {
    throw invalidOption('windowMs', `at least ${MIN_WINDOW_INTERVALS} times intervalMs (${MIN_WINDOW_INTERVALS * intervalMs})`, windowMs);
  }
  return { intervalMs, windowMs };
}

/** Validates the monitor's options once, at construction; each error names the option. */
export function resolveMonitorOptions(options: unknown, known: readonly string[] = MONITOR_OPTION_NAMES): ResolvedMonitorOptions {
  const given = objectOption('options', options) as Record<string, unknown>;
  rejectUnknownKeys(given, known, 'heapwatch');
  const { intervalMs, windowMs } = timingOptions(given);
  const windowReadings = Math.floor(windowMs / intervalMs) + 1;
  const include = given.include === undefined ? [] : stringArrayOption('include', given.include);
  const exclude = given.exclude === undefined ? [] : stringArrayOption('exclude', given.exclude);
  return {
    intervalMs,
    windowMs,
    windowSlots: Math.min(windowReadings, WINDOW_SLOTS),
    warmupMs: integerOption('warmupMs', given.warmupMs ?? Math.min(defaults.warmupMs, windowMs), 0, 86_400_000),
    growthThresholdBytes: integerOption('growthThresholdBytes', given.growthThresholdBytes ?? defaults.growthThresholdBytes, 1),
    samplingIntervalBytes: samplingIntervalOption(given.samplingIntervalBytes),
    topSites: integerOption('topSites', given.topSites ?? defaults.topSites, 1, 1000),
    maxTrackedSites: integerOption('maxTrackedSites', given.maxTrackedSites ?? defaults.maxTrackedSites, 1, 100_000),
    readingBudgetMs: integerOption('readingBudgetMs', given.readingBudgetMs ?? defaults.readingBudgetMs, 1, 3_600_000),
    forcedGcPauseBudgetMs: integerOption('forcedGcPauseBudgetMs', given.forcedGcPauseBudgetMs ?? defaults.forcedGcPauseBudgetMs, 0, 60_000),
    memoryNearLimitFraction: numberOption('memoryNearLimitFraction', given.memoryNearLimitFraction ?? defaults.memoryNearLimitFraction, 0.5, 0.99),
    unexplainedGrowthThresholdBytes: integerOption(
      'unexplainedGrowthThresholdBytes',
      given.unexplainedGrowthThresholdBytes ?? defaults.unexplainedGrowthThresholdBytes,
      1,
    ),
    logger: loggerOption(given.logger),
    filters: [...include.map((glob) => new Filter(true, glob)), ...exclude.map((glob) => new Filter(false, glob))],
    reader: readerOption(given.reader),
    allocations: allocationsOption(given.allocations),
    bufferSampling: booleanOption('bufferSampling', given.bufferSampling, defaults.bufferSampling),
    bufferSamplingIntervalBytes: integerOption('bufferSamplingIntervalBytes', given.bufferSamplingIntervalBytes ?? defaults.bufferSamplingIntervalBytes, 1, 2 ** 31 - 1),
    outOfMemoryProfileDir: outOfMemoryProfileDirOption(given.outOfMemoryProfileDir),
  };
}

/** The first monitor option whose value differs, or undefined. The logger compares by identity. */
export function differingMonitorOption(a: ResolvedMonitorOptions, b: ResolvedMonitorOptions): string | undefined {
  const scalar = ['intervalMs', 'windowMs', 'warmupMs', 'growthThresholdBytes', 'samplingIntervalBytes', 'topSites', 'maxTrackedSites', 'readingBudgetMs', 'forcedGcPauseBudgetMs', 'memoryNearLimitFraction', 'unexplainedGrowthThresholdBytes', 'reader', 'allocations', 'bufferSampling', 'bufferSamplingIntervalBytes', 'logger', 'outOfMemoryProfileDir'] as const;
  for (const name of scalar) if (a[name] !== b[name]) return name;
  const globs = (options: ResolvedMonitorOptions, inclusive: boolean): string =>
    JSON.stringify(options.filters.filter((filter) => filter.inclusive === inclusive).map((filter) => filter.filePattern));
  if (globs(a, true) !== globs(b, true)) return 'include';
  if (globs(a, false) !== globs(b, false)) return 'exclude';
  return undefined;
}
