import { readFileSync } from 'node:fs';
import { scriptNameToFile } from '../snapshot/frame.js';

/** Positions remembered (one per function seen on a sampled Buffer's stack). */
const MAX_POSITIONS = 10_000;
/** How far after a function's first token its parameter list may begin (characters). */
const MAX_SCAN = 1_000;

/**
 * Where V8's heap profile puts a function, from where the stack trace API puts it. The two differ:
 * the profile gives the start of the function's parameter list — the `(` of `function f(`,
 * `async f(`, `static f(`, `get f(` — and the stack trace API (`getEnclosingLineNumber`/`Column`)
 * the function's first token (`function`, `async`, `static`, the method's name); for an arrow
 * function both are its parameters' start (measured on Node 20 and 26:
 * test/buffers/buffer-sampler.test.ts holds the two together on a real profile). A sampled
 * Buffer's site must have V8's key, so that its bytes land on the site of its heap bytes.
 *
 * The `(` is found in the script's text, read from disk when a position is first seen — in a
 * reading, off the request path — and remembered. A script not on disk (Node's own, `eval`), or a
 * position whose text is not a function's start (a file changed since it was loaded), keeps the
 * stack trace API's position: its site then has a key of its own.
 *
 * `v8/function-location.ts` answers the same question for a function *object* (a route handler),
 * by asking V8 through an in-process inspector session. Not used here: a stack trace gives a
 * position, not the function (`CallSite.getFunction()` is undefined in strict code and modules),
 * and the Buffer sampler takes its stacks as Buffers are made, where an inspector round trip per
 * new function has no place.
 */
export class ProfilePositions {
  private readonly positions = new Map<string, { readonly line: number; readonly column: number }>();
  /** Script texts read during one reading, let go after it (see {@link endReading}). */
  private texts = new Map<string, string | undefined>();

  /** The profile's position of the function whose first token is at `line`:`column` (1-based). */
  of(scriptName: string, line: number, column: number): { readonly line: number; readonly column: number } {
    const key = `${scriptName}:${line}:${column}`;
    let position = this.positions.get(key);
    if (position) return position;
    position = this.find(scriptName, line, column) ?? { line, column };
    if (this.positions.size >= MAX_POSITIONS) this.positions.delete(this.positions.keys().next().value as string);
    this.positions.set(key, position);
    return position;
  }

  /** Lets go of the script texts read: a reading needs them, no reading after it does. */
  endReading(): void {
    this.texts = new Map();
  }

  private find(scriptName: string, line: number, column: number): { line: number; column: number } | undefined {
    if (line < 1 || column < 1 || scriptName === '' || scriptName.startsWith('node:')) return undefined;
    const text = this.textOf(scriptName);
    if (text === undefined) return undefined;
    const start = offsetOf(text, line, column);
    if (start === undefined) return undefined;
    const end = parameterListStart(text, start);
    return end === undefined ? undefined : positionOf(text, end);
  }

  private textOf(scriptName: string): string | undefined {
    if (this.texts.has(scriptName)) return this.texts.get(scriptName);
    let text: string | undefined;
    try {
      text = readFileSync(scriptNameToFile(scriptName), 'utf8');
    } catch {
      text = undefined;
    }
    this.texts.set(scriptName, text);
    return text;
  }
}

/** The offset of a 1-based line and column in a text; undefined past its end. */
function offsetOf(text: string, line: number, column: number): number | undefined {
  let offset = 0;
  for (let l = 1; l < line; l++) {
    const next = text.indexOf('\n', offset);
    if (next === -1) return undefined;
    offset = next + 1;
  }
  const at = offset + column - 1;
  return at < text.length ? at : undefined;
}

/** The 1-based line and column of an offset. */
function positionOf(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

const IDENTIFIER_ARROW = /^(?:async\s+)?[\p{ID_Start}$_][\p{ID_Continue}$\u200c\u200d]*\s*=>/u;
const FUNCTION_START = /^(?:async\b|function\b|static\b|get\b|set\b|\*|#|[\p{ID_Start}$_'"[\d])/u;

/**
 * The offset where V8 puts the function that begins at `start`: its parameter list's `(` (or,
 * for `x => …`, the parameter); undefined when the text there does not begin a function.
 */
function parameterListStart(text: string, start: number): number | undefined {
  const head = text.slice(start, start + MAX_SCAN);
  if (head.startsWith('(')) return start;
  const arrow = IDENTIFIER_ARROW.exec(head);
  if (arrow) return head.startsWith('async') ? start + (/^async\s+/.exec(head) as RegExpExecArray)[0].length : start;
  if (!FUNCTION_START.test(head)) return undefined;
  const paren = head.indexOf('(');
  return paren === -1 ? undefined : start + paren;
}
