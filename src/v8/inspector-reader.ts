import { Session } from 'node:inspector';
import type { HeapProfileReader } from './reader.js';
import { SamplerStoppedError } from './reader.js';
import type { ProfileAllocation, ProfileNode } from './profile.js';
import { inferIntervalFromSampleSizes, scaleSampleCount } from './interval-check.js';
import { samplerAlreadyRunning } from './sampler-probe.js';

/** The subset of the DevTools protocol's `HeapProfiler.SamplingHeapProfile` heapwatch reads. */
interface InspectorNode {
  callFrame: { functionName: string; scriptId: string; url: string; lineNumber: number; columnNumber: number };
  /** Bytes of the samples at this node, as V8 scaled them. */
  selfSize: number;
  id: number;
  children: InspectorNode[];
}
interface InspectorSample {
  /** Not the object's size: its size times V8's scaled count, i.e. the bytes the sample stands for. */
  size: number;
  nodeId: number;
  /** Unique and increasing over one sampler's life. */
  ordinal: number;
}
export interface SamplingHeapProfile {
  head: InspectorNode;
  samples: InspectorSample[];
}

/** `node:inspector` sessions answer in-process requests synchronously; this makes that explicit. */
function postSync<T>(session: Session, method: string, params?: object): T {
  let result: T | undefined;
  let failure: Error | null | undefined;
  session.post(method, params ?? {}, (error: Error | null, value?: object) => {
    failure = error;
    result = value as T;
  });
  if (failure) throw failure;
  if (failure === undefined) throw new Error(`${method} did not answer synchronously`);
  return result as T;
}

/** V8 object sizes are multiples of the 8-byte tagged word on the 64-bit platforms Node ships for. */
const OBJECT_ALIGNMENT = 8;
/** The smallest object JavaScript can allocate: a map word and one more word (a HeapNumber). */
const SMALLEST_OBJECT_BYTES = 16;

/**
 * The object size behind one inspector sample. The protocol reports `size × scaledCount`, not the
 * size: several sizes can give the same product (at 4096, 24 × 171 = 72 × 57 = 4104), so this
 * returns the smallest aligned size whose V8 scaling gives exactly `scaledBytes`. Bytes stay exact;
 * counts from the inspector reader are estimates that can be too high for large objects.
 */
export function objectSizeOfSample(scaledBytes: number, samplingIntervalBytes: number): number {
  // A sampled object of s bytes stands for at most interval + 1.5 s bytes: s cannot be smaller.
  const lowest = Math.max(SMALLEST_OBJECT_BYTES, Math.floor((scaledBytes - samplingIntervalBytes) / 1.5));
  const start = Math.ceil(lowest / OBJECT_ALIGNMENT) * OBJECT_ALIGNMENT;
  for (let size = start; size <= scaledBytes; size += OBJECT_ALIGNMENT) {
    if (scaledBytes % size === 0 && scaleSampleCount(1, size, samplingIntervalBytes) * size === scaledBytes) return size;
  }
  return scaledBytes; // not of V8's making (another interval): one object of that size
}

/**
 * Converts the inspector's profile (0-based positions, a list of samples) into the plain
 * {@link ProfileNode} tree (1-based positions, per-size buckets with scaled counts).
 */
export function fromInspectorProfile(
  profile: SamplingHeapProfile,
  samplingIntervalBytes: number,
  sizeCache = new Map<number, number>(),
): ProfileNode {
  // nodeId -> (scaled bytes of one sample -> number of samples)
  const samplesByNode = new Map<number, Map<number, number>>();
  for (const { nodeId, size } of profile.samples) {
    let bySize = samplesByNode.get(nodeId);
    if (!bySize) samplesByNode.set(nodeId, (bySize = new Map()));
    bySize.set(size, (bySize.get(size) ?? 0) + 1);
  }
  const objectSize = (scaledBytes: number): number => {
    let size = sizeCache.get(scaledBytes);
    if (size === undefined) {
      if (sizeCache.size >= 10_000) sizeCache.clear();
      sizeCache.set(scaledBytes, (size = objectSizeOfSample(scaledBytes, samplingIntervalBytes)));
    }
    return size;
  };
  const convert = (node: InspectorNode): ProfileNode => {
    const allocations: ProfileAllocation[] = [];
    for (const [scaledBytes, samples] of samplesByNode.get(node.id) ?? []) {
      // Scaled per bucket, as V8 does for the native reader (and for the inspector's selfSize).
      const sizeBytes = objectSize(scaledBytes);
      allocations.push({ sizeBytes, count: scaleSampleCount(samples, sizeBytes, samplingIntervalBytes) });
    }
    const { functionName, scriptId, url, lineNumber, columnNumber } = node.callFrame;
    return {
      name: functionName,
      scriptName: url,
      scriptId: Number(scriptId),
      lineNumber: lineNumber < 0 ? 0 : lineNumber + 1,
      columnNumber: columnNumber < 0 ? 0 : columnNumber + 1,
      allocations,
      children: node.children.map(convert),
    };
  };
  return convert(profile.head);
}

/**
 * Whether the sampler was restarted since the previous read. Ordinals are unique and increasing
 * over one sampler's life, so a sample alive now whose ordinal is not above the previous read's
 * highest must have been in the previous read, with the same size. A restarted sampler counts
 * from 1 again: its samples reuse old ordinals, for other objects (and, at another interval,
 * other scaled sizes). V8 forced a GC before both reads, so no dead sample blurs this.
 */
function restartedSince(previous: ReadonlyMap<number, number>, previousHighest: number, samples: InspectorSample[]): boolean {
  return samples.some(({ ordinal, size }) => ordinal <= previousHighest && previous.get(ordinal) !== size);
}

/** Sessions that sent `HeapProfiler.startSampling`: V8 stops the sampler when one of them disconnects. */
const startedSampling = new WeakSet<Session>();
/** At most one such session, kept connected after stop() because another client uses the sampler it started. */
let lingering: Session | undefined;

function connect(): Session {
  const session = new Session();
  session.connect();
  return session;
}

/**
 * The inspector reader: `HeapProfiler.getSamplingProfile` on an in-process session. V8 forces a
 * full GC before answering (see the costs in `reader.ts`), so garbage never counts as live here.
 */
export function createInspectorReader(): HeapProfileReader {
  let session: Session | undefined;
  // ordinal -> scaled bytes of the samples alive at the previous read
  let ordinals = new Map<number, number>();
  let highestOrdinal = 0;
  const sizeCache = new Map<number, number>();
  let sizeCacheIntervalBytes = 0;
  // False while reading a sampler another client started, until its samples tell its interval.
  let intervalKnown = true;
  return {
    name: 'inspector',
    alreadyRunning: samplerAlreadyRunning,
    start(intervalBytes, _stackDepth, shared) {
      // A session that started sampling and was left connected (see stop()) is taken up again.
      session ??= lingering ?? connect();
      lingering = undefined;
      ordinals = new Map();
      highestOrdinal = 0;
      intervalKnown = !shared;
      // A session that started sampling stops it when it disconnects: a shared sampler is only read.
      if (!shared) {
        postSync(session, 'HeapProfiler.startSampling', { samplingInterval: intervalBytes });
        startedSampling.add(session);
      }
    },
    stop(shared) {
      if (!session) return;
      if (shared) {
        // V8 stops the sampler when the session that started it disconnects, even after another
        // client restarted it since: that session stays connected while the other client uses it.
        if (startedSampling.has(session)) lingering = session;
        else session.disconnect();
      } else {
        try {
          postSync(session, 'HeapProfiler.stopSampling');
        } catch {
          // Already stopped (by us or another client): nothing left to stop.
        }
        session.disconnect();
      }
      session = undefined;
    },
    read(expectedIntervalBytes) {
      if (!session) throw new SamplerStoppedError('the inspector reader is not started');
      let profile: SamplingHeapProfile;
      try {
        profile = postSync<{ profile: SamplingHeapProfile }>(session, 'HeapProfiler.getSamplingProfile').profile;
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        if (/not started/i.test(message)) throw new SamplerStoppedError('the V8 sampling heap profiler was stopped');
        throw error;
      }
      const restarted = restartedSince(ordinals, highestOrdinal, profile.samples);
      ordinals = new Map(profile.samples.map((sample) => [sample.ordinal, sample.size]));
      highestOrdinal = profile.samples.reduce((highest, sample) => Math.max(highest, sample.ordinal), restarted ? 0 : highestOrdinal);
      let samplingIntervalBytes = expectedIntervalBytes;
      if (restarted || !intervalKnown) {
        const inferred = inferIntervalFromSampleSizes(profile.samples.map((sample) => sample.size), expectedIntervalBytes);
        if (inferred !== undefined) samplingIntervalBytes = inferred;
        intervalKnown = inferred !== undefined;
      }
      if (samplingIntervalBytes !== sizeCacheIntervalBytes) {
        sizeCache.clear();
        sizeCacheIntervalBytes = samplingIntervalBytes;
      }
      return { root: fromInspectorProfile(profile, samplingIntervalBytes, sizeCache), samplingIntervalBytes, restarted };
    },
  };
}
