import type { ProfileNode } from '../v8/profile.js';
import type { Frame } from './frame.js';
import { sharedInterner } from './frame-interner.js';
import type { FrameInterner } from './frame-interner.js';
import { Traceback } from './traceback.js';
import { walkProfile } from './walk-profile.js';

/** The live sampled memory of one stack, like tracemalloc's `Trace`. */
export interface Trace {
  readonly traceback: Traceback;
  /** Estimated live bytes allocated with this stack. */
  readonly size: number;
  /** Estimated live objects allocated with this stack. */
  readonly count: number;
  /** Estimated bytes allocated with this stack since the sampler started, live or not; 0 or absent without allocation data. */
  readonly allocatedSize?: number;
  /** Estimated objects allocated with this stack since the sampler started; 0 or absent without allocation data. */
  readonly allocatedCount?: number;
  /**
   * Of `size`, the bytes of ArrayBuffer wrappers (see `backing-stores.ts`): what the stack's share
   * of the process's ArrayBuffer memory is estimated from. 0 when absent.
   */
  readonly wrapperSize?: number;
  /**
   * Bytes of the Buffers made on this stack and still alive, sampled in JavaScript by their bytes
   * (`bufferSampling: true`, see `buffers/buffer-sampler.ts`): outside V8's heap, so not in `size`.
   * A trace of sampled Buffers has no `size` or `count` of its own. 0 when absent.
   */
  readonly externalSize?: number;
  /** The variance of `externalSize` (bytes²): the Buffer sampler's, as V8's is `size`'s. 0 when absent. */
  readonly externalVariance?: number;
}

/**
 * Flattens V8's call tree into one trace per stack that holds live samples, or — in allocation
 * mode — that allocated anything (churn holds nothing live). Subtrees under
 * heapwatch's own frames are skipped (see `own-code.ts`).
 */
export function tracesFromProfile(root: ProfileNode, interner: FrameInterner = sharedInterner): Trace[] {
  const traces: Trace[] = [];
  // Outermost frame first along the path; the root node itself is `(root)`, not a frame.
  const path: Frame[] = [];
  walkProfile(root, interner, (frame, depth, size, count, wrapperSize, allocatedSize, allocatedCount) => {
    path.length = depth;
    path.push(frame);
    if (count === 0 && allocatedCount === 0) return;
    // Innermost frame first, as Traceback wants it.
    const frames = new Array<Frame>(depth + 1);
    for (let i = 0; i <= depth; i++) frames[i] = path[depth - i] as Frame;
    traces.push({ traceback: new Traceback(frames), size, count, wrapperSize, allocatedSize, allocatedCount });
  });
  return traces;
}
