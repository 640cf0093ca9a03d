import type { SiteReading } from '../snapshot/site-aggregator.js';

/**
 * What the growth window keeps of memory outside V8's heap, per slot of its timeline (see
 * `growth/window.ts`): the process's ArrayBuffer memory and all sites' ArrayBuffer wrappers (see
 * `snapshot/backing-stores.ts`), and for each tracked site its wrappers and the Buffers the
 * Buffer sampler saw it keep (see `buffers/buffer-sampler.ts`). Apart from the heap readings
 * because they answer another question — how much of the memory V8's sampler cannot see belongs to
 * a site (see `growth/external-share.ts`) — and are 0 throughout where it is not read.
 */

/** The process's ArrayBuffer memory at a reading, and the wrapper bytes of all sites (0 when not read). */
export interface OutsideReading {
  readonly arrayBuffersBytes: number;
  readonly totalWrapperBytes: number;
  /**
   * The standard deviation of `arrayBuffersBytes` (bytes): that of the Buffer sampler's estimate
   * subtracted from the exact figure (see `buffers/with-buffers.ts`); 0 or absent when it is off.
   */
  readonly sampledExternalNoiseBytes?: number;
}

/** The process's memory outside V8's heap per slot. */
export class ProcessBufferSlots {
  /** The process's ArrayBuffer memory per slot: exact, read with each reading. */
  private readonly arrayBuffers: Float64Array;
  /** Bytes of ArrayBuffer wrappers of all sites per slot. */
  private readonly totalWrappers: Float64Array;
  /** The standard deviation of `arrayBuffers` per slot (see {@link OutsideReading}). */
  private readonly noise: Float64Array;

  constructor(capacity: number) {
    this.arrayBuffers = new Float64Array(capacity);
    this.totalWrappers = new Float64Array(capacity);
    this.noise = new Float64Array(capacity);
  }

  record(slot: number, outside: OutsideReading): void {
    this.arrayBuffers[slot] = outside.arrayBuffersBytes;
    this.totalWrappers[slot] = outside.totalWrapperBytes;
    this.noise[slot] = outside.sampledExternalNoiseBytes ?? 0;
  }

  /** The standard deviation of the process's ArrayBuffer memory at a slot (bytes; 0 where it is exact). */
  noiseAt(slot: number): number {
    return this.noise[slot] as number;
  }

  /** The process's ArrayBuffer memory at a slot (bytes). */
  arrayBuffersAt(slot: number): number {
    return this.arrayBuffers[slot] as number;
  }

  /** The figures at a slot, with the ArrayBuffer memory's noise; 0 before the first reading (`slot` undefined). */
  at(slot: number | undefined): OutsideReading {
    if (slot === undefined) return { arrayBuffersBytes: 0, totalWrapperBytes: 0, sampledExternalNoiseBytes: 0 };
    return {
      arrayBuffersBytes: this.arrayBuffers[slot] as number,
      totalWrapperBytes: this.totalWrappers[slot] as number,
      sampledExternalNoiseBytes: this.noise[slot] as number,
    };
  }
}

/**
 * One tracked site's bytes outside V8's heap per slot: parts of its bytes, in 32-bit floats as
 * those are (see `growth/window.ts`).
 */
export class SiteBufferSlots {
  /** Of the site's bytes, those of ArrayBuffer wrappers. */
  private readonly wrappers: Float32Array;
  /** Of the site's bytes, those of the site's Buffers sampled in JavaScript. */
  private readonly sampled: Float32Array;
  /** The standard deviation of the latest reading's `sampled` (bytes). */
  private sampledNoise = 0;

  constructor(capacity: number) {
    this.wrappers = new Float32Array(capacity);
    this.sampled = new Float32Array(capacity);
  }

  /** Records the site's reading at a slot: nothing held when the reading has no such site. */
  record(slot: number, reading: SiteReading | undefined): void {
    this.wrappers[slot] = reading?.wrapperBytes ?? 0;
    this.sampled[slot] = reading?.sampledExternalBytes ?? 0;
    this.sampledNoise = reading?.sampledExternalNoiseBytes ?? 0;
  }

  /** The site's wrapper bytes at a slot. */
  wrappersAt(slot: number): number {
    return this.wrappers[slot] as number;
  }

  /** The site's Buffers sampled in JavaScript at a slot (bytes). */
  sampledAt(slot: number): number {
    return this.sampled[slot] as number;
  }

  /** The site's sampled Buffers at the latest reading's slot, and their standard deviation (bytes). */
  latestSampled(slot: number): { readonly bytes: number; readonly noiseBytes: number } {
    return { bytes: this.sampled[slot] as number, noiseBytes: this.sampledNoise };
  }
}
