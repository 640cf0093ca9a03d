import type { ReaderName } from './profile.js';

/** The first Node line whose V8 can keep the samples of collected objects (V8 14). */
export const ALLOCATIONS_MIN_NODE_MAJOR = 26;

/**
 * Why allocation data (bytes and objects allocated per site, survival) cannot be had in this
 * process, or undefined when it can. Before Node 26, V8's sampling heap profiler forgets a sample
 * when its object dies, so only live memory is known; the inspector reader cannot ask for the mode.
 */
export function allocationsUnavailableReason(reader: ReaderName | undefined, nodeVersion = process.versions.node): string | undefined {
  const major = Number(nodeVersion.split('.')[0]);
  if (!(major >= ALLOCATIONS_MIN_NODE_MAJOR)) {
    return (
      `allocation data needs Node ${ALLOCATIONS_MIN_NODE_MAJOR} or newer: this is Node ${nodeVersion}, ` +
      "whose V8 forgets a sampled allocation when its object is collected; live bytes per site are available"
    );
  }
  if (reader === 'inspector') {
    return 'allocation data needs the native reader (@datadog/pprof); this process reads through node:inspector';
  }
  return undefined;
}
