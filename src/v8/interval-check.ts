import type { ProfileNode } from './profile.js';

/**
 * V8's own scaling of a sample count (`SamplingHeapProfiler::ScaleSample`): an object of `size`
 * bytes is sampled with probability 1 - exp(-size / interval), so each sample stands for the
 * inverse of that many objects, rounded to the nearest integer.
 */
export function scaleSampleCount(samples: number, sizeBytes: number, samplingIntervalBytes: number): number {
  const scale = 1 / (1 - Math.exp(-sizeBytes / samplingIntervalBytes));
  return Math.floor(samples * scale + 0.5);
}

/**
 * Whether a scaled `count` of `sizeBytes` objects can have come from a sampler running at
 * `samplingIntervalBytes`: some whole number of samples must scale to it. One count of tolerance
 * covers the last-bit difference between JavaScript's and C++'s `exp`.
 */
export function countFitsInterval(count: number, sizeBytes: number, samplingIntervalBytes: number): boolean {
  const scale = 1 / (1 - Math.exp(-sizeBytes / samplingIntervalBytes));
  const samples = Math.max(1, Math.round(count / scale));
  return Math.abs(scaleSampleCount(samples, sizeBytes, samplingIntervalBytes) - count) <= 1;
}

/** How many allocation buckets to test: enough to be sure, few enough to cost nothing. */
const BUCKETS_TO_CHECK = 64;
/** Buckets that must disagree before the interval is declared changed. */
const DISAGREEMENTS_TO_FAIL = 2;

/**
 * Tells whether a profile was sampled at `samplingIntervalBytes`. Another client can stop V8's
 * sampler and start it again at its own interval between two reads; nothing in the profile says
 * so, except that every count was scaled with the other interval. Small objects carry that
 * signature (their counts are whole multiples of the scale, which differs between intervals);
 * objects larger than the interval carry none and are skipped.
 */
export function profileMatchesInterval(root: ProfileNode, samplingIntervalBytes: number): boolean {
  let checked = 0;
  let disagreements = 0;
  const pending: ProfileNode[] = [root];
  while (pending.length > 0 && checked < BUCKETS_TO_CHECK) {
    const node = pending.pop() as ProfileNode;
    for (const { sizeBytes, count } of node.allocations) {
      if (sizeBytes <= 0 || sizeBytes * 4 > samplingIntervalBytes || count <= 0) continue;
      checked++;
      if (!countFitsInterval(count, sizeBytes, samplingIntervalBytes)) disagreements++;
      if (disagreements >= DISAGREEMENTS_TO_FAIL) return false;
    }
    for (const child of node.children) pending.push(child);
  }
  return true;
}
