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

/**
 * The same test for a profile in allocation mode (Node 26): there the addon scales each sample on
 * its own, rounded (`floor(scale + 0.5)` objects each), and sums them, live and allocated counts
 * alike — so a count is a whole multiple of that rounded scale (measured on Node 26.12.1 with
 * `@datadog/pprof` 5.20: 24 samples of 48 bytes at 4 KiB count 2064 = 24 × 86, where V8's own
 * scaling of the sum gives 2060).
 */
export function countFitsIntervalPerSample(count: number, sizeBytes: number, samplingIntervalBytes: number): boolean {
  const scaled = 1 / (1 - Math.exp(-sizeBytes / samplingIntervalBytes)) + 0.5;
  const perSample = Math.floor(scaled);
  if (count % perSample === 0) return true;
  // On a rounding edge, JavaScript's and C++'s `exp` may differ in the last bit: the other side.
  const edge = Math.round(scaled);
  return Math.abs(scaled - edge) < 1e-9 && count % (edge === perSample ? perSample - 1 : edge) === 0;
}

/** How many allocation buckets to test: enough to be sure, few enough to cost nothing. */
const BUCKETS_TO_CHECK = 64;
/** Buckets that must disagree before the interval is declared changed. */
const DISAGREEMENTS_TO_FAIL = 2;

/** How many buckets agree and disagree with an interval, among the first {@link BUCKETS_TO_CHECK} that carry its signature. */
function evidenceFor(root: ProfileNode, samplingIntervalBytes: number): { checked: number; disagreements: number } {
  let checked = 0;
  let disagreements = 0;
  const pending: ProfileNode[] = [root];
  while (pending.length > 0 && checked < BUCKETS_TO_CHECK && disagreements < DISAGREEMENTS_TO_FAIL) {
    const node = pending.pop() as ProfileNode;
    for (const { sizeBytes, count, allocatedCount } of node.allocations) {
      if (sizeBytes <= 0 || sizeBytes * 4 > samplingIntervalBytes || count <= 0) continue;
      checked++;
      const fits = allocatedCount === undefined ? countFitsInterval : countFitsIntervalPerSample;
      if (!fits(count, sizeBytes, samplingIntervalBytes)) disagreements++;
    }
    for (const child of node.children) pending.push(child);
  }
  return { checked, disagreements };
}

/**
 * Tells whether a profile was sampled at `samplingIntervalBytes`. Another client can stop V8's
 * sampler and start it again at its own interval between two reads; nothing in the profile says
 * so, except that every count was scaled with the other interval. Small objects carry that
 * signature (their counts are whole multiples of the scale, which differs between intervals);
 * objects larger than the interval carry none and are skipped.
 */
export function profileMatchesInterval(root: ProfileNode, samplingIntervalBytes: number): boolean {
  return evidenceFor(root, samplingIntervalBytes).disagreements < DISAGREEMENTS_TO_FAIL;
}

/** Buckets that must agree before an interval is inferred from a profile. */
const BUCKETS_TO_INFER = 8;

/**
 * The intervals another tool is likely to have chosen: powers of two from 1 KiB to 16 MiB, which
 * hold every peer's default (512 KiB for dd-trace, Pyroscope and `--heap-prof`, 32 KiB for
 * DevTools, 128 KiB for heapwatch's former default).
 */
const CANDIDATE_INTERVALS_BYTES = Array.from({ length: 15 }, (_, i) => 2 ** (24 - i));

/**
 * The interval a profile was sampled at, when its small objects tell: the largest of the
 * candidates (and `hint`) that at least {@link BUCKETS_TO_INFER} buckets agree with. The largest,
 * because counts scaled at R also fit R/2 whenever their sample count is even, never the reverse.
 * Undefined while the profile holds too few small objects to tell.
 */
export function inferSamplingInterval(root: ProfileNode, hint?: number): number | undefined {
  const candidates = hint === undefined ? CANDIDATE_INTERVALS_BYTES : [...new Set([...CANDIDATE_INTERVALS_BYTES, hint])].sort((a, b) => b - a);
  for (const candidate of candidates) {
    const { checked, disagreements } = evidenceFor(root, candidate);
    if (checked >= BUCKETS_TO_INFER && disagreements < DISAGREEMENTS_TO_FAIL) return candidate;
  }
  return undefined;
}

/**
 * The same for the inspector's samples, whose sizes are the bytes each one stands for: about
 * `interval + size / 2` for an object of `size` bytes, never less than the interval. The smallest
 * objects (16 to 64 bytes) put the smallest of them a few bytes above the interval, so the
 * interval is the largest candidate at or under that smallest sample, if it lies within 1 % of it.
 */
export function inferIntervalFromSampleSizes(sampleBytes: readonly number[], hint?: number): number | undefined {
  if (sampleBytes.length < BUCKETS_TO_INFER) return undefined;
  let smallest = Infinity;
  for (const bytes of sampleBytes) if (bytes > 0 && bytes < smallest) smallest = bytes;
  const candidates = hint === undefined ? CANDIDATE_INTERVALS_BYTES : [...CANDIDATE_INTERVALS_BYTES, hint];
  const below = candidates.filter((candidate) => candidate <= smallest);
  if (below.length === 0) return undefined;
  const interval = Math.max(...below);
  return smallest <= interval * 1.01 ? interval : undefined;
}
