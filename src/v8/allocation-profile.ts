import type { ProfileAllocation, ProfileNode } from './profile.js';

/**
 * One bucket of V8's profile in allocation mode (`@datadog/pprof`'s `AllocationWithStats`): the
 * objects of one size at one node, those still live and all those allocated, scaled by V8 to
 * estimates of true counts and bytes.
 */
export interface AllocationWithStats {
  readonly inuseObjects: number;
  readonly inuseSpaceBytes: number;
  readonly allocObjects: number;
  readonly allocSpaceBytes: number;
}

/** A node of V8's profile in allocation mode (`AllocationProfileNodeWithStats`). */
export interface ProfileNodeWithStats extends Omit<ProfileNode, 'allocations' | 'children'> {
  readonly allocations: readonly AllocationWithStats[];
  readonly children: readonly ProfileNodeWithStats[];
}

/** A profile in allocation mode, as heapwatch's plain tree, and what V8 keeps of collected objects. */
export interface ConvertedAllocationProfile {
  readonly root: ProfileNode;
  /**
   * Samples V8 keeps for objects already collected: its store grows by one per sampled allocation
   * that died (95–215 bytes of the process's memory each, measured on Node 26.12.1) until the
   * sampler is restarted. Estimated from the scaled counts.
   */
  readonly collectedSamples: number;
}

/** Whether a node's buckets are in allocation mode's shape (a node with no bucket says nothing). */
export function hasAllocationStats(root: ProfileNode | ProfileNodeWithStats): boolean | undefined {
  const stack: (ProfileNode | ProfileNodeWithStats)[] = [root];
  for (let node = stack.pop(); node; node = stack.pop()) {
    const first = node.allocations[0];
    if (first) return typeof (first as Partial<AllocationWithStats>).allocObjects === 'number';
    stack.push(...node.children);
  }
  return undefined;
}

/**
 * Turns a profile in allocation mode into heapwatch's tree: each bucket's object size is exact
 * (a bucket holds one size: its bytes over its count), `count` its live objects and
 * `allocatedCount` all it allocated. Buckets with no live object stay: they are the churn.
 */
export function convertAllocationProfile(root: ProfileNodeWithStats, samplingIntervalBytes: number): ConvertedAllocationProfile {
  let collectedSamples = 0;
  const convert = (node: ProfileNodeWithStats): ProfileNode => {
    const allocations: ProfileAllocation[] = [];
    for (const bucket of node.allocations) {
      const { allocObjects, allocSpaceBytes, inuseObjects } = bucket;
      if (allocObjects <= 0) continue;
      const sizeBytes = allocSpaceBytes / allocObjects;
      allocations.push({ sizeBytes, count: inuseObjects, allocatedCount: allocObjects });
      // V8 scales a sample of a `size`-byte object to 1 / (1 - e^(-size/interval)) objects.
      collectedSamples += (allocObjects - inuseObjects) * -Math.expm1(-sizeBytes / samplingIntervalBytes);
    }
    const { name, scriptName, scriptId, lineNumber, columnNumber } = node;
    const children = node.children.map(convert);
    return scriptId === undefined
      ? { name, scriptName, lineNumber, columnNumber, allocations, children }
      : { name, scriptName, scriptId, lineNumber, columnNumber, allocations, children };
  };
  return { root: convert(root), collectedSamples: Math.round(collectedSamples) };
}
