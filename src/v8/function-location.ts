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

const HANDOFF = Symbol.for('heapwatch.functionLocation');

/**
 * The declaration of `fn` as V8 knows it: its `[[FunctionLocation]]` internal property, read through
 * an in-process inspector session's Runtime domain — the one cheap way to a function's position
 * without running it. No Debugger domain is enabled (that would make V8 keep every script's source
 * and debug information). A bound function is followed to its target. Undefined for a built-in or
 * native function, or where the inspector is unavailable; never throws. Costs a few round trips of
 * the protocol (a fraction of a millisecond): call it once per function, never per request.
 */
export function functionLocation(fn: Function): FunctionLocation | undefined {
  try {
    if (!session) {
      session = new Session();
      session.connect();
    }
    // The Runtime domain finds objects by expression: the function is handed over on a global
    // symbol for the time of one evaluation.
    const global = globalThis as unknown as Record<symbol, unknown>;
    global[HANDOFF] = fn;
    let objectId: string | undefined;
    try {
      objectId = post<{ result: RemoteObject }>('Runtime.evaluate', { expression: `globalThis[Symbol.for('heapwatch.functionLocation')]`, objectGroup: 'heapwatch' }).result.objectId;
    } finally {
      delete global[HANDOFF];
    }
    for (let hops = 0; objectId !== undefined && hops < 8; hops++) {
      const { internalProperties = [] } = post<{ internalProperties?: InternalProperty[] }>('Runtime.getProperties', { objectId, ownProperties: true });
      const location = internalProperties.find((property) => property.name === '[[FunctionLocation]]')?.value?.value as
        | { scriptId: string; lineNumber: number; columnNumber: number }
        | undefined;
      if (location) {
        // The target's text, not the bound function's ("function () { [native code] }").
        const source = post<{ result: RemoteObject }>('Runtime.callFunctionOn', {
          objectId,
          functionDeclaration: 'function () { return Function.prototype.toString.call(this); }',
          returnByValue: true,
        }).result.value;
        if (typeof source !== 'string') return undefined;
        return { scriptId: Number(location.scriptId), line: location.lineNumber + 1, column: location.columnNumber + 1, source };
      }
      objectId = internalProperties.find((property) => property.name === '[[TargetFunction]]')?.value?.objectId;
    }
    return undefined;
  } catch {
    return undefined;
  } finally {
    try {
      if (session) post('Runtime.releaseObjectGroup', { objectGroup: 'heapwatch' });
    } catch {
      // Released with the session at the latest.
    }
  }
}
