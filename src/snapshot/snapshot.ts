import { ErrorCode, HeapwatchError } from '../errors.js';
import { shareDeviation } from '../growth/share-noise.js';
import type { ReaderName } from '../v8/profile.js';
import type { Filter } from './filter.js';
import { passesFilters } from './filter.js';
import type { Group, GroupBy } from './group.js';
import { checkGroupBy, groupTraces, mapTraceback } from './group.js';
import { sharedResolver } from './source-map.js';
import type { SourceMapResolver } from './source-map.js';
import { compareDiffs, compareStatistics, Statistic, StatisticDiff } from './statistic.js';
import type { Trace } from './trace.js';
import type { Traceback } from './traceback.js';

/**
 * Memory the sampler cannot attribute to a site. V8's sampler sees the JavaScript heap only: the
 * contents of Buffers and ArrayBuffers live outside it (their small wrapper objects are sampled,
 * their backing stores are not). Read from `process.memoryUsage()` when the snapshot was taken.
 */
export interface UnattributedMemory {
  /** Memory of C++ objects bound to JavaScript objects, including ArrayBuffer contents (bytes). */
  readonly externalBytes: number;
  /** ArrayBuffer and SharedArrayBuffer contents, including all Buffers (bytes); part of `externalBytes`. */
  readonly arrayBuffersBytes: number;
}

/** What a snapshot is made of; see {@link Snapshot} for each field. */
export type SnapshotInit = Pick<
  Snapshot,
  'traces' | 'samplingIntervalBytes' | 'reader' | 'timestamp' | 'heapUsedBytes' | 'unattributed'
>;

/**
 * The live sampled allocations at one moment, like tracemalloc's `Snapshot`: a list of traces
 * (stack, estimated bytes, estimated count), grouped on demand by site, file or traceback.
 * Sizes are estimates from sampling; see `samplingIntervalBytes` for their precision.
 */
export class Snapshot {
  readonly traces: readonly Trace[];
  /** The sampler's mean interval when this was taken (bytes). */
  readonly samplingIntervalBytes: number;
  /** Which reader took it. */
  readonly reader: ReaderName;
  /** When it was taken, milliseconds since the epoch. */
  readonly timestamp: number;
  /** V8's used heap when it was taken (bytes), for comparison with the sampled total. */
  readonly heapUsedBytes: number;
  /** Memory the sampler cannot attribute to a site. */
  readonly unattributed: UnattributedMemory;
  private readonly resolver: SourceMapResolver;

  constructor(init: SnapshotInit, resolver: SourceMapResolver = sharedResolver) {
    this.traces = init.traces;
    this.samplingIntervalBytes = init.samplingIntervalBytes;
    this.reader = init.reader;
    this.timestamp = init.timestamp;
    this.heapUsedBytes = init.heapUsedBytes;
    this.unattributed = init.unattributed;
    this.resolver = resolver;
  }

  /** Estimated live bytes of all traces. */
  get size(): number {
    return this.traces.reduce((sum, trace) => sum + trace.size, 0);
  }

  /** Estimated live objects of all traces. */
  get count(): number {
    return this.traces.reduce((sum, trace) => sum + trace.count, 0);
  }

  /** Statistics per group, largest first (size, then count, then key). */
  statistics(groupBy: GroupBy): Statistic[] {
    checkGroupBy(groupBy);
    const groups = [...groupTraces(this.traces, groupBy, this.resolver).values()];
    // The ArrayBuffer memory, shared by sampled wrappers: one snapshot has no history, so by the
    // wrappers held now (the monitor shares growth by the wrappers that grew: growth/external-share.ts).
    const wrapperTotal = groups.reduce((sum, group) => sum + group.wrapperSize, 0);
    const samples = (bytes: number) => bytes / this.samplingIntervalBytes;
    const statistics = groups.map((group) => {
      const share = wrapperTotal > 0 ? group.wrapperSize / wrapperTotal : 0;
      const external = Math.round(share * this.unattributed.arrayBuffersBytes);
      const noise = share > 0 ? Math.round(this.unattributed.arrayBuffersBytes * shareDeviation(samples(group.wrapperSize), samples(wrapperTotal))) : 0;
      return new Statistic(groupBy, group.key, this.representative(group), group.size, group.count, external, noise);
    });
    return statistics.sort(compareStatistics);
  }

  /**
   * The difference from an `older` snapshot per group, biggest change first (absolute size
   * difference, size, absolute count difference, count, key). Groups present in only one snapshot
   * are included, with 0 for the other side.
   */
  compareTo(older: Snapshot, groupBy: GroupBy): StatisticDiff[] {
    checkGroupBy(groupBy);
    if (!(older instanceof Snapshot)) {
      throw new HeapwatchError(ErrorCode.INCOMPATIBLE_SNAPSHOTS, 'compareTo() expects a Snapshot to compare with');
    }
    if (older.samplingIntervalBytes !== this.samplingIntervalBytes) {
      throw new HeapwatchError(
        ErrorCode.INCOMPATIBLE_SNAPSHOTS,
        `Cannot compare snapshots taken with different "samplingIntervalBytes": ` +
          `this one ${this.samplingIntervalBytes}, the older one ${older.samplingIntervalBytes}`,
      );
    }
    const newGroups = groupTraces(this.traces, groupBy, this.resolver);
    const oldGroups = groupTraces(older.traces, groupBy, this.resolver);
    const diffs: StatisticDiff[] = [];
    for (const group of newGroups.values()) {
      const old = oldGroups.get(group.key);
      diffs.push(
        new StatisticDiff(
          groupBy,
          group.key,
          this.representative(group),
          group.size,
          group.size - (old?.size ?? 0),
          group.count,
          group.count - (old?.count ?? 0),
        ),
      );
    }
    for (const old of oldGroups.values()) {
      if (newGroups.has(old.key)) continue;
      diffs.push(new StatisticDiff(groupBy, old.key, this.representative(old), 0, -old.size, 0, -old.count));
    }
    return diffs.sort(compareDiffs);
  }

  /** A snapshot with only the traces that pass `filters` (tracemalloc's `filter_traces`). */
  filterTraces(filters: Iterable<Filter>): Snapshot {
    const list = [...filters];
    const resolve = this.resolver.resolve.bind(this.resolver);
    const traces = this.traces.filter((trace) => passesFilters(trace.traceback, list, resolve));
    const { samplingIntervalBytes, reader, timestamp, heapUsedBytes, unattributed } = this;
    return new Snapshot({ traces, samplingIntervalBytes, reader, timestamp, heapUsedBytes, unattributed }, this.resolver);
  }

  private representative(group: Group): Traceback {
    return mapTraceback(group.largest.traceback, this.resolver);
  }
}
