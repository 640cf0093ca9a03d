import type { Traceback } from '../snapshot/traceback.js';

// The shapes in which readings leave the growth window (see `growth/window.ts`) for the judgements
// (trend, noise, confirmation) and the reports: plain arrays, oldest first, so that those can be
// tested on series written by hand.

/** The readings of one site, oldest first. */
export interface SiteSeries {
  readonly key: string;
  /** Estimated live bytes per reading. */
  readonly bytes: readonly number[];
  /** Estimated live objects per reading. */
  readonly counts: readonly number[];
  /** When each reading was taken (ms since the epoch). */
  readonly timestamps: readonly number[];
  /** Estimated live bytes of all sites at each reading. */
  readonly totals: readonly number[];
  /** The process's ArrayBuffer memory at each reading (`process.memoryUsage().arrayBuffers`, bytes); absent in a series built by hand. */
  readonly arrayBuffers?: readonly number[];
  /** Of `bytes`, the bytes of ArrayBuffer wrappers at each reading (see `snapshot/backing-stores.ts`); absent in a series built by hand. */
  readonly wrapperBytes?: readonly number[];
  /** Of `bytes`, the site's Buffers sampled in JavaScript at each reading (see `buffers/buffer-sampler.ts`); absent in a series built by hand. */
  readonly sampledExternalBytes?: readonly number[];
  /** The site's largest stack at the latest reading that held it; its `site` is the site. */
  readonly traceback: Traceback;
}

/** A site's live bytes and when they were read, oldest first: what a judgement reads. */
export interface BytesSeries {
  readonly bytes: readonly number[];
  readonly timestamps: readonly number[];
}
