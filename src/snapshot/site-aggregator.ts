import type { ProfileNode } from '../v8/profile.js';
import type { Filter } from './filter.js';
import { passesFilters } from './filter.js';
import type { Frame } from './frame.js';
import { makesBackingStores } from './backing-stores.js';
import { frameKey, hasScript, isUserFrame, NATIVE_SITE } from './frame.js';
import type { FrameInterner } from './frame-interner.js';
import { mapTraceback } from './group.js';
import type { SourceMapResolver } from './source-map.js';
import { Traceback } from './traceback.js';
import { walkProfile } from './walk-profile.js';

/** One allocation site's live memory in one reading. */
export interface SiteReading {
  /** `file:line:column:function` of the (source-mapped) site, as `statistics('site')` keys it. */
  readonly key: string;
  /** Estimated live bytes allocated at the site. */
  readonly size: number;
  /** Estimated live objects allocated at the site. */
  readonly count: number;
  /** Of `size`, the bytes of ArrayBuffer wrappers (see `backing-stores.ts`); 0 when absent. */
  readonly wrapperBytes?: number;
  /**
   * Of `size`, the bytes of the Buffers the site made and still holds, sampled in JavaScript (see
   * `buffers/buffer-sampler.ts`); 0 when absent. The rest of `size` is V8's heap.
   */
  readonly sampledExternalBytes?: number;
  /** Standard deviation of `sampledExternalBytes` (bytes). */
  readonly sampledExternalNoiseBytes?: number;
  /** The site's stack holding the most bytes, source-mapped. Built when first read. */
  readonly traceback: Traceback;
}

/** A site as the aggregator read it: with every one of its stacks, for the routes on them. */
export interface SampledSite extends SiteReading {
  /** Estimated bytes the site allocated since the sampler started, live or not: 0 outside allocation mode. */
  readonly allocatedBytes: number;
  /** Estimated objects the site allocated since the sampler started: 0 outside allocation mode. */
  readonly allocatedObjects: number;
  /**
   * Every stack of the site with the bytes allocated there, frames innermost first as V8 gave them
   * (not source-mapped: positions in the code that runs). Built when asked, from this reading.
   */
  stacks(): Iterable<SampledStack>;
}

/** One stack of a site in one reading. */
export interface SampledStack {
  /** Innermost first, as V8 reported them (not source-mapped). */
  readonly frames: readonly Frame[];
  /** Estimated live bytes allocated with exactly this stack. */
  readonly bytes: number;
}

/** One reading of the sampler, summed per allocation site. */
export interface SiteReadings {
  readonly sites: ReadonlyMap<string, SampledSite>;
  /** Estimated live bytes of all sites. */
  readonly totalBytes: number;
  /** Bytes of ArrayBuffer wrappers of all sites: what each site's share of ArrayBuffer memory is taken of. */
  readonly totalWrapperBytes: number;
}

/** Tracebacks built at the previous reading, per site: reused when the site's stack is the same. */
interface BuiltTraceback {
  readonly raw: Traceback;
  readonly mapped: Traceback;
}

/**
 * Sums V8's call tree per allocation site in one walk, for the monitor's readings: the same
 * sums, keys and representative stacks as `takeSnapshot().statistics('site')` (a test holds the
 * two together), without a trace, a traceback or a statistic per stack. Only the tracebacks that
 * are read get built — the monitor reads those of the sites it tracks — and a site whose largest
 * stack is the same as at the previous reading gets the same Traceback object back (frames are
 * interned, so "the same" is an identity check). This is what keeps a tick near the cost of the
 * read itself (see BENCHMARKS.md, snapshot pause).
 */
export class SiteAggregator {
  private previous = new Map<string, BuiltTraceback>();
  private built = new Map<string, BuiltTraceback>();

  constructor(
    private readonly interner: FrameInterner,
    private readonly resolver: SourceMapResolver,
  ) {}

  aggregate(root: ProfileNode, filters: readonly Filter[] = []): SiteReadings {
    // Only the tracebacks built at the last reading are kept for reuse: memory follows the
    // number of sites the caller reads, not the number in the profile.
    this.previous = this.built;
    this.built = new Map();
    const stacks = new StackTable();
    const sites = new Map<string, AggregatedSite>();
    const resolve = (frame: Frame) => this.resolver.resolve(frame);
    let totalBytes = 0;
    let totalWrapperBytes = 0;
    // Along the current path: the node index, the depth of the innermost user frame, and whether
    // any frame so far has a script, per depth.
    const nodeAt: number[] = [];
    const siteDepthAt: number[] = [];
    // The depth of the innermost frame that makes no Buffers (Traceback's rule without user frames).
    const pastMakersDepthAt: number[] = [];
    const scriptAt: boolean[] = [];

    walkProfile(root, this.interner, (frame, depth, size, count, wrapperBytes, allocatedSize, allocatedCount) => {
      const index = stacks.add(frame, depth > 0 ? (nodeAt[depth - 1] as number) : -1);
      nodeAt[depth] = index;
      siteDepthAt[depth] = isUserFrame(frame) ? depth : depth > 0 ? (siteDepthAt[depth - 1] as number) : -1;
      pastMakersDepthAt[depth] = !makesBackingStores(frame) ? depth : depth > 0 ? (pastMakersDepthAt[depth - 1] as number) : -1;
      scriptAt[depth] = hasScript(frame) || (depth > 0 && (scriptAt[depth - 1] as boolean));
      if ((count === 0 && allocatedCount === 0) || (filters.length > 0 && !passesFilters(stacks.tracebackOf(index), filters, resolve))) return;
      // The innermost user frame, or when the stack holds none the innermost frame that makes no
      // Buffers (the innermost when all do), or the native site when no frame has a script
      // (Traceback's rule).
      const userDepth = siteDepthAt[depth] as number;
      const siteDepth = userDepth !== -1 ? userDepth : (pastMakersDepthAt[depth] as number);
      const siteFrame = !(scriptAt[depth] as boolean)
        ? NATIVE_SITE
        : stacks.frameOf(siteDepth === -1 ? index : (nodeAt[siteDepth] as number));
      const key = frameKey(this.resolver.resolve(siteFrame));
      const site = sites.get(key);
      if (!site) {
        sites.set(key, new AggregatedSite(key, size, count, wrapperBytes, allocatedSize, allocatedCount, index, stacks, this));
      } else {
        site.size += size;
        site.count += count;
        site.wrapperBytes += wrapperBytes;
        site.allocatedBytes += allocatedSize;
        site.allocatedObjects += allocatedCount;
        site.addStack(index, size);
        // The first of equal stacks stays, as groupTraces keeps it.
        if (size > site.largestSize || (size === site.largestSize && allocatedSize > site.largestAllocated)) {
          site.largestSize = size;
          site.largestAllocated = allocatedSize;
          site.largestNode = index;
        }
      }
      totalBytes += size;
      totalWrapperBytes += wrapperBytes;
    });
    return { sites, totalBytes, totalWrapperBytes };
  }

  /** The site's traceback: the one built at the previous reading when the stack is unchanged. */
  tracebackOf(key: string, node: number, stacks: StackTable): Traceback {
    const previous = this.previous.get(key);
    const raw = previous && stacks.isStack(node, previous.raw) ? previous.raw : stacks.tracebackOf(node);
    const built = previous?.raw === raw ? previous : { raw, mapped: mapTraceback(raw, this.resolver) };
    this.built.set(key, built);
    return built.mapped;
  }
}

/** A site being summed; its traceback is built from the stack table when first read. */
class AggregatedSite implements SampledSite {
  largestSize: number;
  /** Allocated bytes of the largest stack: what breaks a tie of live bytes, as groupTraces does. */
  largestAllocated: number;
  private built: Traceback | undefined;
  /** The nodes of the site's stacks and their bytes, side by side: two numbers per stack. */
  private readonly stackNodes: number[];
  private readonly stackBytes: number[];

  constructor(
    readonly key: string,
    public size: number,
    public count: number,
    public wrapperBytes: number,
    public allocatedBytes: number,
    public allocatedObjects: number,
    public largestNode: number,
    private readonly table: StackTable,
    private readonly aggregator: SiteAggregator,
  ) {
    this.largestSize = size;
    this.largestAllocated = allocatedBytes;
    this.stackNodes = [largestNode];
    this.stackBytes = [size];
  }

  addStack(node: number, size: number): void {
    this.stackNodes.push(node);
    this.stackBytes.push(size);
  }

  get traceback(): Traceback {
    this.built ??= this.aggregator.tracebackOf(this.key, this.largestNode, this.table);
    return this.built;
  }

  *stacks(): Iterable<SampledStack> {
    for (let i = 0; i < this.stackNodes.length; i++) {
      yield { frames: this.table.framesOf(this.stackNodes[i] as number), bytes: this.stackBytes[i] as number };
    }
  }
}

/** The visited nodes of one profile as parent links, so any node's stack can be rebuilt later. */
class StackTable {
  private readonly frames: Frame[] = [];
  private readonly parents: number[] = [];

  add(frame: Frame, parent: number): number {
    this.frames.push(frame);
    this.parents.push(parent);
    return this.frames.length - 1;
  }

  frameOf(node: number): Frame {
    return this.frames[node] as Frame;
  }

  /** The node's stack, innermost frame first. */
  tracebackOf(node: number): Traceback {
    return new Traceback(this.framesOf(node));
  }

  /** The node's frames, innermost first. */
  framesOf(node: number): Frame[] {
    const frames: Frame[] = [];
    for (let i = node; i !== -1; i = this.parents[i] as number) frames.push(this.frames[i] as Frame);
    return frames;
  }

  /** Whether the node's stack is exactly the traceback's frames (interned frames: identity). */
  isStack(node: number, traceback: Traceback): boolean {
    let i = node;
    for (const frame of traceback.frames) {
      if (i === -1 || this.frames[i] !== frame) return false;
      i = this.parents[i] as number;
    }
    return i === -1;
  }
}
