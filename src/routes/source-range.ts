import type { FunctionLocation } from '../v8/function-location.js';

/**
 * The source of one function: its script, and the positions (1-based, as in heap-profile frames)
 * of its parameter list and of its last character. A frame of the same script at a position in
 * between is the function itself or a function declared inside it (a callback, a closure).
 */
export interface SourceRange {
  readonly scriptId: number;
  /** `line × 2³² + column` of the declaration, as heap-profile frames give it. */
  readonly start: number;
  /** `line × 2³² + column` of the function's last character. */
  readonly end: number;
}

/** A position as one comparable number: exact for lines below 2²¹ and columns below 2³². */
export function positionOf(line: number, column: number): number {
  return line * 2 ** 32 + column;
}

/** An arrow function's text: `(a) => …`, `a => …`, `async (a) => …`, `async a => …`. */
const ARROW = /^(?:async\s*)?(?:\(|[\p{ID_Start}$_][\p{ID_Continue}$\u200c\u200d]*\s*=>)/u;

/**
 * Where the declaration position falls in the function's text (measured on Node 22 and 26): an
 * arrow function is declared at its first token (`async` included); every other function at its
 * parameter list, the first `(` of its text — after `function name`, `async`, `*`, a method's name,
 * and in a class at its constructor's. A computed method name holding a `(` (`[f()]() {}`) would
 * end the range a few characters late.
 */
function declarationOffset(source: string): number {
  if (ARROW.test(source)) return 0;
  const paren = source.indexOf('(');
  return paren === -1 ? 0 : paren;
}

/**
 * The range a function's text spans, from V8's declaration position and its source text: the end
 * is the declaration advanced over the text after it, counting line terminators as V8 does.
 */
export function sourceRangeOf(location: FunctionLocation): SourceRange {
  const rest = location.source.slice(declarationOffset(location.source));
  let line = location.line;
  let column = location.column;
  for (let i = 0; i < rest.length; i++) {
    const code = rest.charCodeAt(i);
    // \r\n is one line end; \n, \r, U+2028 and U+2029 alone are one each.
    if (code === 0x0a || code === 0x2028 || code === 0x2029 || (code === 0x0d && rest.charCodeAt(i + 1) !== 0x0a)) {
      line++;
      column = 1;
    } else {
      column++;
    }
  }
  // The loop stops one past the last character.
  return { scriptId: location.scriptId, start: positionOf(location.line, location.column), end: positionOf(line, column - 1) };
}
