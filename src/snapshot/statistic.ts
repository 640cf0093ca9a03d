import { displayPath } from '../format/path.js';
import { formatSignedCount, formatSize } from '../format/size.js';
import type { Frame } from './frame.js';
import { NATIVE_SITE, sitePosition } from './frame.js';
import type { GroupBy } from './group.js';
import type { Traceback } from './traceback.js';

/** `file:line` of the site for site and traceback groups, `file` alone for file groups. */
function labelOf(groupBy: GroupBy, traceback: Traceback): string {
  const { site } = traceback;
  // What no JavaScript function allocated is named as such; a stack of built-ins only (no script
  // at all) has no file to name.
  if (site === NATIVE_SITE) return site.functionName;
  if (site.file === '') return '<builtin>';
  return groupBy === 'file' ? displayPath(site.file) : `${displayPath(site.file)}:${sitePosition(site)}`;
}

function averageOf(size: number, count: number): string {
  return count > 0 ? `, average=${formatSize(size / count)}` : '';
}

/**
 * The share of a group's allocated bytes still live: near 1 for what is kept (a leak, a cache),
 * near 0 for churn. Undefined without allocation data or when nothing was allocated.
 */
export function survivalOf(size: number, allocatedSize: number | undefined): number | undefined {
  if (allocatedSize === undefined || allocatedSize <= 0) return undefined;
  // Both are estimates from the same samples: a live sample is an allocated one, so the ratio
  // is at most 1 but for rounding.
  return Math.min(1, size / allocatedSize);
}

function allocatedOf(size: number, allocatedSize: number | undefined, allocatedCount: number | undefined, diff?: number): string {
  if (allocatedSize === undefined) return '';
  const survival = survivalOf(size, allocatedSize);
  const change = diff === undefined ? '' : ` (${formatSize(diff, true)})`;
  return `, allocated=${formatSize(allocatedSize)}${change} in ${allocatedCount ?? 0}, survival=${survival === undefined ? '-' : `${(survival * 100).toFixed(1)}%`}`;
}

/**
 * Live memory of one group — a site, a file or a whole stack — in one snapshot, like
 * tracemalloc's `Statistic`. `String(stat)` prints tracemalloc's line:
 * `examples/tracemalloc.mjs:5: size=1.2 MiB, count=10000, average=120 B`.
 */
export class Statistic {
  constructor(
    /** What the statistics were grouped by. */
    readonly groupBy: GroupBy,
    /** Identifies the group: `file:line:column:function` for a site, the path for a file, every frame for a traceback. */
    readonly key: string,
    /** The stack holding the most bytes in this group (source-mapped); its `site` is the group's site. */
    readonly traceback: Traceback,
    /** Estimated live bytes. */
    readonly size: number,
    /** Estimated live objects. */
    readonly count: number,
    /**
     * Estimated ArrayBuffer memory (Buffer and typed-array contents, outside V8's heap) held
     * through the group's objects: with `bufferSampling: true`, the Buffers sampled at the group
     * that are still alive, plus the snapshot's `unattributed.arrayBuffersBytes` those leave (all of
     * it with the sampler off) shared by the group's sampled wrappers (see docs/concepts.md,
     * "Outside V8's heap"). Apart from `size`, which is V8's heap only. 0 when the group holds
     * neither.
     */
    readonly externalSize = 0,
    /** The standard deviation of `externalSize` (bytes): the noise of the share it is taken by, and of the Buffer sampler's estimate. */
    readonly externalNoise = 0,
    /**
     * Estimated bytes allocated since the sampler started, live or collected since: from a
     * snapshot in allocation mode (Node 26, `allocations: true`), else undefined.
     */
    readonly allocatedSize?: number,
    /** Estimated objects allocated since the sampler started; undefined as `allocatedSize`. */
    readonly allocatedCount?: number,
  ) {}

  /** The allocating function: its name, file and declaration line and column. */
  get site(): Frame {
    return this.traceback.site;
  }

  /** The share of the allocated bytes still live (0–1); undefined without allocation data. See {@link survivalOf}. */
  get survival(): number | undefined {
    return survivalOf(this.size, this.allocatedSize);
  }

  /** tracemalloc's line, V8's heap only: `externalSize` is a field apart, with its noise. */
  toString(): string {
    return (
      `${labelOf(this.groupBy, this.traceback)}: size=${formatSize(this.size)}, count=${this.count}${averageOf(this.size, this.count)}` +
      allocatedOf(this.size, this.allocatedSize, this.allocatedCount)
    );
  }
}

/**
 * The difference of one group between two snapshots, like tracemalloc's `StatisticDiff`.
 * `String(diff)` prints `examples/tracemalloc.mjs:5: size=1.2 MiB (+1.2 MiB), count=10000 (+10000), average=120 B`.
 */
export class StatisticDiff {
  constructor(
    readonly groupBy: GroupBy,
    readonly key: string,
    /** The stack holding the most bytes in this group, from the newer snapshot when the group is in it. */
    readonly traceback: Traceback,
    /** Estimated live bytes in the newer snapshot. */
    readonly size: number,
    /** Newer minus older estimated live bytes. */
    readonly sizeDiff: number,
    /** Estimated live objects in the newer snapshot. */
    readonly count: number,
    /** Newer minus older estimated live objects. */
    readonly countDiff: number,
    /** Estimated bytes allocated since the sampler started, in the newer snapshot; undefined without allocation data. */
    readonly allocatedSize?: number,
    /** Newer minus older allocated bytes: what the group allocated between the two snapshots. */
    readonly allocatedSizeDiff?: number,
    /** Estimated objects allocated since the sampler started, in the newer snapshot. */
    readonly allocatedCount?: number,
    /** Newer minus older allocated objects. */
    readonly allocatedCountDiff?: number,
  ) {}

  get site(): Frame {
    return this.traceback.site;
  }

  /** The share of the bytes allocated between the two snapshots still live in the newer one, when known (0–1). */
  get survival(): number | undefined {
    return this.allocatedSizeDiff === undefined ? undefined : survivalOf(Math.max(0, this.sizeDiff), this.allocatedSizeDiff);
  }

  toString(): string {
    return (
      `${labelOf(this.groupBy, this.traceback)}: size=${formatSize(this.size)} (${formatSize(this.sizeDiff, true)}), ` +
      `count=${this.count} (${formatSignedCount(this.countDiff)})${averageOf(this.size, this.count)}` +
      allocatedOf(this.size, this.allocatedSize, this.allocatedCount, this.allocatedSizeDiff)
    );
  }
}

/** What statistics and differences are ordered by: live bytes (tracemalloc's order) or allocated bytes. */
export type StatisticOrder = 'live' | 'allocated';

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** tracemalloc's order for statistics: size, then count, descending; then the key, so the order is total. */
export function compareStatistics(a: Statistic, b: Statistic): number {
  return b.size - a.size || b.count - a.count || compareKeys(a.key, b.key);
}

/** Allocated bytes, then allocated objects, descending; then tracemalloc's order. */
export function compareAllocated(a: Statistic, b: Statistic): number {
  return (b.allocatedSize ?? 0) - (a.allocatedSize ?? 0) || (b.allocatedCount ?? 0) - (a.allocatedCount ?? 0) || compareStatistics(a, b);
}

/** Bytes allocated between the two snapshots, then allocated bytes, descending; then tracemalloc's order. */
export function compareAllocatedDiffs(a: StatisticDiff, b: StatisticDiff): number {
  return (
    Math.abs(b.allocatedSizeDiff ?? 0) - Math.abs(a.allocatedSizeDiff ?? 0) ||
    (b.allocatedSize ?? 0) - (a.allocatedSize ?? 0) ||
    compareDiffs(a, b)
  );
}

/** tracemalloc's order for differences: absolute size difference, size, absolute count difference, count, key. */
export function compareDiffs(a: StatisticDiff, b: StatisticDiff): number {
  return (
    Math.abs(b.sizeDiff) - Math.abs(a.sizeDiff) ||
    b.size - a.size ||
    Math.abs(b.countDiff) - Math.abs(a.countDiff) ||
    b.count - a.count ||
    compareKeys(a.key, b.key)
  );
}
