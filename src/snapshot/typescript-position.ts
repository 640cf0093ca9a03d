import { readFileSync } from 'node:fs';
import { sep } from 'node:path';
import { WarningCode, warnOnce } from '../errors.js';
import type { Frame } from './frame.js';
import { COMPILED_MARK, compiledFrame } from './frame.js';

const TYPESCRIPT_FILE = /\.(?:[mc]?ts|tsx)$/;
/** What Node's type stripping runs: not `.tsx`, and nothing under node_modules (Node refuses it there). */
const STRIPPABLE_FILE = /\.[mc]?ts$/;
const NODE_MODULES = `${sep}node_modules${sep}`;
/** Files read to check positions; the lines of the last few are kept. */
const MAX_CACHED_SOURCES = 16;
const MAX_SOURCE_BYTES = 8 * 1024 * 1024;
const MAX_TRACKED_FILES = 2_000;
/** How far above a class's first field its `class Name` may be (doc comments, decorators). */
const CLASS_LOOKBACK_LINES = 50;
/**
 * What V8 points at for a function: the `(` of its parameter list, the first parameter of an
 * arrow without parentheses or the `async` before it, a class's first field or the `{` of its
 * body (field initializers), the `class` keyword (default constructors).
 */
const FUNCTION_START = /[({\p{ID_Start}$_]/u;

/** Whether V8 runs this file as TypeScript: its positions need a map or a check. */
export function isTypeScriptFile(file: string): boolean {
  return TYPESCRIPT_FILE.test(file);
}

/** Whether Node itself may be running TypeScript files by stripping their types (22.6 and later). */
function nodeCanStripTypes(): boolean {
  const major = Number(process.versions.node.split('.')[0]);
  // `process.features.typescript` ('strip', 'transform' or false) exists from Node 22.10 on.
  return major >= 22 && (process.features as { typescript?: unknown }).typescript !== false;
}

/**
 * Decides where a frame of a TypeScript file that no source map covers is. Node's own type
 * stripping (`--experimental-strip-types` on 22, the default on 24) runs the file with its types
 * blanked out, so V8's positions are the file's own. A loader that compiles in memory and keeps its
 * map to itself (ts-node without `--enable-source-maps`) runs other code under the same name, at
 * other positions: reporting those as lines of the `.ts` file would name the wrong lines. Since
 * heapwatch cannot see the code V8 runs, it checks each position against the file on disk (the line
 * exists, V8's column falls on what starts a function there, the function's name is on that line)
 * and, from the first misfit on, holds the whole file for compiled: its frames are marked
 * ({@link COMPILED_MARK}) and a warning says so, once per file.
 */
export class TypeScriptPositions {
  /** Files whose frames are at compiled positions: they stay so. */
  private readonly compiledFiles = new Set<string>();
  private readonly sources = new Map<string, readonly string[] | null>();

  /**
   * @param onCompiledFile called when a file is first found compiled: frames of it resolved
   *   earlier, that happened to fit, are stale.
   * @param stripping whether Node may be stripping types in this process. Default: from the running Node.
   */
  constructor(
    private readonly onCompiledFile: (file: string) => void = () => {},
    private readonly stripping = nodeCanStripTypes(),
  ) {}

  /** A frame of a TypeScript file that no source map covers: itself, when its position is the file's own; else marked as compiled. */
  withoutMap(frame: Frame): Frame {
    const { file } = frame;
    if (!this.compiledFiles.has(file) && this.couldBeStripped(file)) {
      const lines = this.linesOf(file);
      if (lines && fitsSource(frame, lines)) return frame;
    }
    this.markCompiled(
      file,
      `${file} runs as code compiled in memory, with no source map that heapwatch can find (ts-node without --enable-source-maps, ` +
        `or a loader that does not hand its maps to Node): its sites are reported at their compiled positions, ` +
        `as "${file}${COMPILED_MARK}:line:column". Run node with --enable-source-maps to see .ts lines; see docs/typescript.md`,
    );
    return compiledFrame(frame);
  }

  /** A frame of a TypeScript file whose source map has no mapping at its position: code the compiler added. */
  notInMap(frame: Frame): Frame {
    this.markCompiled(
      frame.file,
      `The source map of ${frame.file} has no mapping for some of its functions (code the compiler added); ` +
        `those sites are reported at their compiled positions, as "${frame.file}${COMPILED_MARK}:line:column"`,
    );
    return compiledFrame(frame);
  }

  private couldBeStripped(file: string): boolean {
    return this.stripping && STRIPPABLE_FILE.test(file) && !file.includes(NODE_MODULES);
  }

  private markCompiled(file: string, message: string): void {
    warnOnce(WarningCode.TYPESCRIPT_UNMAPPED, message, file);
    if (this.compiledFiles.has(file)) return;
    if (this.compiledFiles.size >= MAX_TRACKED_FILES) this.compiledFiles.clear();
    this.compiledFiles.add(file);
    this.sources.delete(file);
    this.onCompiledFile(file);
  }

  private linesOf(file: string): readonly string[] | null {
    let lines = this.sources.get(file);
    if (lines !== undefined) {
      // Most recently used last: the oldest goes first.
      this.sources.delete(file);
    } else {
      lines = readLines(file);
      if (this.sources.size >= MAX_CACHED_SOURCES) this.sources.delete(this.sources.keys().next().value as string);
    }
    this.sources.set(file, lines);
    return lines;
  }
}

function readLines(file: string): readonly string[] | null {
  try {
    const source = readFileSync(file, 'utf8');
    return source.length > MAX_SOURCE_BYTES ? null : source.split(/\r?\n/);
  } catch {
    return null;
  }
}

/** Whether a position V8 gave for a function is where a function starts in these lines. */
export function fitsSource(frame: Frame, lines: readonly string[]): boolean {
  // A module's own code is at 1:1 whatever was done to it.
  if (frame.line === 1 && frame.column === 1) return true;
  const text = lines[frame.line - 1];
  const at = text?.[frame.column - 1];
  if (text === undefined || at === undefined || !FUNCTION_START.test(at)) return false;
  const name = declaredName(frame.functionName);
  if (name === '' || text.includes(name)) return true;
  // A class's field initializers are charged to the class, at its first field.
  const declaration = new RegExp(`\\bclass\\s+${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\p{ID_Continue}$])`, 'u');
  return lines.slice(Math.max(0, frame.line - 1 - CLASS_LOOKBACK_LINES), frame.line - 1).some((line) => declaration.test(line));
}

/** The name as written in the source: V8 prefixes accessors (`get size`) and may infer dotted names. */
function declaredName(functionName: string): string {
  if (functionName === '(anonymous)') return '';
  const name = functionName.replace(/^[gs]et /, '');
  return name.slice(name.lastIndexOf('.') + 1);
}
