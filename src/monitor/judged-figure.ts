// One process-level figure (memory no site explains) read at every tick and judged over the window
// as a site's growth is, with the figure's own wander as its noise. The watch of the memory no
// site explains judges two on one timeline (see `unexplained-memory.ts`).
import type { Horizon } from '../growth/horizons.js';
import { assessProcessTrend, wanderPerMs } from '../growth/process-trend.js';
import type { ReadingTimeline } from '../growth/timeline.js';
import { quarterGrowth } from '../growth/trend.js';
import type { BytesSeries } from '../growth/series.js';

/** What a judged figure says of a horizon ending at the latest reading. */
export interface FigureGrowth {
  /** Growth over the horizon (bytes; see `quarterGrowth`). */
  readonly growthBytes: number;
  /** The figure's wander over the horizon (bytes): what a growth must stand out of. */
  readonly noiseBytes: number;
  /** The first reading within the horizon (ms since the epoch), undefined before the first. */
  readonly firstTimestamp: number | undefined;
}

/**
 * A figure's values on a timeline the caller advances (`ReadingTimeline.add`): the caller sets the
 * value of each new slot, and asks over which horizon the figure rises and whether it settled.
 */
export class JudgedFigure {
  private readonly values: Float64Array;
  /** Readings up to this long before a horizon's start still belong to it: timers run late. */
  private readonly toleranceMs: number;

  constructor(
    private readonly timeline: ReadingTimeline,
    /** The horizons judged, shortest first; the last is the window. */
    private readonly horizons: readonly Horizon[],
    /** Growth over the window that is judged at all (bytes): a figure that moved less than half of it rises over no horizon. */
    private readonly thresholdBytes: number,
    intervalMs: number,
  ) {
    this.values = new Float64Array(timeline.capacity);
    this.toleranceMs = intervalMs / 2;
  }

  /** Sets the value of a slot the timeline has just given. */
  set(slot: number, bytes: number): void {
    this.values[slot] = bytes;
  }

  /** The readings since `since`, oldest first. */
  seriesSince(since = Number.NEGATIVE_INFINITY): BytesSeries {
    const slots = this.timeline.slotsSince(since);
    return { bytes: slots.map((slot) => this.values[slot] as number), timestamps: slots.map((slot) => this.timeline.timeOf(slot)) };
  }

  /** Growth and wander over the `horizonMs` ending at `now`; the wander measured over the whole window. */
  growthOver(horizonMs: number, now: number): FigureGrowth {
    const series = this.seriesSince(this.startOf(horizonMs, now));
    const assessment = assessProcessTrend(series, 0, wanderPerMs(this.seriesSince(this.startOf(this.window.ms, now))));
    return { growthBytes: quarterGrowth(series), noiseBytes: assessment?.noiseBytes ?? 0, firstTimestamp: series.timestamps[0] };
  }

  /** The shortest horizon, covered by the readings, over which the figure rises; undefined if none. */
  risingOver(now: number): Horizon | undefined {
    const whole = this.seriesSince(this.startOf(this.window.ms, now));
    const first = whole.timestamps[0];
    if (first === undefined) return undefined;
    // Growth is at most twice the range: a figure that moved less than half the window's threshold
    // rises over no horizon, and a process at rest is judged no further.
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    for (const value of whole.bytes) [min, max] = [Math.min(min, value), Math.max(max, value)];
    if (max - min < this.thresholdBytes / 2) return undefined;
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
  settled(raisedOver: Horizon, now: number): boolean {
    return [raisedOver, this.window].every((horizon) => quarterGrowth(this.seriesSince(this.startOf(horizon.ms, now))) < horizon.thresholdBytes / 2);
  }

  private get window(): Horizon {
    return this.horizons.at(-1) as Horizon;
  }

  private startOf(horizonMs: number, now: number): number {
    return now - horizonMs - this.toleranceMs;
  }
}
