import type { Filter } from '../snapshot/filter.js';
import { passesFilters } from '../snapshot/filter.js';
import type { SampledSite, SampledStack, SiteReadings } from '../snapshot/site-aggregator.js';
import type { BufferSite } from './buffer-sites.js';

/**
 * A site of one reading with the Buffers it made and still holds (sampled in JavaScript: see
 * `buffer-sampler.ts`) added to its V8 heap bytes: a site is judged on both together.
 */
class SiteWithBuffers implements SampledSite {
  readonly key: string;
  readonly size: number;
  readonly count: number;
  /**
   * None: the site's Buffers are estimated from their own samples, so its wrappers take no share
   * of the ArrayBuffer memory left (no Buffer counted twice).
   */
  readonly wrapperBytes = 0;
  readonly sampledExternalBytes: number;
  readonly sampledExternalNoiseBytes: number;
  readonly allocatedBytes: number;
  readonly allocatedObjects: number;

  constructor(
    private readonly heap: SampledSite | undefined,
    private readonly buffers: BufferSite,
  ) {
    this.key = buffers.key;
    this.size = (heap?.size ?? 0) + buffers.bytes;
    this.count = heap?.count ?? 0;
    this.sampledExternalBytes = buffers.bytes;
    this.sampledExternalNoiseBytes = buffers.noiseBytes;
    this.allocatedBytes = heap?.allocatedBytes ?? 0;
    this.allocatedObjects = heap?.allocatedObjects ?? 0;
  }

  get traceback() {
    return this.heap?.traceback ?? this.buffers.traceback;
  }

  *stacks(): Iterable<SampledStack> {
    if (this.heap) yield* this.heap.stacks();
    yield* this.buffers.stacks;
  }
}

/** A reading's sites with the sampled Buffers added, and what is left of the ArrayBuffer memory. */
export interface ReadingsWithBuffers extends SiteReadings {
  /**
   * The process's ArrayBuffer memory minus the sampled Buffers' estimate (bytes, at least 0): what
   * the wrapper share attributes (socket chunks, fs and zlib output, typed arrays, the pool).
   */
  readonly arrayBuffersBytes: number;
  /** The sampled Buffers' estimate, all sites together (bytes). */
  readonly sampledExternalBytes: number;
  /**
   * The standard deviation of that estimate (bytes): `arrayBuffersBytes` has it too, as the
   * estimate was taken from it — what a wrapper's share of its growth must be judged with.
   */
  readonly sampledExternalNoiseBytes: number;
}

/**
 * Adds each site's sampled Buffers to a reading of V8's sampler: to a site it holds, or as a site
 * of its own when V8 has sampled none of its objects yet (a Buffer of 16 KiB puts ~190 bytes on
 * V8's heap: one sample per ~2 700 such Buffers at 512 KiB). Sites the filters leave out are left
 * out. The reading's own map is not changed (it is kept for the next unchanged tick).
 */
export function withBuffers(
  readings: SiteReadings,
  arrayBuffersBytes: number,
  buffers: ReadonlyMap<string, BufferSite>,
  filters: readonly Filter[],
): ReadingsWithBuffers {
  if (buffers.size === 0) return { ...readings, arrayBuffersBytes, sampledExternalBytes: 0, sampledExternalNoiseBytes: 0 };
  const sites = new Map<string, SampledSite>(readings.sites);
  let { totalBytes, totalWrapperBytes } = readings;
  let sampled = 0;
  let variance = 0;
  for (const site of buffers.values()) {
    if (filters.length > 0 && !passesFilters(site.traceback, filters)) continue;
    const heap = readings.sites.get(site.key);
    sites.set(site.key, new SiteWithBuffers(heap, site));
    totalBytes += site.bytes;
    totalWrapperBytes -= heap?.wrapperBytes ?? 0;
    sampled += site.bytes;
    variance += site.noiseBytes ** 2;
  }
  return {
    sites,
    totalBytes,
    totalWrapperBytes,
    arrayBuffersBytes: Math.max(0, arrayBuffersBytes - sampled),
    sampledExternalBytes: sampled,
    sampledExternalNoiseBytes: Math.sqrt(variance),
  };
}
