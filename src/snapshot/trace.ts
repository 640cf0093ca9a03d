import type { ProfileNode } from '../v8/profile.js';
import type { Frame } from './frame.js';
import { scriptNameToFile } from './frame.js';
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
 * Frames interned across readings: a function that appears on many stacks, or in many readings,
 * is one object, so that caches keyed by the frame (its key, its source-mapped position) hit at
 * every tick. Bounded: past the cap the table starts over (the caches are weak and follow).
 */
export class FrameInterner {
  private readonly frames = new Map<string, Frame>();

  constructor(private readonly maxFrames = 50_000) {}

  frameOf(node: ProfileNode): Frame {
    const key = `${node.scriptName}:${node.lineNumber}:${node.columnNumber}:${node.name}`;
    let frame = this.frames.get(key);
    if (!frame) {
      if (this.frames.size >= this.maxFrames) this.frames.clear();
      frame = Object.freeze({
        functionName: node.name || '(anonymous)',
        file: scriptNameToFile(node.scriptName),
        line: node.lineNumber,
        column: node.columnNumber,
      });
      this.frames.set(key, frame);
    }
    return frame;
  }
}

const sharedInterner = new FrameInterner();

/**
 * Flattens V8's call tree into one trace per stack that holds live samples. Subtrees under
 * heapwatch's own frames are skipped (see `own-code.ts`).
 */
export function tracesFromProfile(root: ProfileNode, interner: FrameInterner = sharedInterner): Trace[] {

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
