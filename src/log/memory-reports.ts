import type { StatisticDiff } from '../snapshot/statistic.js';
import type { SiteReport } from './site-report.js';

// What the process-level records carry (see `log/leak-log.ts`): the figures heapwatch has near a
// memory limit, V8's or the container's, and when the memory no site explains grows.

/** What heapwatch knows of the process near a memory limit, V8's or the container's. Bytes unless said. */
export interface NearLimitFigures {
  readonly heapUsedBytes: number;
  readonly heapLimitBytes: number;
  readonly externalBytes: number;
  readonly arrayBuffersBytes: number;
  readonly rssBytes: number;
  readonly samplingIntervalBytes: number;
  /** The time the monitor's readings span, up to the last one (ms; taken at the limit when it could be). */
  readonly spanMs: number;
  /** The sites that grew most over that span, largest growth first. */
  readonly growing: readonly StatisticDiff[];
  readonly suspects: readonly SiteReport[];
}

/**
 * What heapwatch knows when V8's heap nears its limit (`heapLimitBytes`: its limit before V8
 * raised it to make room); see `LeakLog.nearHeapLimit`.
 */
export interface NearLimitReport extends NearLimitFigures {
  /** Where the pprof profile is being written, when `outOfMemoryProfileDir` is set. */
  readonly profilePath: string | undefined;
}

/**
 * What heapwatch knows when RSS passes a fraction of the container's memory limit; see
 * `LeakLog.memoryNearLimit`.
 */
export interface MemoryNearLimitReport extends NearLimitFigures {
  /** The cgroup's memory limit, where the kernel's OOM killer ends the process. */
  readonly memoryLimitBytes: number;
  /** The fraction of the limit RSS passed (`memoryNearLimitFraction`). */
  readonly fraction: number;
}

/**
 * What heapwatch knows when the memory no site explains grows in a sustained way; see
 * `LeakLog.unexplainedGrowth`. The growing sites are context: none of them holds it.
 */
export interface UnexplainedGrowthReport extends Pick<NearLimitFigures, 'growing' | 'suspects' | 'spanMs' | 'rssBytes' | 'externalBytes' | 'arrayBuffersBytes'> {
  /** RSS minus V8's resident heap pages, V8's own malloc and ArrayBuffer contents, now. */
  readonly unexplainedBytes: number;
  /** The memory that grew: `native` (`unexplainedBytes`), or `arrayBuffers` (ArrayBuffer contents no sampled site holds). */
  readonly kind: 'native' | 'arrayBuffers';
  /** Its growth over `horizonMs`. */
  readonly growthBytes: number;
  /** The horizon it rose over (ms). */
  readonly horizonMs: number;
  /** Its own wander over that horizon: what the growth stood out of. */
  readonly noiseBytes: number;
  /** V8's heap pages resident in memory. */
  readonly heapPhysicalBytes: number;
  /** V8's own malloc. */
  readonly v8MallocedBytes: number;
}
