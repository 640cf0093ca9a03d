import { ErrorCode, HeapwatchError } from '../errors.js';
import { shareDeviation } from '../growth/share-noise.js';
import type { ReaderName } from '../v8/profile.js';
import type { Filter } from './filter.js';
import { passesFilters } from './filter.js';
import type { Group, GroupBy } from './group.js';
import { checkGroupBy, groupTraces, mapTraceback } from './group.js';
import { sharedResolver } from './source-map.js';
import type { SourceMapResolver } from './source-map.js';
import { compareAllocated, compareAllocatedDiffs, compareDiffs, compareStatistics, Statistic, StatisticDiff } from './statistic.js';
import type { StatisticOrder } from './statistic.js';
import { describeValue } from '../options/validate.js';
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
> &
  Partial<Pick<Snapshot, 'allocations' | 'epoch' | 'allocationsUnavailable'>>;

function checkOrder(value: unknown): StatisticOrder {
  if (value !== 'live' && value !== 'allocated') {
    throw new HeapwatchError(ErrorCode.INVALID_OPTION, `Invalid "order": expected "live" or "allocated", received ${describeValue(value)}`);
  }
  return value;
}

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
  /**
   * Whether the traces carry allocated bytes and objects (`allocatedSize`, `allocatedCount`):
   * taken in allocation mode (Node 26 and later, `allocations: true`). Default: false.
   */
  readonly allocations: boolean;
  /** Why the snapshot has no allocation data, when it has none (see `allocations`). */
  readonly allocationsUnavailable: string | undefined;
  /**
   * The sampler's fresh starts before this snapshot was taken: allocated bytes of two snapshots
   * subtract only within one epoch (heapwatch starts the sampler over to bound V8's store of
   * collected samples). Default: 0.
   */
  readonly epoch: number;
  private readonly resolver: SourceMapResolver;

  constructor(init: SnapshotInit, resolver: SourceMapResolver = sharedResolver) {
    this.traces = init.traces;
    this.samplingIntervalBytes = init.samplingIntervalBytes;
    this.reader = init.reader;
    this.timestamp = init.timestamp;
    this.heapUsedBytes = init.heapUsedBytes;
    this.unattributed = init.unattributed;
    this.allocations = init.allocations ?? false;
    this.allocationsUnavailable = this.allocations ? undefined : (init.allocationsUnavailable ?? 'taken without allocation data');
    this.epoch = init.epoch ?? 0;
    this.resolver = resolver;
  }

  /** Estimated bytes allocated by all traces since the sampler started; undefined without allocation data. */
  get allocatedSize(): number | undefined {
    return this.allocations ? this.traces.reduce((sum, trace) => sum + (trace.allocatedSize ?? 0), 0) : undefined;
  }

  private requireAllocations(what: string): void {
    if (!this.allocations) {
      throw new HeapwatchError(ErrorCode.ALLOCATIONS_UNAVAILABLE, `${what} needs allocation data, and this snapshot has none: ${this.allocationsUnavailable}`);
    }
  }

  /** Estimated live bytes of all traces. */
  get size(): number {
    return this.traces.reduce((sum, trace) => sum + trace.size, 0);
  }

  /** Estimated live objects of all traces. */
  get count(): number {
    return this.traces.reduce((sum, trace) => sum + trace.count, 0);
  }

  /**
   * Statistics per group, largest first (size, then count, then key); with `order` `'allocated'`,
   * the most allocating first (allocated bytes, then that order) — which needs allocation data
   * (`HEAPWATCH_ERR_ALLOCATIONS_UNAVAILABLE` otherwise, with the reason).
   */
  statistics(groupBy: GroupBy, order: StatisticOrder = 'live'): Statistic[] {
    checkGroupBy(groupBy);
    if (checkOrder(order) === 'allocated') this.requireAllocations("statistics(groupBy, 'allocated')");
    const groups = [...groupTraces(this.traces, groupBy, this.resolver).values()];
    // The ArrayBuffer memory the Buffer sampler left (all of it with the sampler off), shared by
    // sampled wrappers: one snapshot has no history, so by the wrappers held now (the monitor shares
    // growth by the wrappers that grew: growth/external-share.ts). A group's sampled Buffers are its own.
    const wrapperTotal = groups.reduce((sum, group) => sum + group.wrapperSize, 0);
    const left = Math.max(0, this.unattributed.arrayBuffersBytes - groups.reduce((sum, group) => sum + group.externalSize, 0));
    const samples = (bytes: number) => bytes / this.samplingIntervalBytes;
    const statistics = groups.map((group) => {
      const share = wrapperTotal > 0 ? group.wrapperSize / wrapperTotal : 0;
      const external = Math.round(group.externalSize + share * left);
      const shareNoise = share > 0 ? left * shareDeviation(samples(group.wrapperSize), samples(wrapperTotal)) : 0;
      const noise = Math.round(Math.hypot(shareNoise, Math.sqrt(group.externalVariance)));
      return this.allocations
        ? new Statistic(groupBy, group.key, this.representative(group), group.size, group.count, external, noise, group.allocatedSize, group.allocatedCount)
        : new Statistic(groupBy, group.key, this.representative(group), group.size, group.count, external, noise);
    });
    return statistics.sort(order === 'allocated' ? compareAllocated : compareStatistics);
  }

  /**
   * The difference from an `older` snapshot per group, biggest change first (absolute size
   * difference, size, absolute count difference, count, key). Groups present in only one snapshot
   * are included, with 0 for the other side. With `order` `'allocated'`, the groups that allocated
   * most between the two snapshots come first; both need allocation data, from one epoch.
   */
  compareTo(older: Snapshot, groupBy: GroupBy, order: StatisticOrder = 'live'): StatisticDiff[] {
    checkGroupBy(groupBy);
    if (!(older instanceof Snapshot)) {
      throw new HeapwatchError(ErrorCode.INCOMPATIBLE_SNAPSHOTS, 'compareTo() expects a Snapshot to compare with');
    }
    if (checkOrder(order) === 'allocated') {
      this.requireAllocations("compareTo(older, groupBy, 'allocated')");
      older.requireAllocations("compareTo(older, groupBy, 'allocated') (the older snapshot)");
    }
    // Allocated bytes subtract only when both snapshots count from the same start of the sampler.
    const withAllocations = this.allocations && older.allocations && this.epoch === older.epoch;
    if (order === 'allocated' && !withAllocations) {
      throw new HeapwatchError(
        ErrorCode.INCOMPATIBLE_SNAPSHOTS,
        `Cannot compare allocated bytes across a restart of the sampler: this snapshot is of epoch ${this.epoch}, the older one of ${older.epoch}`,
      );
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
      const traceback = this.representative(group);
      const sizeDiff = group.size - (old?.size ?? 0);
      const countDiff = group.count - (old?.count ?? 0);
      diffs.push(
        withAllocations
          ? new StatisticDiff(groupBy, group.key, traceback, group.size, sizeDiff, group.count, countDiff,
              group.allocatedSize, group.allocatedSize - (old?.allocatedSize ?? 0), group.allocatedCount, group.allocatedCount - (old?.allocatedCount ?? 0))
          : new StatisticDiff(groupBy, group.key, traceback, group.size, sizeDiff, group.count, countDiff),
      );
    }
    for (const old of oldGroups.values()) {
      if (newGroups.has(old.key)) continue;
      // Allocated counts never fall within an epoch: a group gone from the newer snapshot allocated nothing since.
      diffs.push(
        withAllocations
          ? new StatisticDiff(groupBy, old.key, this.representative(old), 0, -old.size, 0, -old.count, old.allocatedSize, 0, old.allocatedCount, 0)
          : new StatisticDiff(groupBy, old.key, this.representative(old), 0, -old.size, 0, -old.count),
      );
    }
    return diffs.sort(order === 'allocated' ? compareAllocatedDiffs : compareDiffs);
  }

  /** A snapshot with only the traces that pass `filters` (tracemalloc's `filter_traces`). */
  filterTraces(filters: Iterable<Filter>): Snapshot {
    const list = [...filters];
    const resolve = this.resolver.resolve.bind(this.resolver);
    const traces = this.traces.filter((trace) => passesFilters(trace.traceback, list, resolve));
    const { samplingIntervalBytes, reader, timestamp, heapUsedBytes, unattributed, allocations, allocationsUnavailable, epoch } = this;
    return new Snapshot(
      { traces, samplingIntervalBytes, reader, timestamp, heapUsedBytes, unattributed, allocations, allocationsUnavailable, epoch },
      this.resolver,
    );
  }

  private representative(group: Group): Traceback {
    return mapTraceback(group.largest.traceback, this.resolver);
  }
}
