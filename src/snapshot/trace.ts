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
 * Flattens V8's call tree into one trace per stack that holds live samples. Frames are interned:
 * a function that appears on many stacks is one object. Subtrees under heapwatch's own frames are
 * skipped (see `own-code.ts`).
 */
export function tracesFromProfile(root: ProfileNode): Trace[] {
  const interned = new Map<string, Frame>();
  const frameOf = (node: ProfileNode): Frame => {
    const key = `${node.scriptName}:${node.lineNumber}:${node.columnNumber}:${node.name}`;
    let frame = interned.get(key);
    if (!frame) {
      frame = Object.freeze({
        functionName: node.name || '(anonymous)',
        file: scriptNameToFile(node.scriptName),
        line: node.lineNumber,
        column: node.columnNumber,
      });
      interned.set(key, frame);
    }
    return frame;
  };

  const traces: Trace[] = [];
  // Outermost frame first along the path; the root node itself is `(root)`, not a frame.
  const path: Frame[] = [];
  const visit = (node: ProfileNode, depth: number): void => {
    if (isOwnScript(node.scriptName)) return;
    path.length = depth;
    path.push(frameOf(node));
    let size = 0;
    let count = 0;
    for (const allocation of node.allocations) {
      size += allocation.sizeBytes * allocation.count;
      count += allocation.count;
    }
    if (count > 0) traces.push({ traceback: new Traceback(path.slice().reverse()), size, count });
    for (const child of node.children) visit(child, depth + 1);
  };
  for (const child of root.children) visit(child, 0);
  return traces;
}
