import { getHeapStatistics } from 'node:v8';
import { GrowthWindow } from '../growth/window.js';
import type { SiteSeries } from '../growth/series.js';
import type { SiteReadings } from '../snapshot/site-aggregator.js';
import { requestFullGc } from '../v8/gc-events.js';
import { onMajorGc } from '../v8/major-gc.js';
import type { ReaderName } from '../v8/profile.js';
import { AllocationGate } from './allocation-gate.js';
import { ForcedGcPause } from './forced-gc-pause.js';
import type { ResolvedMonitorOptions } from './options.js';

/**
 * A heap past this share of its limit gets no forced GC: V8 is about to collect on its own, and a
 * low-memory collection there, freeing nothing, pushes V8 to declare its mark-compacts ineffective
 * and end the process (seen in a worker thread at its `resourceLimits`, on Node 24).
 */
const NEAR_LIMIT_SHARE = 0.75;

/** One reading of the sampler, summed per site. */
export interface Reading extends SiteReadings {
  readonly timestamp: number;
  readonly reader: ReaderName;
  /** The interval V8's sampler ran at (bytes). */
  readonly samplingIntervalBytes: number;
  /** Read in allocation mode: the read forced a full GC, so the reading holds no garbage (a clean one). */
  readonly allocations: boolean;
  /** The sampler's fresh starts before this reading (see `RawProfile.epoch`). */
  readonly epoch: number;
  /**
   * The process's ArrayBuffer memory when it was taken (`process.memoryUsage().arrayBuffers`,
   * bytes), outside what V8's sampler sees, less the Buffers sampled in JavaScript (already in
   * their sites' bytes: see `buffers/with-buffers.ts`): what `growth/external-share.ts` shares.
   */
  readonly arrayBuffersBytes: number;
  /** The standard deviation of `arrayBuffersBytes`: the Buffer sampler's estimate's, taken from it (bytes; absent when it is off). */
  readonly sampledExternalNoiseBytes?: number;
}

/** What the clean readings need from the monitor. */
export interface CleanReadingSource {
  /**
   * A reading now, or undefined when there must be none (the monitor is stopped or in a tick,
   * or the read failed — the monitor counts and logs that).
   */
  readNow(): Reading | undefined;
  /** Sites that must not be evicted from the window (current suspects). */
  isProtected(key: string): boolean;
  /**
   * The time between two readings now (ms): `intervalMs`, or longer while readings are slow (see
   * `reading-pace.ts`). Readings after major GCs come at most twice per that time.
   */
  readingIntervalMs(): number;
}

/**
 * Full GCs heapwatch may ask for per window, on average: each is a stop-the-world pause (55 ms at
 * a 76 MB heap, 740 ms at 1.2 GB), so a process whose garbage keeps looking like growth must not
 * pay for one at every interval. At the defaults (a 60 min window) 36 is six per ten minutes, what
 * the former rule allowed (one per sixth of a 10-minute window).
 */
const GC_BUDGET = 36;
/** Full GCs that may be asked for in a row: a fast leak needs three or four within a minute. */
const GC_BURST = 6;

/**
 * The readings with no garbage in them, and when to take them. With the native reader, a tick's
 * reading counts objects that were promoted and have died since the last major GC as live; right
 * after a major GC it holds no garbage. So a rise seen in the tick readings is confirmed only by
 * readings taken right after major GCs: V8's own (at most two per interval), or, when those have
 * not come lately and a site has been rising at two ticks in a row, one heapwatch asks for — at
 * most once per sixth of the shortest horizon over which a site rises (and once per interval),
 * never when nothing rises, and within a budget of {@link GC_BUDGET} per window — and only when its
 * expected pause fits the pause budget (see `forced-gc-pause.ts`) and the heap is not near its
 * limit: with a large heap the site waits for V8's own major GCs, which are incremental. An asked
 * GC runs once the process is seen allocating, or not at all when it rests (`allocation-gate.ts`).
 * The inspector reader forces a full GC before every read: its tick readings are all clean, and go
 * here too.
 */
export class CleanReadings {
  /** The clean readings' window: its series break where the tick readings' do (see `series-breaks.ts`), and what the external shares take a wrapper's growth from (no garbage in it). */
  readonly window: GrowthWindow;
  /**
   * Set by each judgement: the shortest horizon over which a site rises in the tick readings and
   * waits for clean readings (ms), or undefined when none does.
   */
  wantedHorizonMs: number | undefined;
  private lastRequestedGc = Number.NEGATIVE_INFINITY;
  /** Whether the tick before this one wanted clean readings too. */
  private wantedBefore = false;
  /** Whether the tick before this one found V8's sampler changed (the process allocating) too. */
  private sampledBefore = true;
  /** Full GCs heapwatch may still ask for now: a bucket refilled {@link GC_BUDGET} times per window. */
  private gcTokens = GC_BURST;
  private tokensAt: number | undefined;
  private gcInFlight = false;
  /** A forced GC waits until the process allocates: one at rest shrinks V8's young generation. */
  private readonly gate = new AllocationGate(() => this.source.readingIntervalMs());
  private stopGcWatch: (() => void) | undefined;
  /** Readings taken right after a full GC. */
  taken = 0;
  /** Full GCs asked of V8. */
  requestedGcs = 0;
  /** Full GCs not asked for because their expected pause exceeded the pause budget. */
  skippedGcs = 0;

  constructor(
    private readonly options: ResolvedMonitorOptions,
    private readonly source: CleanReadingSource,
    /** What forced GCs cost in this process, and the budget. */
    readonly pause = new ForcedGcPause(options.forcedGcPauseBudgetMs),
  ) {
    this.window = new GrowthWindow(options.windowSlots, options.maxTrackedSites, options.windowMs);
  }

  /** Starts taking a reading after each of V8's major GCs. */
  start(): void {
    this.stopGcWatch ??= onMajorGc(() => this.readAfterGc());
  }

  stop(): void {
    this.stopGcWatch?.();
    this.stopGcWatch = undefined;
    if (this.gate.waiting) {
      this.gate.cancel();
      this.gcInFlight = false;
    }
  }

  /** What heapwatch allocated itself in a tick (bytes): not the service allocating, to a GC that waits. */
  discountOwnAllocation(bytes: number): void {
    this.gate.discount(bytes);
  }

  /** Adds a reading known to be clean (every inspector reading). */
  push(reading: Reading): void {
    this.window.push(reading.timestamp, reading.sites, reading.totalBytes, (key) => this.source.isProtected(key), reading);
    this.taken++;
  }

  /** The site's clean readings since `since`, with `externalShare` of the ArrayBuffer memory (see `GrowthWindow.series`). */
  series(key: string, since: number, externalShare = 0): SiteSeries | undefined {
    return this.window.series(key, since, externalShare);
  }

  /**
   * After a tick: when a site rises (`wantedHorizonMs`) and V8's own major GCs have not brought a
   * clean reading within a sixth of that horizon (and at least an interval), asks V8 for a full GC
   * and reads right after it — or, when that GC would pause the host beyond the budget, counts it
   * skipped and leaves the confirmation to V8's own major GCs. `sampled`: whether V8's sampler
   * changed since the reading before this tick's — when nothing was sampled and nothing sampled
   * died, the process is at rest and a pause now would confirm nothing V8's next major GC will not;
   * nor at the first tick that finds it allocating again after such a rest.
   */
  requestGcIfNeeded(now: number, reader: ReaderName, sampled: boolean): void {
    this.refillTokens(now);
    // Wanted at two ticks in a row: the first tick after a burst of requests still sees the
    // burst's garbage rise, the next one sees a process at rest, which needs no pause.
    const wantedMs = this.wantedHorizonMs;
    const wantedBefore = this.wantedBefore;
    this.wantedBefore = wantedMs !== undefined;
    // And sampled at two ticks in a row: the first tick after a rest sees the garbage left from
    // before it still counted (no major GC ran at rest), and the load that woke the process will
    // bring V8's own major GC soon; a process that keeps allocating is sampled at every tick.
    const sampledBefore = this.sampledBefore;
    this.sampledBefore = sampled;
    if (wantedMs === undefined || !wantedBefore || !sampled || !sampledBefore || this.gcInFlight || reader !== 'native' || this.gcTokens < 1) return;
    const spacing = Math.max(this.options.intervalMs, wantedMs / 6);
    const lastClean = this.window.latestTimestamp ?? Number.NEGATIVE_INFINITY;
    if (now - lastClean < spacing || now - this.lastRequestedGc < spacing) return;
    // A skipped GC is spaced as an asked one: the count is of GCs not asked for, not of ticks.
    this.lastRequestedGc = now;
    const { used_heap_size: used, heap_size_limit: limit } = getHeapStatistics();
    if (!this.pause.fits(used) || used > limit * NEAR_LIMIT_SHARE) {
      this.skippedGcs++;
      return;
    }
    this.gcInFlight = true;
    this.gate.whenAllocating(
      () => {
        this.gcTokens--;
        this.requestedGcs++;
        requestFullGc((error, pause) => {
          this.gcInFlight = false;
          if (!error) this.pause.record(pause);
          this.readAfterGc();
        });
      },
      () => (this.gcInFlight = false),
    );
  }

  private refillTokens(now: number): void {
    if (this.tokensAt !== undefined) {
      this.gcTokens = Math.min(GC_BURST, this.gcTokens + ((now - this.tokensAt) * GC_BUDGET) / this.options.windowMs);
    }
    this.tokensAt = now;
  }

  /** A reading right after a major GC: at most two per interval, native readings only. */
  private readAfterGc(): void {
    const last = this.window.latestTimestamp;
    if (last !== undefined && Date.now() - last < this.source.readingIntervalMs() / 2) return;
    const reading = this.source.readNow();
    if (reading?.reader === 'native') this.push(reading);
  }
}
