import { fileURLToPath } from 'node:url';
import { displayPath } from '../format/path.js';

/**
 * One function on an allocation stack. V8 records functions, not statements: `line` and
 * `column` are where the function is declared, and a callee that TurboFan inlined is charged to
 * its caller's frame.
 */
export interface Frame {
  /** Function name; `(anonymous)` for anonymous functions. */
  readonly functionName: string;
  /**
   * Absolute path of the script (or of its original source, when a source map resolved it),
   * `node:*` for Node's internals, or empty for V8 built-ins.
   */
  readonly file: string;
  /** 1-based line of the function's declaration; 0 when unknown (built-ins). */
  readonly line: number;
  /** 1-based column of the function's declaration; 0 when unknown (built-ins). */
  readonly column: number;
}

/** A V8 script name as a file: `file://` URLs become paths; the rest (`node:*`, paths, '') stays. */
export function scriptNameToFile(scriptName: string): string {
  if (!scriptName.startsWith('file://')) return scriptName;
  try {
    return fileURLToPath(scriptName);
  } catch {
    return scriptName;
  }
}

/**
 * Whether a frame is user code: anything with a script that is not Node's own. Built-ins (no
 * script) and `node:*` internals are skipped when choosing a site, so `Buffer#toString` inside
 * `node:buffer` is charged to the user function that called it. Dependencies under
 * `node_modules` are user code: a leak inside a library is reported at the library's function.
 */
export function isUserFrame(frame: Frame): boolean {
  return frame.file !== '' && !frame.file.startsWith('node:');
}

const KEY = Symbol('heapwatch.frameKey');

/**
 * A frozen frame that carries its key (non-enumerable: it shows in no comparison or JSON), for
 * the frames heapwatch keeps across readings (interned and source-mapped ones): the site key of
 * every stack is taken at every reading. The key lives and dies with its frame — a side table
 * keyed by frames (a WeakMap) grew and never shrank while frames churned: 74 MiB at 100k sites.
 */
export function makeFrame(functionName: string, file: string, line: number, column: number): Frame {
  const frame = { functionName, file, line, column };
  Object.defineProperty(frame, KEY, { value: `${file}:${line}:${column}:${functionName}` });
  return Object.freeze(frame);
}

/**
 * The site of allocations that no JavaScript function made: stacks whose frames all lack a
 * script, as V8's `(V8 API)` root (strings Node's HTTP parser makes in C++, for example). One
 * site for all of them, under this name: no function of the application is there to blame.
 */
export const NATIVE_SITE: Frame = makeFrame('(native)', '', 0, 0);

/** Whether a frame belongs to a script (user code, a dependency, Node's internals), unlike V8's own. */
export function hasScript(frame: Frame): boolean {
  return frame.file !== '';
}

/** A key that identifies a frame: two frames with the same key are the same function. */
export function frameKey(frame: Frame): string {
  return (frame as { [KEY]?: string })[KEY] ?? `${frame.file}:${frame.line}:${frame.column}:${frame.functionName}`;
}

/** `getData (examples/tracemalloc.mjs:9:17)`; built-ins print `(<builtin>)`. */
export function formatFrame(frame: Frame, cwd?: string): string {
  if (frame.file === '') return `${frame.functionName} (<builtin>)`;
  return `${frame.functionName} (${displayPath(frame.file, cwd)}:${frame.line}:${frame.column})`;
}

/**
 * Appended to the file of a frame whose position is in code compiled from a TypeScript file that
 * no source map leads back from (ts-node without `--enable-source-maps`, say). V8 runs such code
 * under the `.ts` file's own name, so its line is not a line of the `.ts` file: the mark keeps it
 * from being read as one, in every output (see docs/typescript.md).
 */
export const COMPILED_MARK = ' [compiled]';

/** The frame at its compiled position, marked as such. */
export function compiledFrame(frame: Frame): Frame {
  return makeFrame(frame.functionName, `${frame.file}${COMPILED_MARK}`, frame.line, frame.column);
}

/** Whether the frame's position is in compiled code that no source map maps back. */
export function isCompiledPosition(frame: Frame): boolean {
  return frame.file.endsWith(COMPILED_MARK);
}

/** The file the frame's code comes from: its `file` without the compiled-position mark. */
export function sourceFileOf(frame: Frame): string {
  return isCompiledPosition(frame) ? frame.file.slice(0, -COMPILED_MARK.length) : frame.file;
}

/**
 * Where a site is, after its file: the declaration line, or `line:column` for a compiled position
 * — a loader's output may be one line (tsx's is), and every function on it would be line 1.
 */
export function sitePosition(frame: Frame): string {
  return isCompiledPosition(frame) ? `${frame.line}:${frame.column}` : String(frame.line);
}
