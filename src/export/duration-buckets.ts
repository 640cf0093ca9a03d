/**
 * Bucket bounds of the snapshot-duration histograms (seconds), shared by both exporters: a native
 * read of a few stacks takes ~1 ms, a read with a forced GC of a large heap ~1 s.
 */
export const SNAPSHOT_DURATION_BUCKETS_SECONDS: readonly number[] = Object.freeze([
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
]);
