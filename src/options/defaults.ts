/**
 * Every default in one place, frozen, with its unit. The README's options table is checked
 * against this object by a test.
 */
export const defaults = Object.freeze({
  /** Mean bytes allocated between two samples (bytes). V8's and Go's production rate. */
  samplingIntervalBytes: 512 * 1024,
  /** Frames kept per sampled stack (frames). */
  stackDepth: 64,
  /** Which reader drives V8's sampler: the native one when it loads, else the inspector. */
  reader: 'auto' as 'auto' | 'native' | 'inspector',
});
