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
  // script name → declaration position → function name → frame. Nested maps rather than one map
  // keyed by a joined string: the reader hands over fresh strings at every read, and joining them
  // for every node of the tree cost more than the three lookups.
  private readonly frames = new Map<string, Map<number, Map<string, Frame>>>();
  private size = 0;

  constructor(private readonly maxFrames = 50_000) {}

  frameOf(node: ProfileNode): Frame {
    // Exact for lines below 2^21 and columns below 2^32 (a minified bundle's one line is long).
    const position = node.lineNumber * 2 ** 32 + node.columnNumber;
    let byName = this.framesAt(node.scriptName, position);
    let frame = byName.get(node.name);
    if (!frame) {
      if (this.size >= this.maxFrames) {
        this.clear();
        byName = this.framesAt(node.scriptName, position);
      }
      frame = Object.freeze({
        functionName: node.name || '(anonymous)',
        file: scriptNameToFile(node.scriptName),
        line: node.lineNumber,
        column: node.columnNumber,
      });
      byName.set(node.name, frame);
      this.size++;
    }
    return frame;
  }

  private framesAt(scriptName: string, position: number): Map<string, Frame> {
    let byPosition = this.frames.get(scriptName);
    if (!byPosition) this.frames.set(scriptName, (byPosition = new Map()));
    let byName = byPosition.get(position);
    if (!byName) byPosition.set(position, (byName = new Map()));
    return byName;
  }

  private clear(): void {
    this.frames.clear();
    this.size = 0;
  }
}

/** One interner for every reading of the process: the monitor's and `takeSnapshot()`'s. */
export const sharedInterner = new FrameInterner();

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
