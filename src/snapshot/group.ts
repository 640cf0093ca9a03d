import { ErrorCode, HeapwatchError } from '../errors.js';
import { describeValue } from '../options/validate.js';
import { frameKey } from './frame.js';
import type { SourceMapResolver } from './source-map.js';
import type { Trace } from './trace.js';
import { Traceback } from './traceback.js';

/** What statistics are grouped by: the allocating function, its file, or the whole stack. */
export type GroupBy = 'site' | 'file' | 'traceback';

const GROUP_BY: readonly GroupBy[] = ['site', 'file', 'traceback'];

export function checkGroupBy(value: unknown): GroupBy {
  if (!GROUP_BY.includes(value as GroupBy)) {
    throw new HeapwatchError(
      ErrorCode.INVALID_GROUP_BY,
      `Invalid "groupBy": expected one of "site", "file", "traceback", received ${describeValue(value)}`,
    );
  }
  return value as GroupBy;
}

/** The sum of the traces of one group. */
export interface Group {
  readonly key: string;
  size: number;
  count: number;
  allocatedSize: number;
  allocatedCount: number;
  /** Of `size`, the bytes of ArrayBuffer wrappers (see `backing-stores.ts`). */
  wrapperSize: number;
  /** Sampled Buffers' bytes (see `Trace.externalSize`) and their variance. */
  externalSize: number;
  externalVariance: number;
  /** The largest trace of the group: its traceback represents the group. */
  largest: Trace;
}

/**
 * Sums traces per group. Site and file keys are taken after source mapping (a bundle maps to many
 * files); only the sites are resolved here, the representative tracebacks by {@link mapTraceback}.
 */
export function groupTraces(traces: readonly Trace[], groupBy: GroupBy, resolver: SourceMapResolver): Map<string, Group> {
  const groups = new Map<string, Group>();
  for (const trace of traces) {
    const key =
      groupBy === 'traceback'
        ? trace.traceback.key
        : groupBy === 'site'
          ? frameKey(resolver.resolve(trace.traceback.site))
          : resolver.resolve(trace.traceback.site).file;
    const group = groups.get(key);
    if (!group) {
      groups.set(key, { key, size: trace.size, count: trace.count, wrapperSize: trace.wrapperSize ?? 0, externalSize: trace.externalSize ?? 0, externalVariance: trace.externalVariance ?? 0, allocatedSize: trace.allocatedSize ?? 0, allocatedCount: trace.allocatedCount ?? 0, largest: trace });
      continue;
    }
    group.size += trace.size;
    group.count += trace.count;
    group.wrapperSize += trace.wrapperSize ?? 0;
    group.externalSize += trace.externalSize ?? 0;
    group.externalVariance += trace.externalVariance ?? 0;
    group.allocatedSize += trace.allocatedSize ?? 0;
    group.allocatedCount += trace.allocatedCount ?? 0;
    if (trace.size > group.largest.size || (trace.size === group.largest.size && (trace.allocatedSize ?? 0) > (group.largest.allocatedSize ?? 0))) group.largest = trace;
  }
  return groups;
}

/** The traceback with every frame source-mapped; the traceback itself when no frame maps elsewhere. */
export function mapTraceback(traceback: Traceback, resolver: SourceMapResolver): Traceback {
  const frames = traceback.frames.map((frame) => resolver.resolve(frame));
  return frames.every((frame, i) => frame === traceback.frames[i]) ? traceback : new Traceback(frames, traceback.siteIndex);
}
