import picomatch from 'picomatch';
import { displayPath } from '../format/path.js';
import { invalidOption } from '../options/validate.js';
import type { Frame } from './frame.js';
import { sourceFileOf } from './frame.js';
import type { Traceback } from './traceback.js';

/** Options of a {@link Filter}. */
export interface FilterOptions {
  /** Match only frames at this 1-based line (the function's declaration line). Default: any line. */
  readonly line?: number;
  /** Match any frame of the stack instead of the site alone. Default: `false`. */
  readonly allFrames?: boolean;
}

/**
 * Keeps or drops traces by file, like tracemalloc's `Filter`. `filePattern` is a glob (picomatch
 * syntax: `**` crosses directories, `*` does not) matched against the path relative to the
 * working directory and against the absolute path; for compiled code, against the original source
 * when a source map resolves it. With several filters, a trace is kept when it matches at least
 * one inclusive filter (if there are any) and no exclusive one.
 */
export class Filter {
  readonly inclusive: boolean;
  readonly filePattern: string;
  readonly line: number | undefined;
  readonly allFrames: boolean;
  private readonly test: (path: string) => boolean;

  constructor(inclusive: boolean, filePattern: string, options: FilterOptions = {}) {
    if (typeof inclusive !== 'boolean') throw invalidOption('inclusive', 'a boolean', inclusive);
    if (typeof filePattern !== 'string' || filePattern === '') {
      throw invalidOption('filePattern', 'a non-empty glob string', filePattern);
    }
    const { line, allFrames = false } = options;
    if (line !== undefined && (!Number.isInteger(line) || line < 1)) {
      throw invalidOption('line', 'an integer >= 1', line);
    }
    if (typeof allFrames !== 'boolean') throw invalidOption('allFrames', 'a boolean', allFrames);
    this.inclusive = inclusive;
    this.filePattern = filePattern;
    this.line = line;
    this.allFrames = allFrames;
    this.test = picomatch(filePattern, { dot: true });
  }

  /**
   * Whether the pattern (and line, if set) matches the site — or any frame, with `allFrames`.
   * `resolve` maps a frame to its original source; only the frames looked at are resolved.
   */
  matches(traceback: Traceback, resolve: (frame: Frame) => Frame = (frame) => frame): boolean {
    if (!this.allFrames) return this.matchesFrame(resolve(traceback.site));
    return traceback.frames.some((frame) => this.matchesFrame(resolve(frame)));
  }

  private matchesFrame(frame: Frame): boolean {
    if (this.line !== undefined && frame.line !== this.line) return false;
    // A compiled position still comes from its file: `src/**/*.ts` matches it.
    const file = sourceFileOf(frame);
    return this.test(displayPath(file)) || this.test(file);
  }
}

/** tracemalloc's rule for a list of filters: any inclusive one must match, no exclusive one may. */
export function passesFilters(
  traceback: Traceback,
  filters: readonly Filter[],
  resolve?: (frame: Frame) => Frame,
): boolean {
  let included: boolean | undefined;
  for (const filter of filters) {
    if (filter.inclusive) {
      included ||= filter.matches(traceback, resolve);
    } else if (filter.matches(traceback, resolve)) {
      return false;
    }
  }
  return included !== false;
}
