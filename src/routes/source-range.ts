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

/** `async x => …`, `x => …`: an arrow whose one parameter has no parentheses. */
const BARE_ARROW = /^(?:async\s+)?[\p{ID_Start}$_][\p{ID_Continue}$\u200c\u200d]*\s*=>/u;

/**
 * Where the declaration position falls in the function's text: V8 places it at the parameter list
 * — `(` after `function name`, `async`, a method's name — or at the lone parameter of a bare arrow.
 * The first `(` is that list but for a computed method name holding one (`[f()]() {}`), where the
 * range then ends a few characters late; a class is declared at its first token.
 */
function declarationOffset(source: string): number {
  if (source.startsWith('class') || BARE_ARROW.test(source)) {
    const arrow = /^async\s+/.exec(source);
    return source.startsWith('class') ? 0 : (arrow?.[0].length ?? 0);
  }
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
