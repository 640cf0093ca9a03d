import { shareDeviation } from './share-noise.js';
import { gatherOnStacks } from './stack-moves.js';
import type { GrowthWindow } from './window.js';

/** One site's part of the process's ArrayBuffer memory at the latest reading. */
export interface ExternalEstimate {
  /** Estimated ArrayBuffer memory (backing stores) held through the site's objects (bytes). */
  readonly externalBytes: number;
  /**
   * Standard deviation of `externalBytes` (bytes): the noise of the share it is taken by, and
   * with the Buffer sampler on, that share of the noise of what the sampler's estimate left over.
   */
  readonly noiseBytes: number;
  /**
   * The site's share of the growth of ArrayBuffer memory over the window (0 to 1): the part of
   * that growth its growth is judged with. 0 when its wrappers did not grow, or when those of a
   * site on one stack with it grew more (the growth of both is that site's).
   */
  readonly growthShare: number;
  /**
   * The standard deviation of `growthShare` (0 to 1): how far the few sampled wrappers it is taken
   * from may put it off. A site judged on its share is judged on this noise too: one sampled
   * wrapper of a request in flight must not take half a Buffer leak's growth.
   */
  readonly growthShareDeviation: number;
}

/** What the sites make of the process's ArrayBuffer memory at the latest reading of V8's sampler. */
export interface ArrayBuffersPlaced {
  /** The ArrayBuffer memory the Buffer sampler places at no site: all of it with the sampler off (bytes). */
  readonly unplacedBytes: number;
  /** Whether the growth of that memory goes to sites (some site's ArrayBuffer wrappers grew over the window). */
  readonly growthShared: boolean;
}

/**
 * Attributes the process's ArrayBuffer memory — exact, from `process.memoryUsage().arrayBuffers`
 * at each reading — to the sites whose sampled objects are ArrayBuffer wrappers (see
 * `snapshot/backing-stores.ts`), since V8's sampler never sees the backing stores themselves:
 * - its **growth** over the window goes to the sites whose wrappers grew — in the tick readings
 *   (seen in two in a row) and in the clean ones (no garbage) — in proportion to their growth: a
 *   Buffer leak's wrappers grow while the memory grows, a fixed ring of Buffers' do not;
 *   growth no site's wrappers account for yet (a leak's first wrapper is still unsampled: one
 *   Buffer of 16 KiB puts ~190 bytes on V8's heap) stays unattributed;
 * - the **rest** goes to the sites holding wrappers now, in proportion to their wrapper bytes.
 * Each share comes from few samples — at the default 512 KiB a sampled wrapper stands for ~5 000
 * others — and its noise is stated: the binomial deviation of the share ({@link shareDeviation})
 * times the bytes it shares. The estimate assumes a site's wrappers hold as much each as anyone's:
 * a site of small Buffers beside one of large ones is over-estimated (docs/concepts.md).
 *
 * Computed once per reading (the window tells when it changed), for the sites holding wrappers.
 */
export class ExternalShares {
  private computedAt: number | undefined;
  private estimates = new Map<string, ExternalEstimate>();

  constructor(
    private readonly window: GrowthWindow,
    /**
     * Readings without garbage (right after major GCs), when there are: a wrapper's growth counts
     * only once they show it too. Garbage of a wrapper's size from the HTTP parser, promoted and
     * not yet collected, once stayed two readings and took a Buffer leak's growth.
     */
    private readonly clean?: GrowthWindow,
  ) {}

  /** The site's estimate at the latest reading; undefined when it holds no wrapper and had none grow. */
  of(key: string, samplingIntervalBytes: number): ExternalEstimate | undefined {
    return this.all(samplingIntervalBytes).get(key);
  }

  /** Every site's estimate at the latest reading. */
  all(samplingIntervalBytes: number): ReadonlyMap<string, ExternalEstimate> {
    const latest = this.window.latestTimestamp;
    if (latest !== this.computedAt) {
      this.computedAt = latest;
      this.estimates = this.compute(samplingIntervalBytes);
    }
    return this.estimates;
  }

  /**
   * The ArrayBuffer memory at the latest reading that the Buffer sampler places at no site, and
   * whether sites' wrappers take its growth: what the process-level verdict judges when they do not
   * (`monitor/unexplained-memory.ts`). Undefined before the first reading.
   */
  placed(samplingIntervalBytes: number): ArrayBuffersPlaced | undefined {
    if (this.window.latestTimestamp === undefined) return undefined;
    let growthShared = false;
    for (const estimate of this.all(samplingIntervalBytes).values()) growthShared ||= estimate.growthShare > 0;
    return { unplacedBytes: this.window.outside.latest().arrayBuffersBytes, growthShared };
  }

  private compute(samplingIntervalBytes: number): Map<string, ExternalEstimate> {
    const estimates = new Map<string, ExternalEstimate>();
    const series = this.window.outside.arrayBuffersSeries();
    const { arrayBuffersBytes, totalWrapperBytes, sampledExternalNoiseBytes: levelNoiseBytes = 0 } = this.window.outside.latest();
    if (series.bytes.length === 0 || arrayBuffersBytes <= 0) return estimates;
    const since = series.timestamps[0] as number;
    const grownBytes = Math.max(0, arrayBuffersBytes - (series.bytes[0] as number));
    // Wrapper growth per site over the window, and wrappers now.
    const grown = new Map<string, number>();
    let totalGrown = 0;
    const holding = new Map<string, number>();
    const cleanEnds = this.clean?.outside.wrapperEndsSince(since, false);
    for (const [key, { first, latest }] of this.window.outside.wrapperEndsSince(since)) {
      if (latest > 0) holding.set(key, latest);
      const clean = cleanEnds?.get(key);
      const rose = cleanEnds === undefined ? latest - first : Math.min(latest - first, clean ? clean.latest - clean.first : 0);
      if (rose > 0) {
        grown.set(key, rose);
        totalGrown += rose;
      }
    }
    // The growth is shared only once some wrapper grew; the rest is shared by wrappers now.
    const growthPart = totalGrown > 0 ? grownBytes : 0;
    const levelPart = arrayBuffersBytes - growthPart;
    // Samples behind each share: a sampled small object stands for about one interval of bytes.
    const samples = (bytes: number) => bytes / samplingIntervalBytes;
    // The wrapper growth of sites on one stack goes to the one whose wrappers grew most: V8 charges
    // a keeping function's wrappers to it, then, once TurboFan inlines it, to its caller
    // (`stack-moves.ts`). A Buffer leak's first three samples split one at `queueBody`, two at
    // `placeOrder` (Node 24): neither share stood out of its noise until 95 s after the second.
    // Each judged with the stack's noise, a site with a third or a half of them was suspected
    // first, reported at that part of the leak's size (0.35–0.57 of it in 4 runs of 10). The
    // site's traceback holds the other.
    const grownOnStacks = gatherOnStacks(this.window, grown);
    const levelTotal = Math.max(totalWrapperBytes, [...holding.values()].reduce((a, b) => a + b, 0));
    // With the Buffer sampler on, the memory shared is what its estimate left over, with the
    // estimate's noise: at the latest reading for the level, at both ends for the growth.
    const growthNoiseBytes = growthPart > 0 ? this.window.outside.arrayBuffersGrowthNoise(since) : 0;
    for (const key of new Set([...holding.keys(), ...grown.keys()])) {
      const held = holding.get(key) ?? 0;
      const rose = grownOnStacks.get(key) ?? 0;
      const levelShare = levelTotal > 0 ? held / levelTotal : 0;
      const growthShare = totalGrown > 0 ? rose / totalGrown : 0;
      const levelNoise = held > 0 ? levelPart * shareDeviation(samples(held), samples(levelTotal)) : 0;
      const growthShareDeviation = rose > 0 ? shareDeviation(samples(rose), samples(totalGrown)) : 0;
      estimates.set(key, {
        externalBytes: Math.round(levelShare * levelPart + growthShare * growthPart),
        noiseBytes: Math.round(Math.hypot(levelNoise, growthPart * growthShareDeviation, levelShare * levelNoiseBytes, growthShare * growthNoiseBytes)),
        growthShare,
        growthShareDeviation,
      });
    }
    return estimates;
  }
}
