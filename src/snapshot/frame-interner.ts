import type { ProfileNode } from '../v8/profile.js';
import type { Frame } from './frame.js';
import { makeFrame, scriptNameToFile } from './frame.js';

/** An interned frame, and the last reading that used it. */
interface Interned {
  readonly frame: Frame;
  usedAt: number;
}

/** The interned frames of one script, by declaration position (a few may share one: an array). */
interface ScriptFrames {
  readonly file: string;
  readonly scriptId: number | undefined;
  readonly byPosition: Map<number, Interned | Interned[]>;
}

/**
 * Frames interned across readings: a function that appears on many stacks, or in many readings,
 * is one object, built once with its key, so that an unchanged stack is recognised by identity
 * and a site's key costs nothing. Bounded by `maxFrames`. Once full, the frames the last reading
 * did not use are let go at the start of the next one; the frames still in use keep their
 * identity, and a reading that needs more frames than the cap gets the rest built afresh (with
 * no key: {@link frameKey} joins theirs when asked), never by starting over mid-reading, which
 * would rebuild every frame at every reading.
 */
export class FrameInterner {
  // script name → declaration position → frame: the reader hands over fresh strings at every
  // read, and hashing the script name and a number is cheaper than joining and hashing four
  // fields per node; one map per script, not per position, keeps the table small.
  private readonly scripts = new Map<string, ScriptFrames>();
  /** V8's script ids of the scripts above: how a function's declaration is found among the frames. */
  private readonly files = new Map<number, string>();
  private size = 0;
  private reading = 0;

  constructor(private readonly maxFrames = 50_000) {}

  /** Call before each reading. */
  startReading(): void {
    this.reading++;
    if (this.size >= this.maxFrames) this.releaseUnused();
  }

  frameOf(node: ProfileNode): Frame {
    const functionName = node.name || '(anonymous)';
    let script = this.scripts.get(node.scriptName);
    if (!script) {
      script = { file: scriptNameToFile(node.scriptName), scriptId: node.scriptId, byPosition: new Map() };
      if (this.size < this.maxFrames) {
        this.scripts.set(node.scriptName, script);
        if (node.scriptId !== undefined) this.files.set(node.scriptId, script.file);
      }
    }
    // Exact for lines below 2^21 and columns below 2^32 (a minified bundle's one line is long).
    const position = node.lineNumber * 2 ** 32 + node.columnNumber;
    const found = script.byPosition.get(position);
    const interned = Array.isArray(found) ? found.find((entry) => entry.frame.functionName === functionName) : found;
    if (interned?.frame.functionName === functionName) {
      interned.usedAt = this.reading;
      return interned.frame;
    }
    if (this.size >= this.maxFrames) {
      return Object.freeze({ functionName, file: script.file, line: node.lineNumber, column: node.columnNumber });
    }
    const entry: Interned = { frame: makeFrame(functionName, script.file, node.lineNumber, node.columnNumber), usedAt: this.reading };
    script.byPosition.set(position, found === undefined ? entry : [...(Array.isArray(found) ? found : [found]), entry]);
    this.size++;
    return entry.frame;
  }

  /**
   * The file of the script V8 knows by `scriptId`, as frames carry it (not source-mapped), when a
   * reading still in memory had a frame of that script.
   */
  fileOfScript(scriptId: number): string | undefined {
    return this.files.get(scriptId);
  }

  /** Lets go of the frames the last reading did not use. */
  private releaseUnused(): void {
    const since = this.reading - 1;
    for (const [scriptName, script] of this.scripts) {
      for (const [position, found] of script.byPosition) {
        const kept = Array.isArray(found) ? found.filter((entry) => entry.usedAt >= since) : found.usedAt >= since ? [found] : [];
        const count = Array.isArray(found) ? found.length : 1;
        this.size -= count - kept.length;
        if (kept.length === 0) script.byPosition.delete(position);
        else if (kept.length < count) script.byPosition.set(position, kept.length === 1 ? (kept[0] as Interned) : kept);
      }
      if (script.byPosition.size === 0) {
        this.scripts.delete(scriptName);
        if (script.scriptId !== undefined) this.files.delete(script.scriptId);
      }
    }
  }
}

/** One interner for every reading of the process: the monitor's and `takeSnapshot()`'s. */
export const sharedInterner = new FrameInterner();
