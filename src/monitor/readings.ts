import { getHeapStatistics } from 'node:v8';
import { bufferSampler } from '../buffers/buffer-sampler.js';
import { SeriesBreaks } from '../growth/series-breaks.js';
import { GrowthWindow } from '../growth/window.js';
import type { ReaderName } from '../v8/profile.js';
import { allocationsUnavailable } from '../v8/sampler.js';
import { AllocationTotals } from './allocation-totals.js';
import { CleanReadings } from './clean-readings.js';
import type { Reading } from './clean-readings.js';
import type { ResolvedMonitorOptions } from './options.js';
import { ReadingPace } from './reading-pace.js';
import { HoldReading, sameSamples, SiteReader } from './site-reader.js';

/** The latest tick reading: its sites live in the window, only its total, reader, interval and mode are kept. */
export interface LatestReading {
  readonly reader: ReaderName;
  readonly totalBytes: number;
  readonly samplingIntervalBytes: number;
  readonly allocations: boolean;
}

/** What the readings need of the monitor. */
export interface ReadingsHost {
  /** Suspects are never evicted from the windows. */
  isSuspect(key: string): boolean;
  /** Whether readings are held back now (V8's heap at its limit: see `near-limit.ts`). */
  holdReadings(): boolean;
  /** Whether a reading outside the tick may be taken: the monitor runs and is not in a tick. */
  idle(): boolean;
  /** A reading between ticks failed: counted and logged once per cause. */
  readingFailed(error: unknown): void;
}

/**
 * How the monitor's readings are taken and where each goes: every tick reading into the window
 * (the series broken first where V8's sampler started over), the clean ones — right after a major
 * GC, or every inspector reading — into the clean window, allocation-mode sites into their totals.
 * What the monitor then says about them is `Verdicts`'; when it reads, `HeapMonitor.tick`'s.
 */
export class MonitorReadings {
  /** Every reading, one per tick. */
  readonly window: GrowthWindow;
  /** Readings with no garbage in them: right after a major GC, or every inspector reading. */
  readonly clean: CleanReadings;
  /** Every reading goes through it; none while the near-limit record is on its way. */
  readonly reader: SiteReader;
  /** Spaces readings out while each holds the main thread beyond `readingBudgetMs`. */
  readonly pace: ReadingPace;
  /** Each site's allocations since the start, in allocation mode (Node 26, `allocations: true`). */
  readonly allocationTotals: AllocationTotals;
  /** Where V8's sampler started over and forgot its live samples: the series break there. */
  readonly breaks: SeriesBreaks;
  /** The latest tick reading; undefined before the first. */
  latest: LatestReading | undefined;
  /** Ticks whose reading repeated the tick reading before (see {@link isQuiet}). */
  quietTicks = 0;
  /** Suspects are never evicted from the windows. */
  private readonly isSuspect: (key: string) => boolean;
  /** The tick reading before, and the clean readings taken by then: what a quiet tick repeats. */
  private previousTick: { readonly reading: Reading; readonly cleanTaken: number } | undefined;

  constructor(
    private readonly options: ResolvedMonitorOptions,
    private readonly host: ReadingsHost,
  ) {
    const { windowSlots, maxTrackedSites, windowMs } = options;
    const isSuspect = (this.isSuspect = (key: string): boolean => host.isSuspect(key));
    this.window = new GrowthWindow(windowSlots, maxTrackedSites, windowMs);
    this.pace = new ReadingPace(options.intervalMs, options.readingBudgetMs);
    this.reader = new SiteReader(options.filters, () => host.holdReadings(), options.bufferSampling ? bufferSampler : undefined);
    this.clean = new CleanReadings(options, {
      readNow: () => this.betweenTicks(),
      isProtected: isSuspect,
      readingIntervalMs: () => this.pace.readingIntervalMs,
    });
    this.allocationTotals = new AllocationTotals(maxTrackedSites);
    // The shortest horizon's step (twice the threshold, an eighth of it): see `assessTrend`.
    this.breaks = new SeriesBreaks([this.window, this.clean.window], options.growthThresholdBytes / 4, isSuspect);
  }

  /** The interval V8 samples at (bytes): the latest reading's, which may be another tool's; the option's before the first. */
  get samplingIntervalBytes(): number {
    return this.latest?.samplingIntervalBytes ?? this.options.samplingIntervalBytes;
  }

  /**
   * Takes the tick's reading into the windows, and has it judged (`judge`): after the clean
   * reading it is, or before the GC a clean reading needs is asked for. `quiet` when the reading
   * holds what the tick reading before held, and no clean reading came between (see
   * {@link isQuiet}). Throws as the reader does.
   */
  atTick(judge: (now: number, quiet: boolean) => void): void {
    const reading = this.reader.readAtTick(this.forcedGcFits());
    const quiet = this.isQuiet(reading);
    if (quiet) this.quietTicks++;
    this.previousTick = { reading, cleanTaken: this.clean.taken };
    this.latest = {
      reader: reading.reader,
      totalBytes: reading.totalBytes,
      samplingIntervalBytes: reading.samplingIntervalBytes,
      allocations: reading.allocations,
    };
    this.push(reading);
    if (reading.allocations && this.reader.readAtLastTick) this.allocationTotals.add(reading.sites, reading.epoch);
    // The inspector reader forces a full GC before every read, and so does allocation mode: all
    // their readings are clean, and none needs a GC asked for.
    if (reading.reader === 'inspector' || reading.allocations) {
      if (reading.reader === 'inspector' || this.reader.readAtLastTick) this.clean.push(reading);
      judge(reading.timestamp, quiet);
    } else {
      judge(reading.timestamp, quiet);
      this.clean.requestGcIfNeeded(reading.timestamp, reading.reader, this.reader.sampledAtTick);
    }
  }

  /**
   * Whether the tick's reading holds what the tick reading before held — every site's bytes and
   * objects, the ArrayBuffer memory, the sampler's run — with no clean reading between: a
   * process at rest. Its series then only repeat their latest value, and judging them again is
   * most of what such a tick would cost (~1 ms of cold code for a dozen sites after a load, on
   * Node 22; more than reading V8's sampler).
   */
  private isQuiet(reading: Reading): boolean {
    const before = this.previousTick;
    if (!before || before.cleanTaken !== this.clean.taken) return false;
    const { reading: was } = before;
    return (
      was.epoch === reading.epoch &&
      was.samplingIntervalBytes === reading.samplingIntervalBytes &&
      was.arrayBuffersBytes === reading.arrayBuffersBytes &&
      was.totalWrapperBytes === reading.totalWrapperBytes &&
      sameSamples(was, reading)
    );
  }

  /**
   * Whether a tick may read now: always, but in allocation mode — where V8 forces a full GC
   * before each read — only while that GC's expected pause fits `forcedGcPauseBudgetMs` (and the
   * heap is not near its limit); otherwise the latest reading stands, counted in `skippedGcs`.
   */
  private forcedGcFits(): boolean {
    if (!(this.latest?.allocations ?? (this.options.allocations && allocationsUnavailable() === undefined))) return true;
    const { used_heap_size: used, heap_size_limit: limit } = getHeapStatistics();
    if (this.clean.pause.fits(used) && used <= limit * 0.75) return true;
    this.clean.skippedGcs++;
    return false;
  }

  /** Adds a reading to the window, breaking the series first where V8's sampler started over. */
  private push(reading: Reading): void {
    this.breaks.observe(reading.epoch, reading.timestamp, reading.samplingIntervalBytes);
    this.window.push(reading.timestamp, reading.sites, reading.totalBytes, this.isSuspect, reading);
    this.breaks.settle(reading.timestamp);
  }

  /** One more reading at the heap limit, into the series (not judged: the process is about to end). */
  atLimit(): boolean {
    // In allocation mode a read forces a full GC: none at the heap limit (see clean-readings.ts).
    if (!this.host.idle() || (this.latest?.allocations ?? this.options.allocations)) return false;
    try {
      this.push(this.reader.read());
      return true;
    } catch {
      return false;
    }
  }

  /**
   * A reading between ticks, for the clean readings: none while stopped or in a tick, nor with
   * the inspector reader (its tick readings are clean already, and each read forces one more GC).
   */
  private betweenTicks(): Reading | undefined {
    // Nor in allocation mode: its every read forces a full GC, which would call for one more reading.
    if (!this.host.idle() || this.latest?.reader === 'inspector' || (this.latest?.allocations ?? this.options.allocations)) return undefined;
    const timing = this.pace.time();
    try {
      const reading = this.reader.read();
      // The clean window takes it next: a start-over breaks both windows first.
      this.breaks.observe(reading.epoch, reading.timestamp, reading.samplingIntervalBytes);
      return reading;
    } catch (error) {
      if (error instanceof HoldReading) return undefined;
      this.host.readingFailed(error);
      return undefined;
    } finally {
      timing.end();
    }
  }
}
