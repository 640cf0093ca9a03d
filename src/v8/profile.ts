/**
 * The plain data every reader produces: V8's sampled live allocations as a call tree. This is the
 * shape `@datadog/pprof` returns, so the native reader hands V8's tree over without a copy; the
 * inspector reader converts into it. Everything past the seam works on this data alone, so tests
 * can run on recorded profiles.
 */

/** Which reader produced a profile; see `src/v8/reader.ts` for what each read costs. */
export type ReaderName = 'native' | 'inspector';

/** Allocations of one object size at one node. */
export interface ProfileAllocation {
  /** Size of each object in this bucket, bytes. */
  readonly sizeBytes: number;
  /** Estimated number of live objects: V8 has already scaled the sample count up by the sampling odds. */
  readonly count: number;
  /**
   * Estimated number of objects allocated since the sampler started, live or collected since
   * (scaled as `count`): only when V8 keeps the samples of collected objects (allocation mode,
   * Node 26 and later; see `src/v8/allocation-profile.ts`). Absent otherwise.
   */
  readonly allocatedCount?: number;
}

/** One frame of the call tree; the path from the root to a node is a stack. */
export interface ProfileNode {
  /** Function name; empty for anonymous functions. */
  readonly name: string;
  /** `file://` URL (ES modules), absolute path (CommonJS), `node:*` (Node internals) or empty (V8 built-ins). */
  readonly scriptName: string;
  /**
   * V8's id of the script, when the reader gives it (both do): the same id a function's
   * `[[FunctionLocation]]` names, which is how a route's handler is found on the stacks.
   */
  readonly scriptId?: number;
  /** 1-based line where the function is declared; 0 when unknown. */
  readonly lineNumber: number;
  /** 1-based column where the function is declared; 0 when unknown. */
  readonly columnNumber: number;
  /** Live allocations whose innermost frame is this node. */
  readonly allocations: readonly ProfileAllocation[];
  readonly children: readonly ProfileNode[];
}

/** One read of the sampler. */
export interface RawProfile {
  readonly reader: ReaderName;
  readonly samplingIntervalBytes: number;
  /** The root node (`(root)`), whose children are the outermost frames. */
  readonly root: ProfileNode;
  /**
   * Whether the profile counts every sampled allocation, collected or not (`allocatedCount` on
   * each allocation): V8's allocation mode, Node 26 and later. Such a read forced a full GC.
   */
  readonly allocations?: boolean;
  /**
   * Counts the times the sampler was started over since heapwatch started it (by heapwatch to
   * bound V8's store of collected samples, or by another tool): allocated counts of two profiles
   * of different epochs do not subtract. Default: 0.
   */
  readonly epoch?: number;
}
