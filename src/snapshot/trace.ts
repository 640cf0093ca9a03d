import type { ProfileNode } from '../v8/profile.js';
import type { Frame } from './frame.js';
import { makeFrame, scriptNameToFile } from './frame.js';
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

/** The interned frames of one script, by declaration position (a few share one: an array). */
interface ScriptFrames {
  readonly file: string;
  readonly byPosition: Map<number, Frame | Frame[]>;
}

/**
 * Frames interned across readings: a function that appears on many stacks, or in many readings,
 * is one object, so that its key is built once and an unchanged stack is recognised by identity. Bounded by `maxFrames`: once full,
 * the frames of the rest of the reading are built but not kept, and the table starts over at the
 * next reading ({@link startReading}) — never in the middle of one, where it would build every
 * frame twice.
 */
export class FrameInterner {
  // script name → declaration position → frame: the reader hands over fresh strings at every
  // read, and hashing the script name and a number is cheaper than joining and hashing four
  // fields per node; one map per script, not per position, keeps the table small.
  private readonly scripts = new Map<string, ScriptFrames>();
  private size = 0;

  constructor(private readonly maxFrames = 50_000) {}

  /** Call before each reading: a table filled by the last readings starts over. */
  startReading(): void {
    if (this.size < this.maxFrames) return;
    this.scripts.clear();
    this.size = 0;
  }

  frameOf(node: ProfileNode): Frame {
    const functionName = node.name || '(anonymous)';
    let script = this.scripts.get(node.scriptName);
    if (!script) {
      script = { file: scriptNameToFile(node.scriptName), byPosition: new Map() };
      if (this.size < this.maxFrames) this.scripts.set(node.scriptName, script);
    }
    // Exact for lines below 2^21 and columns below 2^32 (a minified bundle's one line is long).
    const position = node.lineNumber * 2 ** 32 + node.columnNumber;
    const found = script.byPosition.get(position);
    if (found !== undefined) {
      if (!Array.isArray(found)) {
        if (found.functionName === functionName) return found;
      } else {
        for (const frame of found) if (frame.functionName === functionName) return frame;
      }
    }
    const frame = makeFrame(functionName, script.file, node.lineNumber, node.columnNumber);
    if (this.size < this.maxFrames) {
      script.byPosition.set(position, found === undefined ? frame : [...(Array.isArray(found) ? found : [found]), frame]);
      this.size++;
    }
    return frame;
  }
}

/** One interner for every reading of the process: the monitor's and `takeSnapshot()`'s. */
export const sharedInterner = new FrameInterner();

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
