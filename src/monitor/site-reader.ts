import { sharedInterner } from '../snapshot/frame-interner.js';
import type { Filter } from '../snapshot/filter.js';
import { SiteAggregator } from '../snapshot/site-aggregator.js';
import { sharedResolver } from '../snapshot/source-map.js';
import { readProfile } from '../v8/sampler.js';
import type { Reading } from './clean-readings.js';

/** A reading not taken: V8's heap is at its limit and the near-limit callback is on its way. */
export class HoldReading extends Error {}

/**
 * Reads V8's sampler and sums it per site, filtered by `include`/`exclude`: every reading the
 * monitor takes — at its ticks, after major GCs, at the heap limit — goes through here.
 */
export class SiteReader {
  /** Readings taken. */
  taken = 0;
  private readonly aggregator = new SiteAggregator(sharedInterner, sharedResolver);

  constructor(
    private readonly filters: readonly Filter[],
    /** Whether readings are held back now (V8's heap at its limit: see `near-limit.ts`). */
    private readonly holdReadings: () => boolean,
  ) {}

  /** Throws {@link HoldReading} while readings are held back, and whatever reading the sampler throws. */
  read(): Reading {
    if (this.holdReadings()) throw new HoldReading();
    const profile = readProfile();
    const timestamp = Date.now();
    const sites = this.aggregator.aggregate(profile.root, this.filters);
    this.taken++;
    return { ...sites, timestamp, reader: profile.reader, samplingIntervalBytes: profile.samplingIntervalBytes };
  }
}
