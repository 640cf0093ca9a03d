import type { RawProfile } from '../v8/profile.js';
import { allocationsUnavailable } from '../v8/sampler.js';
import { Snapshot } from './snapshot.js';
import type { SourceMapResolver } from './source-map.js';
import { tracesFromProfile } from './trace.js';
import type { Trace } from './trace.js';

/** The parts of `process.memoryUsage()` a snapshot keeps (bytes). */
export interface MemoryReading {
  readonly heapUsed: number;
  readonly external: number;
  readonly arrayBuffers: number;
}

/**
 * Builds a snapshot from one read of the sampler and the memory usage read beside it, with the
 * traces of the Buffers sampled in JavaScript, if any (see `Trace.externalSize`).
 */
export function snapshotFromProfile(
  profile: RawProfile,
  memory: MemoryReading,
  timestamp: number,
  resolver?: SourceMapResolver,
  bufferTraces: readonly Trace[] = [],
): Snapshot {
  return new Snapshot(
    {
      traces: [...tracesFromProfile(profile.root), ...bufferTraces],
      samplingIntervalBytes: profile.samplingIntervalBytes,
      reader: profile.reader,
      timestamp,
      heapUsedBytes: memory.heapUsed,
      unattributed: { externalBytes: memory.external, arrayBuffersBytes: memory.arrayBuffers },
      allocations: profile.allocations ?? false,
      allocationsUnavailable: profile.allocations ? undefined : (allocationsUnavailable() ?? 'taken without allocation data'),
      epoch: profile.epoch ?? 0,
    },
    resolver,
  );
}
