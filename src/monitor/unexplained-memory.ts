// Memory that no allocation site explains: resident memory outside V8's heap and outside the external
// memory V8 is told of, read at every tick and judged over the window as a site is. A native addon's
// own allocations, a C++ leak, the allocator's fragmentation and a worker thread's heap grow here;
// the sampler sees none of them, so no site is blamed: the verdict is the process's.
import { getHeapStatistics } from 'node:v8';
import { horizonsOf } from '../growth/horizons.js';
import type { Horizon } from '../growth/horizons.js';
import { assessProcessTrend, wanderPerMs } from '../growth/process-trend.js';
import { quarterGrowth } from '../growth/trend.js';
import { ReadingTimeline } from '../growth/timeline.js';
import type { BytesSeries } from '../growth/series.js';

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
 * RSS minus what V8 and Node account for: V8's resident heap pages, V8's own malloc, and external
 * memory. Negative at times: `Buffer.alloc` takes zeroed pages the kernel maps only when written,
 * so external memory can exceed what it makes resident (measured: −96 MiB under a churn of large
 * Buffers). The judgement reads it as it is; the exporters show no less than 0.
 */
export function unexplainedBytes(figures: OutsideHeapFigures): number {
  return figures.rssBytes - figures.heapPhysicalBytes - figures.v8MallocedBytes - figures.externalBytes;
}

/** What the process-level verdict knows now. */
export interface UnexplainedMemory extends OutsideHeapFigures {
  /** {@link unexplainedBytes} at the latest reading (bytes; may be negative). */
  readonly unexplainedBytes: number;
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
 * Reads {@link unexplainedBytes} at every tick into a window of its own (the sites' timeline:
 * dense recent readings, older ones thinned out) and judges it over the sites' horizons with
 * `unexplainedGrowthThresholdBytes` in place of `growthThresholdBytes`: twice it over every
 * horizon shorter than the window. Raised over the first horizon where it rises; cleared once its
 * growth over that horizon and over the window are both under half their thresholds.
 */
export class UnexplainedMemoryWatch {
  private readonly timeline: ReadingTimeline;
  private readonly values: Float64Array;
  private readonly horizons: readonly Horizon[];
  /** Readings up to this long before a horizon's start still belong to it: timers run late. */
  private readonly toleranceMs: number;
  private latest: OutsideHeapFigures | undefined;
  /** {@link current} at the latest reading, once built. */
  private cached: UnexplainedMemory | undefined;
  private raisedOver: { horizon: Horizon; since: number } | undefined;
  /** Verdicts raised since the start. */
  raised = 0;
  /** When the latest verdict was raised (ms since the epoch), standing or cleared; undefined before the first. */
  lastRaisedAt: number | undefined;

  constructor(
    private readonly options: UnexplainedMemoryOptions,
    private readonly read: OutsideHeapReader = PROCESS_FIGURES,
  ) {
    this.timeline = new ReadingTimeline(Math.max(options.windowSlots, 3), options.windowMs);
    this.values = new Float64Array(this.timeline.capacity);
    // Horizons of 8 readings at least: over fewer, a ramp of a few seconds (a warm-up, V8 keeping
    // the pages of a heap that shrank) is most of the horizon, and one stretch is all its growth.
    this.horizons = horizonsOf(options.intervalMs, options.windowMs, options.unexplainedGrowthThresholdBytes).filter(
      (horizon, i, all) => horizon.ms >= MIN_HORIZON_INTERVALS * options.intervalMs || i === all.length - 1,
    );
    this.toleranceMs = options.intervalMs / 2;
  }

  /** Takes one reading at `now` and judges the window; says when the verdict changed. Throws as the figures' reader does. */
  observe(now: number): UnexplainedChange {
    const figures = this.read();
    const slot = this.timeline.add(now);
    this.values[slot] = unexplainedBytes(figures);
    this.latest = figures;
    this.cached = undefined;
    if (this.raisedOver) {
      if (!this.settled(this.raisedOver.horizon, now)) return undefined;
      this.raisedOver = undefined;
      return 'cleared';
    }
    if (now < this.options.warmupEndsAt) return undefined;
    const horizon = this.risingOver(now);
    if (!horizon) return undefined;
    this.raisedOver = { horizon, since: now };
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
    const horizonMs = this.raisedOver?.horizon.ms ?? this.options.windowMs;
    const series = this.seriesSince(this.startOf(horizonMs, now));
    const first = series.timestamps[0] ?? now;
    const assessment = assessProcessTrend(series, 0, wanderPerMs(this.seriesSince(this.startOf(this.options.windowMs, now))));
    return {
      ...figures,
      unexplainedBytes: unexplainedBytes(figures),
      growthBytes: quarterGrowth(series),
      horizonMs: this.raisedOver ? horizonMs : Math.min(horizonMs, Math.round(now - first)),
      noiseBytes: assessment?.noiseBytes ?? 0,
      suspected: this.raisedOver !== undefined,
      suspectedSince: this.raisedOver?.since,
    };
  }

  /** The readings since `since`, oldest first (the heap page and the tests read them too). */
  seriesSince(since = Number.NEGATIVE_INFINITY): BytesSeries {
    const slots = this.timeline.slotsSince(since);
    return { bytes: slots.map((slot) => this.values[slot] as number), timestamps: slots.map((slot) => this.timeline.timeOf(slot)) };
  }

  private startOf(horizonMs: number, now: number): number {
    return now - horizonMs - this.toleranceMs;
  }

  /** The shortest horizon, covered by the readings, over which the series rises; undefined if none. */
  private risingOver(now: number): Horizon | undefined {
    const whole = this.seriesSince(this.startOf(this.options.windowMs, now));
    const first = whole.timestamps[0];
    if (first === undefined) return undefined;
    // Growth is at most twice the range: a series that moved less than half the window's threshold
    // rises over no horizon, and a process at rest is judged no further.
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    for (const value of whole.bytes) [min, max] = [Math.min(min, value), Math.max(max, value)];
    if (max - min < this.options.unexplainedGrowthThresholdBytes / 2) return undefined;
    // The wander is measured over the whole window: a short horizon may hold no fall at all.
    const perMs = wanderPerMs(whole);
    for (const horizon of this.horizons) {
      if (first > now - horizon.ms + this.toleranceMs) break;
      const series = this.seriesSince(this.startOf(horizon.ms, now));
      if (assessProcessTrend(series, horizon.thresholdBytes, perMs)?.rising) return horizon;
    }
    return undefined;
  }

  /** Hysteresis: settled once the growth over the raising horizon and over the window are both under half their thresholds. */
  private settled(raisedOver: Horizon, now: number): boolean {
    const window = this.horizons.at(-1) as Horizon;
    return [raisedOver, window].every((horizon) => quarterGrowth(this.seriesSince(this.startOf(horizon.ms, now))) < horizon.thresholdBytes / 2);
  }
}
