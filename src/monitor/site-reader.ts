import type { BufferSampler } from '../buffers/buffer-sampler.js';
import { sharedBufferSites } from '../buffers/buffer-sites.js';
import { withBuffers } from '../buffers/with-buffers.js';
import { sharedInterner } from '../snapshot/frame-interner.js';
import type { Filter } from '../snapshot/filter.js';
import { SiteAggregator } from '../snapshot/site-aggregator.js';
import type { SiteReadings } from '../snapshot/site-aggregator.js';
import { sharedResolver } from '../snapshot/source-map.js';
import { globalHandleBytes } from '../v8/global-handles.js';
import { readProfile } from '../v8/sampler.js';
import type { Reading } from './clean-readings.js';

/**
 * Tick readings in a row that may repeat the one before (see {@link SiteReader.readAtTick}): then
 * V8's sampler is read again whatever its handles say, so that a sampler another client stopped or
 * restarted — which an idle process holding no sample would not show — is found within six ticks
 * (a minute at the defaults).
 */
const MAX_REPEATS = 5;

/** A reading not taken: V8's heap is at its limit and the near-limit callback is on its way. */
export class HoldReading extends Error {}

/**
 * Reads V8's sampler and sums it per site, filtered by `include`/`exclude`: every reading the
 * monitor takes — at its ticks, after major GCs, at the heap limit — goes through here.
 */
export class SiteReader {
  /** Readings taken: of V8's sampler, and of an unchanged sampler (see {@link readAtTick}). */
  taken = 0;
  /** Readings that found the sampler unchanged since the one before, and repeated it. */
  unchanged = 0;
  private readonly aggregator = new SiteAggregator(sharedInterner, sharedResolver);
  /**
   * The latest reading, V8's global handles right after it — or at the end of the tick that took
   * it (see {@link endTick}) — and V8's part of it (without the sampled Buffers).
   */
  private latest: { readonly reading: Reading; handleBytes: number; readonly heap: SiteReadings } | undefined;
  /**
   * Whether the service's samples changed between the reading before the latest tick's and that
   * tick: a new sample of V8's, or a sampled object that died, outside heapwatch's own code. False
   * in a process at rest — where V8's sampler still changes now and then, by sampling heapwatch's
   * own readings (~1 MB each, a sample or two at 512 KiB), which are left out of the sites.
   */
  sampledAtTick = true;
  /** The Buffer sampler's samples taken at the latest tick. */
  private buffersTakenAtTick = 0;
  /** Tick readings in a row that repeated the latest one. */
  private repeats = 0;
  /** Whether the latest tick read V8's sampler (rather than repeating the reading before). */
  readAtLastTick = false;

  constructor(
    private readonly filters: readonly Filter[],
    /** Whether readings are held back now (V8's heap at its limit: see `near-limit.ts`). */
    private readonly holdReadings: () => boolean,
    /** The Buffers sampled in JavaScript, added to their sites at every reading; none when off. */
    private readonly buffers?: BufferSampler,
  ) {}

  /** The sites of the latest reading, with their stacks; undefined before the first. */
  get latestSites(): Reading['sites'] | undefined {
    return this.latest?.reading.sites;
  }

  /** Throws {@link HoldReading} while readings are held back, and whatever reading the sampler throws. */
  read(): Reading {
    if (this.holdReadings()) throw new HoldReading();
    const profile = readProfile();
    const timestamp = Date.now();
    const heap = this.aggregator.aggregate(profile.root, this.filters);
    this.taken++;
    const reading: Reading = {
      ...this.withBuffers(heap),
      timestamp,
      reader: profile.reader,
      samplingIntervalBytes: profile.samplingIntervalBytes,
      allocations: profile.allocations ?? false,
      epoch: profile.epoch ?? 0,
    };
    this.latest = { reading, handleBytes: globalHandleBytes(), heap };
    this.repeats = 0;
    return reading;
  }

  /**
   * A tick's reading: when V8's global handles are as they were right after the latest reading
   * (see `globalHandleBytes`) — a process at rest — the sampler holds the same samples, and that
   * reading stands again at this time, without asking V8 for its profile or summing it: a reading
   * costs what it finds. Otherwise, every sixth tick at least, and with the inspector reader (whose
   * readings are the clean ones), as {@link read}.
   */
  readAtTick(forcedGcFits = true): Reading {
    const latest = this.latest;
    // In allocation mode a read forces a full GC: past the pause budget, the latest reading stands.
    this.readAtLastTick = false;
    if (latest && !forcedGcFits) {
      this.taken++;
      this.unchanged++;
      this.sampledAtTick = false;
      return { ...latest.reading, timestamp: Date.now() };
    }
    if (!latest && !forcedGcFits) throw new HoldReading();
    const same = latest?.reading.reader === 'native' && globalHandleBytes() === latest.handleBytes;
    // A Buffer sampled since counts as a sample of V8's would: the process is not at rest.
    const buffersTaken = this.buffers?.taken ?? 0;
    const buffersSampled = buffersTaken !== this.buffersTakenAtTick;
    this.buffersTakenAtTick = buffersTaken;
    const unchanged = same && this.repeats < MAX_REPEATS;
    if (!latest || !unchanged || this.holdReadings()) {
      const reading = this.read();
      this.readAtLastTick = true;
      // The handles also change when V8 sampled heapwatch's own reading: only the service's count.
      const heapNow = this.latest?.heap;
      this.sampledAtTick = buffersSampled || !latest || !heapNow || !sameSamples(latest.heap, heapNow);
      return reading;
    }
    this.sampledAtTick = buffersSampled;
    this.taken++;
    this.unchanged++;
    this.repeats++;
    // V8's samples are unchanged, the ArrayBuffer memory and the sampled Buffers need not be: a
    // Buffer of 16 KiB puts ~190 bytes on V8's heap, and Buffers come many times over between two
    // sampled wrappers.
    return { ...latest.reading, ...this.withBuffers(latest.heap), timestamp: Date.now() };
  }

  /**
   * At the end of a tick that read V8's sampler: keeps the handles as the tick leaves them, for the
   * next tick to compare with. V8 samples what the tick allocated after its reading too (sums,
   * judgement, records: heapwatch's own, about one sample per reading at 512 KiB). Compared with
   * the handles right after the reading, that made the next tick read V8 again, and that tick's
   * own allocation the one after: a process at rest was read at most of its ticks.
   */
  endTick(): void {
    if (this.latest && this.readAtLastTick) this.latest.handleBytes = globalHandleBytes();
  }

  /** V8's sites with the sampled Buffers added (see `buffers/with-buffers.ts`), and the ArrayBuffer memory left. */
  private withBuffers(heap: SiteReadings) {
    const exact = arrayBuffersBytes();
    if (!this.buffers?.running) return { ...heap, arrayBuffersBytes: exact };
    return withBuffers(heap, exact, sharedBufferSites.sum(this.buffers.read()), this.filters);
  }
}

/**
 * Whether two readings of V8's sampler hold the same samples of the service's: every site the same
 * bytes and objects. heapwatch's own allocations are in neither (see `snapshot/own-code.ts`).
 */
export function sameSamples(a: SiteReadings, b: SiteReadings): boolean {
  if (a.totalBytes !== b.totalBytes || a.sites.size !== b.sites.size) return false;
  for (const [key, site] of a.sites) {
    const other = b.sites.get(key);
    if (other === undefined || other.size !== site.size || other.count !== site.count) return false;
  }
  return true;
}

/**
 * The process's ArrayBuffer memory (bytes): every Buffer's and typed array's backing store. Read
 * at each reading — ~20 µs, most of it the RSS it reads from the operating system beside (a
 * reading every 10 s at the defaults): nothing on the request path.
 */
function arrayBuffersBytes(): number {
  return process.memoryUsage().arrayBuffers;
}
