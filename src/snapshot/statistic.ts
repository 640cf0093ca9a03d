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
     * through the group's objects: the snapshot's `unattributed.arrayBuffersBytes` shared by the
     * group's sampled wrappers (see docs/concepts.md, "Outside V8's heap"). Apart from `size`,
     * which is V8's heap only. 0 when the group holds no sampled wrapper.
     */
    readonly externalSize = 0,
    /** The standard deviation of `externalSize` (bytes): the noise of the share it is taken by. */
    readonly externalNoise = 0,
  ) {}

  /** The allocating function: its name, file and declaration line and column. */
  get site(): Frame {
    return this.traceback.site;
  }

  /** tracemalloc's line, V8's heap only: `externalSize` is a field apart, with its noise. */
  toString(): string {
    return `${labelOf(this.groupBy, this.traceback)}: size=${formatSize(this.size)}, count=${this.count}${averageOf(this.size, this.count)}`;
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
  ) {}

  get site(): Frame {
    return this.traceback.site;
  }

  toString(): string {
    return (
      `${labelOf(this.groupBy, this.traceback)}: size=${formatSize(this.size)} (${formatSize(this.sizeDiff, true)}), ` +
      `count=${this.count} (${formatSignedCount(this.countDiff)})${averageOf(this.size, this.count)}`
    );
  }
}

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** tracemalloc's order for statistics: size, then count, descending; then the key, so the order is total. */
export function compareStatistics(a: Statistic, b: Statistic): number {
  return b.size - a.size || b.count - a.count || compareKeys(a.key, b.key);
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
