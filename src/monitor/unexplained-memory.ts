// Memory that no allocation site explains, read at every tick and judged over the window as a site
// is: resident memory outside V8's heap and its ArrayBuffers — a native addon's own allocations
// (counted as external memory or not), a C++ leak, the allocator's fragmentation, a worker thread's
// heap — and the ArrayBuffer memory no sampled site holds. The sampler sees none of it, so no site
// is blamed: the verdict is the process's.
import { getHeapStatistics } from 'node:v8';
import { horizonsOf } from '../growth/horizons.js';
import type { Horizon } from '../growth/horizons.js';
import { ReadingTimeline } from '../growth/timeline.js';
import type { BytesSeries } from '../growth/series.js';
import type { ArrayBuffersPlaced } from '../growth/external-share.js';
import { JudgedFigure } from './judged-figure.js';

/** The process's memory as Node and V8 account for it, at one moment (bytes). */
export interface OutsideHeapFigures {
  /** Resident set size. */
  readonly rssBytes: number;
  /** V8's heap pages resident in memory (`total_physical_size`): committed pages not yet touched are not. */
  readonly heapPhysicalBytes: number;
  /** V8's own allocations with malloc (`malloced_memory`: compiler zones, tables). */
  readonly v8MallocedBytes: number;
  /** Memory of C++ objects bound to JavaScript objects, including ArrayBuffer contents (`external`). */
  readonly externalBytes: number;
  /** ArrayBuffer and Buffer contents, part of `externalBytes`. */
  readonly arrayBuffersBytes: number;
}

/** Reads the figures of this process; the tests of the rule give their own. */
export type OutsideHeapReader = () => OutsideHeapFigures;

const PROCESS_FIGURES: OutsideHeapReader = () => {
  const memory = process.memoryUsage();
  const heap = getHeapStatistics();
  return {
    rssBytes: memory.rss,
    heapPhysicalBytes: heap.total_physical_size,
    v8MallocedBytes: heap.malloced_memory,
    externalBytes: memory.external,
    arrayBuffersBytes: memory.arrayBuffers,
  };
};

/**
 * RSS minus what V8 and the sites can account for: V8's resident heap pages, V8's own malloc, and
 * the contents of ArrayBuffers (judged apart, see {@link UnexplainedMemoryWatch}). The rest of
 * external memory stays in: what an addon tells V8 it holds (an image library's pixels) is no
 * site's, and neither is a `WebAssembly.Memory` (external memory on Node 22 and 24, not on 26).
 * Negative at times: `Buffer.alloc` takes zeroed pages the kernel maps only when written, so
 * ArrayBuffer memory can exceed what it makes resident (measured: −96 MiB under a churn of large
 * Buffers). The judgement reads it as it is; the exporters show no less than 0.
 */
export function unexplainedBytes(figures: OutsideHeapFigures): number {
  return figures.rssBytes - figures.heapPhysicalBytes - figures.v8MallocedBytes - figures.arrayBuffersBytes;
}

/** What the process-level verdict knows now. */
export interface UnexplainedMemory extends OutsideHeapFigures {
  /** {@link unexplainedBytes} at the latest reading (bytes; may be negative). */
  readonly unexplainedBytes: number;
  /**
   * The memory `growthBytes`, `horizonMs` and `noiseBytes` are of: while a verdict raised on the
   * ArrayBuffer memory no site holds stands, `arrayBuffers`; else `native` ({@link unexplainedBytes}).
   */
  readonly kind: UnexplainedKind;
  /** Growth over `horizonMs`: the one that raised the verdict while it stands, else the window (bytes). */
  readonly growthBytes: number;
  /** The horizon of `growthBytes` (ms): as much of the window as has been read, before a whole one. */
  readonly horizonMs: number;
  /** The series' own wander over that horizon (bytes): what the growth stood out of. */
  readonly noiseBytes: number;
  /** Whether the memory no site explains grows in a sustained way now. */
  readonly suspected: boolean;
  /** When the verdict was raised (ms since the epoch), while it stands. */
  readonly suspectedSince: number | undefined;
}

/** The options the watch reads (the monitor's). */
export interface UnexplainedMemoryOptions {
  readonly intervalMs: number;
  readonly windowMs: number;
  /** Readings kept over the window (the sites' `windowSlots`). */
  readonly windowSlots: number;
  readonly unexplainedGrowthThresholdBytes: number;
  /** Until this time (`Date.now()`) no verdict is raised: the process's warm-up. */
  readonly warmupEndsAt: number;
}

/** Reading intervals in the shortest horizon judged. */
const MIN_HORIZON_INTERVALS = 8;

/** A change of verdict at one reading. */
export type UnexplainedChange = 'raised' | 'cleared' | undefined;

/**
 * The memory a verdict is about: `native`, the resident memory {@link unexplainedBytes} counts;
 * `arrayBuffers`, the contents of Buffers and ArrayBuffers that no sampled site holds.
 */
export type UnexplainedKind = 'native' | 'arrayBuffers';

/**
 * Reads {@link unexplainedBytes} and the ArrayBuffer memory at every tick into a window of their
 * own (the sites' timeline: dense recent readings, older ones thinned out) and judges each over the
 * sites' horizons with `unexplainedGrowthThresholdBytes` in place of `growthThresholdBytes`: twice
 * it over every horizon shorter than the window. Raised over the first horizon where one rises —
 * the ArrayBuffer memory only while no site's wrappers take its growth (a Buffer leak V8 has
 * sampled objects of is that site's, see `growth/external-share.ts`); cleared once the growth of
 * the one raised, over that horizon and over the window, is under half their thresholds.
 */
export class UnexplainedMemoryWatch {
  private readonly timeline: ReadingTimeline;
  private readonly native: JudgedFigure;
  /**
   * The ArrayBuffer memory the Buffer sampler places at no site. Buffers of a megabyte, a few a
   * second, put a few hundred bytes a second on V8's heap: V8 samples one of their objects about
   * once in twenty minutes at 512 KiB, so no site holds them and, before this, nothing judged them.
   */
  private readonly arrayBuffers: JudgedFigure;
  private latest: OutsideHeapFigures | undefined;
  /** {@link current} at the latest reading, once built. */
  private cached: UnexplainedMemory | undefined;
  private raisedOver: { kind: UnexplainedKind; horizon: Horizon; since: number } | undefined;
  /** The memory of a verdict cleared at the latest reading: what the cleared record is about. */
  private clearedKind: UnexplainedKind | undefined;
  /** Verdicts raised since the start. */
  raised = 0;
  /** When the latest verdict was raised (ms since the epoch), standing or cleared; undefined before the first. */
  lastRaisedAt: number | undefined;

  constructor(
    private readonly options: UnexplainedMemoryOptions,
    private readonly read: OutsideHeapReader = PROCESS_FIGURES,
  ) {
    this.timeline = new ReadingTimeline(Math.max(options.windowSlots, 3), options.windowMs);
    // Horizons of 8 readings at least: over fewer, a ramp of a few seconds (a warm-up, V8 keeping
    // the pages of a heap that shrank) is most of the horizon, and one stretch is all its growth.
    const horizons = horizonsOf(options.intervalMs, options.windowMs, options.unexplainedGrowthThresholdBytes).filter(
      (horizon, i, all) => horizon.ms >= MIN_HORIZON_INTERVALS * options.intervalMs || i === all.length - 1,
    );
    const figure = () => new JudgedFigure(this.timeline, horizons, options.unexplainedGrowthThresholdBytes, options.intervalMs);
    this.native = figure();
    this.arrayBuffers = figure();
  }

  /**
   * Takes one reading at `now` and judges the window; says when the verdict changed. `placed`: what
   * the sites make of the ArrayBuffer memory, when V8's sampler has been read. Throws as the
   * figures' reader does.
   */
  observe(now: number, placed?: ArrayBuffersPlaced): UnexplainedChange {
    const figures = this.read();
    const slot = this.timeline.add(now);
    this.native.set(slot, unexplainedBytes(figures));
    this.arrayBuffers.set(slot, placed?.unplacedBytes ?? figures.arrayBuffersBytes);
    this.latest = figures;
    this.cached = undefined;
    this.clearedKind = undefined;
    if (this.raisedOver) {
      // Cleared by its own figure settling only: a chance wrapper growth elsewhere must not make it come and go.
      const { kind, horizon } = this.raisedOver;
      if (!this.figureOf(kind).settled(horizon, now)) return undefined;
      this.raisedOver = undefined;
      this.clearedKind = kind;
      return 'cleared';
    }
    if (now < this.options.warmupEndsAt) return undefined;
    const raised = this.rising(now, placed);
    if (!raised) return undefined;
    this.raisedOver = { ...raised, since: now };
    this.lastRaisedAt = now;
    this.raised++;
    return 'raised';
  }

  /**
   * What the verdict knows at the latest reading; undefined before the first. Built once per
   * reading (~30 µs over 121 readings): a scrape asks for it once per metric.
   */
  current(): UnexplainedMemory | undefined {
    this.cached ??= this.build();
    return this.cached;
  }

  private build(): UnexplainedMemory | undefined {
    const figures = this.latest;
    const now = this.timeline.latestTimestamp;
    if (!figures || now === undefined) return undefined;
    const kind = this.raisedOver?.kind ?? this.clearedKind ?? 'native';
    const horizonMs = this.raisedOver?.horizon.ms ?? this.options.windowMs;
    const { growthBytes, noiseBytes, firstTimestamp = now } = this.figureOf(kind).growthOver(horizonMs, now);
    return {
      ...figures,
      unexplainedBytes: unexplainedBytes(figures),
      kind,
      growthBytes,
      horizonMs: this.raisedOver ? horizonMs : Math.min(horizonMs, Math.round(now - firstTimestamp)),
      noiseBytes,
      suspected: this.raisedOver !== undefined,
      suspectedSince: this.raisedOver?.since,
    };
  }

  /** The readings of {@link unexplainedBytes} since `since`, oldest first (the heap page and the tests read them too). */
  seriesSince(since = Number.NEGATIVE_INFINITY): BytesSeries {
    return this.native.seriesSince(since);
  }

  /**
   * The figure that rises now and over which horizon: the native one first; the ArrayBuffer memory
   * only while no site's wrappers take its growth.
   */
  private rising(now: number, placed: ArrayBuffersPlaced | undefined): { kind: UnexplainedKind; horizon: Horizon } | undefined {
    const native = this.native.risingOver(now);
    if (native) return { kind: 'native', horizon: native };
    if (placed?.growthShared) return undefined;
    const arrayBuffers = this.arrayBuffers.risingOver(now);
    return arrayBuffers && { kind: 'arrayBuffers', horizon: arrayBuffers };
  }

  private figureOf(kind: UnexplainedKind): JudgedFigure {
    return kind === 'native' ? this.native : this.arrayBuffers;
  }
}
