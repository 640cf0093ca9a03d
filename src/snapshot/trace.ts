import type { ProfileNode } from '../v8/profile.js';
import type { Frame } from './frame.js';
import { sharedInterner } from './frame-interner.js';
import type { FrameInterner } from './frame-interner.js';
import { isOwnScript } from './own-code.js';
import { Traceback } from './traceback.js';

/** The live sampled memory of one stack, like tracemalloc's `Trace`. */
export interface Trace {
  readonly traceback: Traceback;
  /** Estimated live bytes allocated with this stack. */
  readonly size: number;
  /** Estimated live objects allocated with this stack. */
  readonly count: number;
}

/**
 * Flattens V8's call tree into one trace per stack that holds live samples. Subtrees under
 * heapwatch's own frames are skipped (see `own-code.ts`).
 */
export function tracesFromProfile(root: ProfileNode, interner: FrameInterner = sharedInterner): Trace[] {
  interner.startReading();
  const traces: Trace[] = [];
  // Outermost frame first along the path; the root node itself is `(root)`, not a frame.
  const path: Frame[] = [];
  const visit = (node: ProfileNode, depth: number): void => {
    if (isOwnScript(node.scriptName)) return;
    path.length = depth;
    path.push(interner.frameOf(node));
    let size = 0;
    let count = 0;
    for (const allocation of node.allocations) {
      size += allocation.sizeBytes * allocation.count;
      count += allocation.count;
    }
    if (count > 0) {
      // Innermost frame first, as Traceback wants it.
      const frames = new Array<Frame>(depth + 1);
      for (let i = 0; i <= depth; i++) frames[i] = path[depth - i] as Frame;
      traces.push({ traceback: new Traceback(frames), size, count });
    }
    for (const child of node.children) visit(child, depth + 1);
  };
  for (const child of root.children) visit(child, 0);
  return traces;
}
