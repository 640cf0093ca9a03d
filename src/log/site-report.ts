import type { RouteShare } from '../routes/attribute.js';
import type { Frame } from '../snapshot/frame.js';
import type { Traceback } from '../snapshot/traceback.js';

/** What the monitor knows of one site at one reading. */
export interface SiteReport {
  /** Identifies the site: `file:line:column:function`. */
  readonly key: string;
  /** The allocating function, source-mapped. */
  readonly site: Frame;
  /** The stack that holds the most of the site's bytes, source-mapped. */
  readonly traceback: Traceback;
  /** Estimated live bytes at the latest reading. */
  readonly liveBytes: number;
  /** Estimated live objects at the latest reading. */
  readonly count: number;
  /**
   * Estimated ArrayBuffer memory (Buffer and typed-array contents, outside V8's heap) held through
   * the site's objects at the latest reading (bytes): apart from `liveBytes`, which is V8's heap
   * only. See docs/concepts.md, "Outside V8's heap".
   */
  readonly externalBytes: number;
  /** The standard deviation of `externalBytes` (bytes). */
  readonly externalNoiseBytes: number;
  /**
   * Growth over `horizonMs` of the site's live bytes and its share of the growth of ArrayBuffer
   * memory together: the rate between the medians of its first and last quarters, times its span
   * (bytes).
   */
  readonly growthBytes: number;
  /**
   * The horizon of `growthBytes` (ms): the one over which the site rose when it was suspected,
   * else the window — or as much of it as the site has been watched for.
   */
  readonly horizonMs: number;
  /**
   * The share of the site's bytes allocated since the sampler started that are still live (0–1):
   * near 1 for a leak, near 0 for churn. Only in allocation mode (Node 26, `allocations: true`).
   */
  readonly survival?: number;
  /** Estimated bytes the site allocated since heapwatch started; only in allocation mode. */
  readonly allocatedBytes?: number;
  /** Whether the detector suspects the site. */
  readonly suspected: boolean;
  /** When the suspicion was raised (ms since the epoch), while suspected. */
  readonly suspectedSince: number | undefined;
  /**
   * The routes on the site's stacks and the share of its live bytes from each (see
   * `HeapMonitor.routesOf`), in the report of a `leak-suspected` event; absent when no framework
   * told heapwatch its routes.
   */
  readonly routes?: readonly RouteShare[];
}
