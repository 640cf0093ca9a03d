import { Session } from 'node:inspector';

/**
 * Where V8 says a function is declared: its script's id and the position of its parameter list,
 * 1-based like the frames of a heap profile (which name the same position for the same function),
 * and its source text as `Function.prototype.toString` gives it (from its first token to its end).
 */
export interface FunctionLocation {
  readonly scriptId: number;
  readonly line: number;
  readonly column: number;
  readonly source: string;
}

/** The parts of the DevTools protocol's answers read here. */
interface RemoteObject {
  readonly objectId?: string;
  readonly value?: unknown;
}
interface InternalProperty {
  readonly name: string;
  readonly value?: RemoteObject;
}

let session: Session | undefined;

function post<T>(method: string, params: object): T {
  let result: T | undefined;
  let failure: Error | null | undefined;
  // In-process sessions answer synchronously.
  session?.post(method, params, (error: Error | null, value?: object) => {
    failure = error;
    result = value as T;
  });
  if (failure) throw failure;
  if (failure === undefined) throw new Error(`${method} did not answer synchronously`);
  return result as T;
}

const HANDOFF = Symbol.for('heapwatch.functionLocations');

/** `[[FunctionLocation]]`, or the bound target to look in, of one function object. */
function locate(objectId: string, fn: Function): FunctionLocation | undefined {
  let id: string | undefined = objectId;
  for (let hops = 0; id !== undefined && hops < 8; hops++) {
    const answer: { internalProperties?: InternalProperty[] } = post('Runtime.getProperties', { objectId: id, ownProperties: true });
    const internalProperties = answer.internalProperties ?? [];
    const location = internalProperties.find((property) => property.name === '[[FunctionLocation]]')?.value?.value as
      | { scriptId: string; lineNumber: number; columnNumber: number }
      | undefined;
    if (location) {
      // The text of the function itself, or of the bound target ("function () { [native code] }" is the bound one's).
      const source =
        hops === 0
          ? Function.prototype.toString.call(fn)
          : post<{ result: RemoteObject }>('Runtime.callFunctionOn', {
              objectId: id,
              functionDeclaration: 'function () { return Function.prototype.toString.call(this); }',
              returnByValue: true,
            }).result.value;
      if (typeof source !== 'string') return undefined;
      return { scriptId: Number(location.scriptId), line: location.lineNumber + 1, column: location.columnNumber + 1, source };
    }
    id = internalProperties.find((property) => property.name === '[[TargetFunction]]')?.value?.objectId;
  }
  return undefined;
}

/**
 * Where V8 says each function is declared: its `[[FunctionLocation]]` internal property, read
 * through an in-process inspector session's Runtime domain — the one cheap way to a function's
 * position without running it. No Debugger domain is enabled (that would make V8 keep every
 * script's source and debug information). A bound function is followed to its target. Undefined
 * for a built-in or native function; all undefined where the inspector is unavailable; never
 * throws. One round trip of the protocol per function (55–80 µs for a function made by
 * `new Function`, ~0.5 ms for one in a module of 2 000: BENCHMARKS.md): once per function, never
 * per request.
 *
 * `buffers/profile-position.ts` answers the same question without the inspector, from a stack
 * trace's position and the script's text on disk. Not used here: a function object tells neither
 * its script nor its position (its `toString()` gives its text only), so a route handler's place
 * can be had from V8 alone; the inspector is asked when routes are read (a verdict, a scrape of
 * a suspect, the heap page), once per handler, never on a reading or a request.
 */
export function functionLocations(fns: readonly Function[]): Array<FunctionLocation | undefined> {
  const found: Array<FunctionLocation | undefined> = fns.map(() => undefined);
  if (fns.length === 0) return found;
  try {
    if (!session) {
      session = new Session();
      session.connect();
    }
    // The Runtime domain finds objects by expression: the functions are handed over on a global
    // symbol for the time of one evaluation, then reached as the elements of that array.
    const global = globalThis as unknown as Record<symbol, unknown>;
    global[HANDOFF] = fns;
    let arrayId: string | undefined;
    try {
      arrayId = post<{ result: RemoteObject }>('Runtime.evaluate', { expression: `globalThis[Symbol.for('heapwatch.functionLocations')]`, objectGroup: 'heapwatch' }).result.objectId;
    } finally {
      delete global[HANDOFF];
    }
    if (arrayId === undefined) return found;
    const { result = [] } = post<{ result?: Array<{ name: string; value?: RemoteObject }> }>('Runtime.getProperties', { objectId: arrayId, ownProperties: true });
    for (const element of result) {
      const index = Number(element.name);
      const fn = fns[index];
      if (!Number.isInteger(index) || fn === undefined || element.value?.objectId === undefined) continue;
      try {
        found[index] = locate(element.value.objectId, fn);
      } catch {
        // This function's position stays unknown; the others are read.
      }
    }
    return found;
  } catch {
    return found;
  } finally {
    try {
      if (session) post('Runtime.releaseObjectGroup', { objectGroup: 'heapwatch' });
    } catch {
      // Released with the session at the latest.
    }
  }
}

/** {@link functionLocations} of one function. */
export function functionLocation(fn: Function): FunctionLocation | undefined {
  return functionLocations([fn])[0];
}
