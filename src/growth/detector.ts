import { frameKey, NATIVE_SITE } from '../snapshot/frame.js';
import { cleanReadingsConfirm } from './confirmation.js';
import type { ExternalShares } from './external-share.js';
import { horizonsOf } from './horizons.js';
import type { Horizon } from './horizons.js';
import { MIN_CLEAN_READINGS_FOR_WANDER, turnoverVariancePerMs } from './noise.js';
import type { SuspicionTracker } from './suspicion.js';
import type { SeriesBreaks } from './series-breaks.js';
import { fallOnStack } from './stack-moves.js';
import { assessTrend, MIN_TOTAL_SHARE, quarterGrowth } from './trend.js';
import type { BytesSeries, SiteSeries } from './series.js';
import type { GrowthWindow } from './window.js';

/** The options the judgement reads. */
export interface DetectorOptions {
  readonly intervalMs: number;
  readonly windowMs: number;
  readonly growthThresholdBytes: number;
  /**
   * Until this time (a `Date.now()` timestamp) nothing is raised: the process's warm-up, while a
   * cache that fills cannot be told from a leak. Default: no warm-up.
   */
  readonly warmupEndsAt?: number;
}

/**
 * The site's readings without garbage since a time (right after full GCs), with `externalShare` of
 * the process's ArrayBuffer memory added to its bytes (see `GrowthWindow.series`).
 */
export type CleanSeriesOf = (key: string, since: number, externalShare: number) => SiteSeries | undefined;

/** What one judgement concluded. */
export interface Judgement {
  /** Sites that rose and were confirmed, with the horizon they rose over (not yet suspects). */
  readonly raise: ReadonlyArray<readonly [string, Horizon]>;
  /** Suspects whose growth has settled: their suspicion ends. */
  readonly clear: readonly string[];
  /**
   * The shortest horizon over which a site still rises now, or is about to be judged rising,
   * without clean readings to confirm it (ms): clean readings are wanted, at least a sixth of it
   * apart. Undefined when no site does: nothing calls for a forced GC.
   */
  readonly wantedHorizonMs: number | undefined;
}

const NATIVE_KEY = frameKey(NATIVE_SITE);

/**
 * Judges every tracked site over every horizon it has been tracked for, shortest first, and
 * raises it over the first one where its readings rise (`assessTrend`) and its clean readings
 * confirm it (`cleanReadingsConfirm`): a fast leak over a short horizon, a slow one over a long
 * one — unless the sites on its stack fell by more than half as much, its bytes moved there from a
 * callee TurboFan inlined (`stack-moves.ts`). Heap growth that no JavaScript function allocated
 * (the native site: header strings Node's parser made in C++, say) is never raised: no one can act
 * on it, and the heap-exhaustion alert covers the process. The native site is raised only with a
 * share of the growth of ArrayBuffer memory — request bodies' chunks Node made in C++ and the
 * service keeps — which grows toward the container's limit, not V8's, and which the record
 * explains (see `log/leak-log.ts`).
 */
export class Detector {
  readonly horizons: readonly Horizon[];
  /** Readings taken up to this long before a horizon's start still belong to it: timers run late. */
  private readonly toleranceMs: number;

  constructor(
    private readonly options: DetectorOptions,
    private readonly window: GrowthWindow,
    private readonly cleanSeriesOf: CleanSeriesOf,
    private readonly tracker: SuspicionTracker,
    /** The sites' shares of the process's ArrayBuffer memory: a site is judged on both (see `external-share.ts`). */
    private readonly external: ExternalShares,
    /** Where V8's sampler started over: refilling sites are not judged, suspects not settled early. */
    private readonly breaks?: Pick<SeriesBreaks, 'isRefilling' | 'lastBreakAt'>,
  ) {
    this.horizons = horizonsOf(options.intervalMs, options.windowMs, options.growthThresholdBytes);
    this.toleranceMs = options.intervalMs / 2;
  }

  /** When the readings of a horizon that ends at `now` start. */
  startOf(horizonMs: number, now: number): number {
    return now - horizonMs - this.toleranceMs;
  }

  /**
   * Whether the site has been tracked for the whole horizon — or, for a site with a share of the
   * growth of ArrayBuffer memory, whether the window's readings cover it: that memory was read at
   * each, before the site's first wrapper was sampled.
   */
  private coversHorizon(key: string, horizonMs: number, now: number, externalShare = 0): boolean {
    const since = externalShare > 0 ? this.window.outside.arrayBuffersSeries().timestamps[0] : this.window.trackedSince(key);
    return since !== undefined && since <= now - horizonMs + this.toleranceMs;
  }

  /** The site's share of the growth of ArrayBuffer memory at the latest reading (0 to 1). */
  externalShareOf(key: string, samplingIntervalBytes: number): number {
    return this.external.of(key, samplingIntervalBytes)?.growthShare ?? 0;
  }

  /**
   * The noise of a site's share of the ArrayBuffer growth over a horizon (bytes): the share's
   * deviation times that growth, measured as the sites' is (quarter medians), and the share of the
   * growth's own noise — with the Buffer sampler on, the growth is what its estimate left over, and
   * an estimate a few samples short leaves a Buffer leak's growth to the wrappers of the caller its
   * keeper was inlined into (seen in CI on Node 26: that caller suspected beside the keeper).
   */
  private externalNoiseOf(key: string, samplingIntervalBytes: number, start: number): number {
    const estimate = this.external.of(key, samplingIntervalBytes);
    if (!estimate) return 0;
    const shareNoise = estimate.growthShareDeviation * Math.max(0, quarterGrowth(this.window.outside.arrayBuffersSeries(start)));
    return Math.hypot(shareNoise, estimate.growthShare * this.window.outside.arrayBuffersGrowthNoise(start));
  }

  /**
   * The site's growth over a horizon ending at the latest reading — the one that raised it, for a
   * suspect, else the window — or over as much of it as the site was tracked for.
   */
  growthOf(key: string, samplingIntervalBytes: number): { growthBytes: number; horizonMs: number } {
    const now = this.window.latestTimestamp ?? 0;
    const raisedOver = this.tracker.raisedOver(key)?.ms;
    const horizonMs = raisedOver ?? this.options.windowMs;
    const series = this.window.bytesOf(key, this.startOf(horizonMs, now), this.externalShareOf(key, samplingIntervalBytes));
    if (!series || series.timestamps.length < 2) return { growthBytes: 0, horizonMs: 0 };
    // A site watched for less than the window is reported over the time it was watched.
    const watchedMs = Math.round(now - (series.timestamps[0] as number));
    return { growthBytes: quarterGrowth(series), horizonMs: raisedOver ?? Math.min(horizonMs, watchedMs) };
  }

  /**
   * Judges the sites at the latest reading. With `suspectsOnly`, only whether suspects settled:
   * for a reading that repeats the one before (a process at rest, see `MonitorReadings`), where
   * a site can rise no further — one that would have been raised then, as its series came to
   * cover a horizon, is judged at the next reading that changes, over its later horizons.
   */
  judge(now: number, samplingIntervalBytes: number, suspectsOnly = false): Judgement {
    const { growthThresholdBytes, warmupEndsAt = Number.NEGATIVE_INFINITY } = this.options;
    const raise: Array<readonly [string, Horizon]> = [];
    const clear: string[] = [];
    if (suspectsOnly) {
      for (const key of this.tracker.keys()) {
        const raisedOver = this.tracker.raisedOver(key) as Horizon;
        // As below, where only tracked sites are judged (suspects are never evicted).
        if (this.window.trackedSince(key) === undefined) continue;
        if (this.hasSettled(key, raisedOver, now, this.externalShareOf(key, samplingIntervalBytes))) clear.push(key);
      }
      return { raise, clear, wantedHorizonMs: undefined };
    }
    let wantedHorizonMs: number | undefined;
    const want = (ms: number) => (wantedHorizonMs = Math.min(wantedHorizonMs ?? ms, ms));
    // The same for every site of a tick: computed once per horizon, when a site is judged over it
    // (a process at rest judges none: a quiet tick allocates next to nothing).
    const totals: Array<number | undefined> = [];
    const totalGrowth = (i: number): number =>
      (totals[i] ??= quarterGrowth(this.window.totalsSeries(this.startOf((this.horizons[i] as Horizon).ms, now))));
    // With the ArrayBuffer memory: for sites judged with a share of it.
    const totalsOutside: Array<number | undefined> = [];
    const totalGrowthOutside = (i: number): number =>
      (totalsOutside[i] ??= quarterGrowth(this.window.totalsSeries(this.startOf((this.horizons[i] as Horizon).ms, now), true)));
    const arrayBuffers = this.window.outside.arrayBuffersSeries().bytes;
    const arrayBuffersRange = arrayBuffers.length > 0 ? Math.max(...arrayBuffers) - Math.min(...arrayBuffers) : 0;
    const shortest = this.horizons[0] as Horizon;
    for (const key of this.window.keys()) {
      const raisedOver = this.tracker.raisedOver(key);
      const share = this.externalShareOf(key, samplingIntervalBytes);
      if (raisedOver) {
        if (this.hasSettled(key, raisedOver, now, share)) clear.push(key);
        continue;
      }
      // Growth is at most twice the range: a site that moved less than half the threshold can be
      // neither raised nor in need of clean readings.
      // The native site only with a share of the ArrayBuffer growth: Buffers Node made in C++ (a
      // request body's chunks) and the service keeps; its heap growth alone is never raised.
      if ((key === NATIVE_KEY && share === 0) || this.breaks?.isRefilling(key) || this.window.rangeOf(key) + share * arrayBuffersRange < growthThresholdBytes / 2) continue;
      // During the warm-up nothing is raised: clean readings serve a site only from the warm-up's
      // end minus the horizon, when they are those that will confirm it as it ends.
      const warming = now < warmupEndsAt;
      const wantedFor = (horizon: Horizon): boolean => !warming || now >= warmupEndsAt - horizon.ms;
      if (!this.coversHorizon(key, shortest.ms, now, share)) {
        // A new site, too young to be judged: if it already rose by half the shortest horizon's
        // threshold, clean readings gathered now will be needed when it is.
        const { bytes } = this.window.bytesOf(key, Number.NEGATIVE_INFINITY, share) ?? { bytes: [] };
        const rose = bytes.length >= 2 && (bytes.at(-1) as number) - (bytes[0] as number) >= shortest.thresholdBytes / 2;
        if (rose && wantedFor(shortest)) want(shortest.ms);
        continue;
      }
      // The whole window's readings once; each horizon takes its latest part.
      const series = this.window.bytesOf(key, this.startOf(this.options.windowMs, now), share) as BytesSeries;
      const clean = this.cleanSeriesOf(key, this.startOf(this.options.windowMs, now), share);
      // The site's wander, measured over the whole window: a short horizon holds too few clean
      // readings to tell. Until there are enough, the tick readings tell, garbage and all (more
      // than the wander: the safe side; see `turnoverVariancePerMs`).
      const enoughClean = clean !== undefined && clean.bytes.length >= MIN_CLEAN_READINGS_FOR_WANDER;
      const turnoverPerMs = turnoverVariancePerMs(enoughClean ? clean : series);
      for (const [i, horizon] of this.horizons.entries()) {
        if (!this.coversHorizon(key, horizon.ms, now, share)) break;
        const start = this.startOf(horizon.ms, now);
        const cleanInHorizon = clean && since(clean, start);
        const externalNoiseBytes = share > 0 ? this.externalNoiseOf(key, samplingIntervalBytes, start) : 0;
        const options = { thresholdBytes: horizon.thresholdBytes, samplingIntervalBytes, turnoverPerMs, externalNoiseBytes };
        const assessment = assessTrend(since(series, start), share > 0 ? totalGrowthOutside(i) : totalGrowth(i), options);
        if (!assessment) continue;
        if (!warming && assessment.rising && cleanReadingsConfirm(cleanInHorizon, now, { ...options, horizonMs: horizon.ms })) {
          // Bytes that moved from a site on the same stack (a callee inlined) are no leak, and no
          // reason for a clean reading either.
          if (!this.movedOnStack(key, start, assessment.growthBytes, samplingIntervalBytes)) raise.push([key, horizon]);
          break;
        }
        // Clean readings are wanted for a site that rose by half the horizon's threshold and still
        // rises now (its last quarter steps up): not for one that rose and stopped — request
        // garbage piled up under load, in a process now at rest, is no reason for a pause.
        const wanted = assessment.stillRising && assessment.growthBytes >= horizon.thresholdBytes / 2;
        if (wanted && wantedFor(horizon)) want(horizon.ms);
      }
    }
    return { raise, clear, wantedHorizonMs };
  }

  /**
   * Whether the sites on one stack with the site fell by more than half its growth since `start`,
   * in their clean readings and beyond their noise: its bytes moved between functions (see
   * `stack-moves.ts`), as rule 4 of `assessTrend` asks of all sites together.
   */
  private movedOnStack(key: string, start: number, growthBytes: number, samplingIntervalBytes: number): boolean {
    const cleanSeriesOf = (other: string, since: number) => this.cleanSeriesOf(other, since, 0);
    return growthBytes + fallOnStack(this.window, cleanSeriesOf, key, start, samplingIntervalBytes) < MIN_TOTAL_SHARE * growthBytes;
  }

  /**
   * Whether a suspect stopped growing: its growth over the horizon that raised it and over the
   * window have both fallen under half their thresholds (hysteresis: a site near the threshold
   * does not flap).
   */
  private hasSettled(key: string, raisedOver: Horizon, now: number, externalShare: number): boolean {
    // Since the sampler started over, the site's series is too short to tell until it covers the
    // horizon that raised it again: its drop at the start-over is no settling.
    if (this.breaks && now - this.breaks.lastBreakAt < raisedOver.ms) return false;
    const window = this.horizons.at(-1) as Horizon;
    return [raisedOver, window].every((horizon) => {
      const series = this.window.bytesOf(key, this.startOf(horizon.ms, now), externalShare);
      return !series || quarterGrowth(series) < horizon.thresholdBytes / 2;
    });
  }
}

/** The part of a series (oldest first) taken at or after `start`: every array of it sliced alike. */
function since<S extends BytesSeries>(series: S, start: number): S {
  let first = 0;
  while (first < series.timestamps.length && (series.timestamps[first] as number) < start) first++;
  if (first === 0) return series;
  const part = { ...series } as Record<string, unknown>;
  for (const [name, values] of Object.entries(series)) if (Array.isArray(values)) part[name] = values.slice(first);
  return part as unknown as S;
}
