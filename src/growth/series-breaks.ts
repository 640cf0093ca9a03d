import { quarterFit } from './trend.js';
import type { GrowthWindow } from './window.js';

/**
 * Breaks in the sites' series where V8's sampler started over. A start-over (heapwatch's own, past
 * `MAX_COLLECTED_SAMPLES` in allocation mode; another tool's; or heapwatch's after another tool
 * stopped the sampler) forgets every live sample: each site's live bytes fall to what it allocated
 * since and still holds, then rise back as it allocates. Compared across the break, a site that
 * holds its memory would show a drop (a suspect "settling"), and a cache whose entries turn over
 * would show a rise as steep as a leak's while it refills — a false alarm at every start-over.
 *
 * So at a break every series starts anew (readings on either side never compare), suspects stay
 * suspects until the horizon that raised them is covered again, and a site that was not rising at
 * the break is not judged while it refills: its series starts anew once more when it is back at
 * the level it held before (its refill is what the start-over hid, not growth). A site that was
 * still rising at the break is judged from the break on: its refill is its leak continuing.
 */
export class SeriesBreaks {
  private epoch: number | undefined;
  /** When the latest break was seen (the time of the first reading after it). */
  lastBreakAt = Number.NEGATIVE_INFINITY;
  /** Breaks seen since the start. */
  count = 0;
  /** Sites refilling after the latest break, with the live bytes they held before it. Bounded by the tracked sites. */
  private readonly refilling = new Map<string, number>();

  constructor(
    /** The tick readings' window first (its levels are the ones kept), then the clean readings'. */
    private readonly windows: readonly [GrowthWindow, ...GrowthWindow[]],
    /**
     * A site whose last quarter stepped up by at least this much over its series before the break
     * was still rising (bytes): the shortest horizon's step of `assessTrend`.
     */
    private readonly risingStepBytes: number,
    private readonly isSuspect: (key: string) => boolean,
  ) {}

  /**
   * Before a reading of sampler epoch `epoch`, taken at `timestamp`, enters the windows;
   * `samplingIntervalBytes`: the interval V8 sampled at, which sets the noise of every estimate.
   */
  observe(epoch: number, timestamp: number, samplingIntervalBytes: number): void {
    const previous = this.epoch;
    this.epoch = epoch;
    if (previous === undefined || epoch === previous) return;
    const [window] = this.windows;
    this.refilling.clear();
    for (const key of window.keys()) {
      if (this.isSuspect(key)) continue;
      const level = window.latestBytesOf(key);
      if (level > 0 && !this.wasRising(window, key, level, samplingIntervalBytes)) this.refilling.set(key, level);
    }
    for (const each of this.windows) each.restart(timestamp);
    this.lastBreakAt = timestamp;
    this.count++;
  }

  /** After that reading entered the windows: a refilling site back at its level starts its series there. */
  settle(timestamp: number): void {
    const [window] = this.windows;
    for (const [key, level] of this.refilling) {
      // A site the window no longer tracks (it held nothing for a whole span) has nothing to refill.
      if (window.trackedSince(key) === undefined) this.refilling.delete(key);
      else if (window.latestBytesOf(key) >= level) {
        for (const each of this.windows) each.restartSite(key, timestamp);
        this.refilling.delete(key);
      }
    }
  }

  /** Whether a site is still refilling what the latest break hid: it is not judged meanwhile. */
  isRefilling(key: string): boolean {
    return this.refilling.has(key);
  }

  /**
   * Whether the site's last quarter stepped up before the break, by the shortest horizon's step and
   * beyond the sampling noise of its level (two deviations of a Poisson estimate of `level` bytes:
   * a steady cache's quarters differ by that much by chance).
   */
  private wasRising(window: GrowthWindow, key: string, level: number, samplingIntervalBytes: number): boolean {
    const fit = quarterFit(window.bytesOf(key) ?? { bytes: [], timestamps: [] });
    const noiseBytes = 2 * Math.sqrt(level * samplingIntervalBytes);
    return fit !== undefined && fit.medians[3] - fit.medians[2] >= Math.max(this.risingStepBytes, noiseBytes);
  }
}
