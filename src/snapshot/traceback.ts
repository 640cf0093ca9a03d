import { displayPath } from '../format/path.js';
import type { Frame } from './frame.js';
import { makesBackingStores } from './backing-stores.js';
import { formatFrame, frameKey, hasScript, isUserFrame, NATIVE_SITE, sitePosition } from './frame.js';

/** Options of {@link Traceback.format}. */
export interface TracebackFormatOptions {
  /** Keep only this many frames, counted from the most recent call. Default: all. */
  readonly limit?: number;
  /**
   * `true` prints the allocating function first, like a Node stack trace; `false` prints the
   * outermost call first, like Python's tracebacks and `tracemalloc`'s `format()`. Default: `true`.
   */
  readonly mostRecentFirst?: boolean;
  /** Paths under this directory are printed relative to it. Default: `process.cwd()`. */
  readonly cwd?: string;
}

/**
 * The index of the innermost frame of user code; when the stack holds none, of the innermost frame
 * that does not make Buffers (so that a socket's chunks are charged to Node's stream reader,
 * `onStreamRead`, not to `FastBuffer` or `Uint8Array`), or 0 when all do; -1 when no frame has a
 * script (the allocation was made outside JavaScript: {@link NATIVE_SITE}).
 */
function findSiteIndex(frames: readonly Frame[]): number {
  const index = frames.findIndex(isUserFrame);
  if (index !== -1) return index;
  if (!frames.some(hasScript)) return -1;
  return Math.max(0, frames.findIndex((frame) => !makesBackingStores(frame)));
}

/**
 * The stack of one allocation. `frames[0]` is the innermost frame (where V8 saw the allocation,
 * often a built-in), the last frame is the outermost call — the order of a JavaScript
 * `Error#stack`. The *site* is the innermost frame of user code.
 */
export class Traceback {
  readonly frames: readonly Frame[];
  /** Index into {@link frames} of the allocation site; -1 when it is {@link NATIVE_SITE}. */
  readonly siteIndex: number;

  constructor(frames: readonly Frame[], siteIndex = findSiteIndex(frames)) {
    this.frames = frames;
    this.siteIndex = siteIndex;
  }

  /**
   * The allocation site: the innermost frame of user code, or when there is none the innermost
   * frame that does not make Buffers (or the innermost, when all do), or {@link NATIVE_SITE} when
   * no frame has a script.
   */
  get site(): Frame {
    if (this.siteIndex === -1) return this.frames.length > 0 ? NATIVE_SITE : UNKNOWN_FRAME;
    return this.frames[this.siteIndex] ?? UNKNOWN_FRAME;
  }

  /** Identifies the whole stack. */
  get key(): string {
    return this.frames.map(frameKey).join('\n');
  }

  /** One line per frame, `getData (examples/tracemalloc.mjs:9:17)`, most recent call first by default. */
  format(options: TracebackFormatOptions = {}): string[] {
    const { limit = this.frames.length, mostRecentFirst = true, cwd } = options;
    const lines = this.frames.slice(0, Math.max(0, limit)).map((frame) => formatFrame(frame, cwd));
    return mostRecentFirst ? lines : lines.reverse();
  }

  /** `file:line` of the site, as `str(traceback)` in tracemalloc. */
  toString(): string {
    return `${displayPath(this.site.file)}:${sitePosition(this.site)}`;
  }
}

const UNKNOWN_FRAME: Frame = Object.freeze({ functionName: '(unknown)', file: '', line: 0, column: 0 });
