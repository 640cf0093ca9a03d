/**
 * Every error heapwatch throws carries one of these codes; every soft problem it reports through
 * `process.emitWarning` carries one of the warning codes. docs/api.md lists both; a test checks
 * that the list there and this file agree.
 */
export const ErrorCode = {
  /** An option has the wrong type or is out of range. The message names the option. */
  INVALID_OPTION: 'HEAPWATCH_ERR_INVALID_OPTION',
  /** `statistics()` / `compareTo()` was given a `groupBy` other than site, file or traceback. */
  INVALID_GROUP_BY: 'HEAPWATCH_ERR_INVALID_GROUP_BY',
  /** `compareTo()` between snapshots taken with different sampling intervals. */
  INCOMPATIBLE_SNAPSHOTS: 'HEAPWATCH_ERR_INCOMPATIBLE_SNAPSHOTS',
  /** `takeSnapshot()` while heapwatch is not sampling: call `startSampling()` first. */
  NOT_SAMPLING: 'HEAPWATCH_ERR_NOT_SAMPLING',
  /** `startSampling()` while already sampling with another interval or reader. */
  ALREADY_SAMPLING: 'HEAPWATCH_ERR_ALREADY_SAMPLING',
  /** `reader: 'native'` was asked for, and `@datadog/pprof` could not be loaded. */
  NATIVE_UNAVAILABLE: 'HEAPWATCH_ERR_NATIVE_UNAVAILABLE',
  /**
   * Another client of the V8 sampler stopped it since the last read, so the samples heapwatch had
   * are gone. Sampling is started again with heapwatch's interval before this is thrown; the next
   * snapshot starts from an empty profile.
   */
  SAMPLER_LOST: 'HEAPWATCH_ERR_SAMPLER_LOST',
  /**
   * `heapwatch()` was called again with monitor options other than those of the monitor already
   * running in this process. Calls with the same options share that monitor.
   */
  MONITOR_CONFLICT: 'HEAPWATCH_ERR_MONITOR_CONFLICT',
  /**
   * Allocation data was asked of a snapshot that has none (`statistics(groupBy, 'allocated')`,
   * `compareTo(older, groupBy, 'allocated')`): before Node 26, with the inspector reader, or
   * without `allocations: true`. The message gives the reason.
   */
  ALLOCATIONS_UNAVAILABLE: 'HEAPWATCH_ERR_ALLOCATIONS_UNAVAILABLE',
  /** `watchThread()` was called in the main thread: it is for worker threads; `heapwatch()` watches the main thread. */
  NOT_WORKER_THREAD: 'HEAPWATCH_ERR_NOT_WORKER_THREAD',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export const WarningCode = {
  /** `@datadog/pprof` could not be loaded: reading through `node:inspector`, which forces a GC per read. */
  NATIVE_UNAVAILABLE: 'HEAPWATCH_W_NATIVE_UNAVAILABLE',
  /** Another client stopped the V8 sampler; heapwatch started it again. */
  SAMPLER_LOST: 'HEAPWATCH_W_SAMPLER_LOST',
  /** V8's sampler runs for another tool too (it started or restarted it): heapwatch reads it at that tool's interval. */
  SAMPLER_SHARED: 'HEAPWATCH_W_SAMPLER_SHARED',
  /**
   * `allocations: true` was asked for where V8 cannot keep the samples of collected objects
   * (before Node 26, or with the inspector reader): heapwatch samples live memory only.
   */
  ALLOCATIONS_UNAVAILABLE: 'HEAPWATCH_W_ALLOCATIONS_UNAVAILABLE',
  /**
   * V8's sampler, shared with another tool, runs in allocation mode (dd-trace's default): each
   * read forces a full GC, so heapwatch reads only within `forcedGcPauseBudgetMs`.
   */
  SAMPLER_ALLOCATION_MODE: 'HEAPWATCH_W_SAMPLER_ALLOCATION_MODE',
  /** The logger threw when heapwatch wrote a record: records are lost (counted), heapwatch goes on. */
  LOG_FAILED: 'HEAPWATCH_W_LOG_FAILED',
  /** A source map was found but could not be read or parsed; that file is reported as compiled. */
  SOURCE_MAP_UNREADABLE: 'HEAPWATCH_W_SOURCE_MAP_UNREADABLE',
  /**
   * A TypeScript file runs as compiled code that no source map maps back (ts-node without
   * `--enable-source-maps`, say): its sites are reported at compiled positions, marked `[compiled]`.
   */
  TYPESCRIPT_UNMAPPED: 'HEAPWATCH_W_TYPESCRIPT_UNMAPPED',
  /**
   * The application's OpenTelemetry MeterProvider or meter threw (getMeter, creating instruments,
   * an observation in the batch callback): heapwatch goes on without it, counted in
   * `heapwatch_otel_errors_total`.
   */
  OTEL_FAILED: 'HEAPWATCH_W_OTEL_FAILED',
  /** More worker threads watch themselves than the main thread labels (32 at once): the others are left out until some exit. */
  THREAD_LIMIT: 'HEAPWATCH_W_THREAD_LIMIT',
  /**
   * A reading held the main thread beyond `readingBudgetMs` (many live stacks): readings are spaced
   * so that they take at most 1 % of the main thread while they stay that slow.
   */
  READING_SLOW: 'HEAPWATCH_W_READING_SLOW',
} as const;

export type WarningCode = (typeof WarningCode)[keyof typeof WarningCode];

/** The one error class heapwatch throws; `code` tells which problem it is. */
export class HeapwatchError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HeapwatchError';
    this.code = code;
  }
}

const warned = new Set<string>();

/**
 * Emits a coded warning once per process for each `code` + `key`: the same soft problem met at
 * every tick must not flood the host's stderr.
 */
export function warnOnce(code: WarningCode, message: string, key = ''): void {
  const id = `${code}\0${key}`;
  if (warned.has(id)) return;
  warned.add(id);
  process.emitWarning(message, { code, type: 'HeapwatchWarning' });
}
