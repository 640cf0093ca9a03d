import { isOwnScript } from '../snapshot/own-code.js';

/**
 * One frame of a sampled Buffer's stack, as the JavaScript stack trace API gives it: the position
 * is where the enclosing function's source begins (its `function`, `async` or method-name token),
 * not yet where V8's heap profile puts it (see `profile-position.ts`).
 */
export interface RawFrame {
  readonly functionName: string;
  /** The script's name as V8 knows it: a path, a `file://` URL, `node:*`, or '' for built-ins. */
  readonly scriptName: string;
  /** 1-based line of the function's first token; 0 when unknown. */
  readonly line: number;
  /** 1-based column of the function's first token; 0 when unknown. */
  readonly column: number;
}

/**
 * Frames kept per sampled stack: the site is the innermost frame of user code, and Node's own
 * frames between it and `Buffer.*` are few. A capture costs about 1 µs a frame — on an Express
 * stack 3.5 µs at 4 frames, 7.6 µs at 8, 17 µs at 16 on Node 26; 7, 12 and 20 µs on Node 22
 * (BENCHMARKS.md, issue 22, "the Buffer sampler's cost") — once per sampled Buffer, on the request
 * path. 8 keeps the site and the few frames above it that tell where the call came from (a route
 * handler and its helper); the traceback of a site V8 has sampled is V8's own (64 frames). A
 * Buffer made more than 8 frames below the application's code (deep in Node's streams) is left to
 * the wrapper share, as one made with no frame of the application's is.
 */
const STACK_DEPTH = 8;

const callSites = (_error: Error, sites: NodeJS.CallSite[]): NodeJS.CallSite[] => sites;

/**
 * The stack below `below` (a `Buffer.*` wrapper, left out with everything above it), innermost
 * frame first; undefined when heapwatch's own code is on it (its Buffers are its overhead, left
 * out as V8's readings leave them out: see `snapshot/own-code.ts`). The stack trace API's
 * settings are restored whatever happens: user code sees `Error.prepareStackTrace` and
 * `Error.stackTraceLimit` as it left them.
 */
export function captureStack(below: (...args: never[]) => unknown): RawFrame[] | undefined {
  const holder: { stack?: unknown } = {};
  // Node defines `Error.prepareStackTrace` (its own, from Node 20 on); an application may have
  // removed it: then it is removed again, not left defined as undefined.
  const hadPrepare = Object.hasOwn(Error, 'prepareStackTrace');
  const prepare = Error.prepareStackTrace;
  const limit = Error.stackTraceLimit;
  let sites: unknown;
  try {
    Error.prepareStackTrace = callSites;
    Error.stackTraceLimit = STACK_DEPTH;
    Error.captureStackTrace(holder, below);
    sites = holder.stack;
  } finally {
    if (hadPrepare) Error.prepareStackTrace = prepare;
    else delete (Error as { prepareStackTrace?: unknown }).prepareStackTrace;
    Error.stackTraceLimit = limit;
  }
  if (!Array.isArray(sites)) return undefined;
  const frames: RawFrame[] = [];
  for (const site of sites as NodeJS.CallSite[]) {
    const scriptName = site.getFileName() ?? '';
    if (scriptName !== '' && isOwnScript(scriptName)) return undefined;
    frames.push({
      functionName: site.getFunctionName() ?? '(anonymous)',
      scriptName,
      line: site.getEnclosingLineNumber?.() ?? site.getLineNumber() ?? 0,
      column: site.getEnclosingColumnNumber?.() ?? site.getColumnNumber() ?? 0,
    });
  }
  return frames;
}

/** A key that tells two raw stacks apart: the same frames in the same order. */
export function rawStackKey(frames: readonly RawFrame[]): string {
  let key = '';
  for (const frame of frames) key += `${frame.scriptName}\u0000${frame.line}:${frame.column}:${frame.functionName}\u0001`;
  return key;
}
