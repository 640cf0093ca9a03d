import { bufferSampler } from './buffers/buffer-sampler.js';
import { sharedBufferSites } from './buffers/buffer-sites.js';
import { snapshotFromProfile } from './snapshot/from-profile.js';
import type { Snapshot } from './snapshot/snapshot.js';
import type { Trace } from './snapshot/trace.js';
import { readProfile } from './v8/sampler.js';

/**
 * Reads the sampler's live allocations into a {@link Snapshot}, like `tracemalloc.take_snapshot()`;
 * while a monitor samples Buffers (`bufferSampling: true`), their live samples too, as traces of
 * their own (`Trace.externalSize`). Throws `HEAPWATCH_ERR_NOT_SAMPLING` before `startSampling()`,
 * and `HEAPWATCH_ERR_SAMPLER_LOST` when another client stopped or restarted the sampler since the
 * last read.
 */
export function takeSnapshot(): Snapshot {
  const profile = readProfile();
  return snapshotFromProfile(profile, process.memoryUsage(), Date.now(), undefined, sampledBufferTraces());
}

function sampledBufferTraces(): Trace[] {
  return bufferSampler.running ? sharedBufferSites.traces(bufferSampler.read()) : [];
}
