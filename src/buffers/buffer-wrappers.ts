/**
 * The `Buffer` factories heapwatch wraps while a monitor samples Buffers, and whether each may
 * return a slice of Node's shared pool: `allocUnsafe`, `from`, `concat` and `copyBytesFrom` do for
 * a size under `Buffer.poolSize >>> 1` (Node's rule in lib/buffer.js), `alloc` and
 * `allocUnsafeSlow` never do. `concat` calls `Buffer.allocUnsafe` itself: a wrapper called inside
 * another passes through (see {@link installBufferWrappers}), so a Buffer is counted once.
 */
const FACTORIES = [
  ['alloc', false],
  ['allocUnsafe', true],
  ['allocUnsafeSlow', false],
  ['from', true],
  ['concat', true],
  ['copyBytesFrom', true],
] as const;

type Factory = (...args: unknown[]) => unknown;

/** Called with each Buffer a wrapped factory returned that owns memory of its own (see below). */
export type OnBuffer = (buffer: Buffer, size: number, wrapper: Factory) => void;

/** Set on removal: a wrapper left in place (another library's over it) passes through from then on. */
interface WrapperState {
  passThrough: boolean;
}

let installed: Array<{ readonly name: string; readonly original: Factory; readonly wrapper: Factory; readonly state: WrapperState }> | undefined;
/** Set while a wrapped factory runs: the factories it calls pass through. */
let inside = false;

/**
 * Replaces the `Buffer` factories with wrappers that return what the originals return, throw what
 * they throw, and keep their `name` and `length`; each Buffer that holds memory of its own — not a
 * slice of the pool, not a view of the caller's ArrayBuffer (`Buffer.from(arrayBuffer)`), not
 * empty — is handed to `onBuffer` after it is made. A factory that cannot be replaced (a frozen
 * `Buffer`) is left as it is. Idempotent.
 */
export function installBufferWrappers(onBuffer: OnBuffer): void {
  if (installed) return;
  installed = [];
  const target = Buffer as unknown as Record<string, unknown>;
  for (const [name, mayPool] of FACTORIES) {
    const original = target[name];
    if (typeof original !== 'function') continue;
    const state: WrapperState = { passThrough: false };
    const wrapper = wrapFactory(original as Factory, mayPool, onBuffer, state);
    try {
      target[name] = wrapper;
    } catch {
      continue;
    }
    if (target[name] === wrapper) installed.push({ name, original: original as Factory, wrapper, state });
  }
}

/**
 * Puts the original factories back — those still in place: a wrapper another library has put
 * over heapwatch's stays, and heapwatch's beneath it passes through from now on.
 */
export function removeBufferWrappers(): void {
  if (!installed) return;
  const target = Buffer as unknown as Record<string, unknown>;
  for (const { name, original, wrapper, state } of installed) {
    state.passThrough = true;
    if (target[name] === wrapper) {
      try {
        target[name] = original;
      } catch {
        // A Buffer frozen since: the wrapper stays, passing through.
      }
    }
  }
  installed = undefined;
}

/** Whether heapwatch's wrappers are in place now. */
export function bufferWrappersInstalled(): boolean {
  return installed !== undefined;
}

function wrapFactory(original: Factory, mayPool: boolean, onBuffer: OnBuffer, state: WrapperState): Factory {
  // Named parameters and a call per argument count, not `...args` and `Reflect.apply`: the rest
  // array cost ~80 ns a call on an Express route (bench/buffer-wrapper.mjs); the factories take at
  // most three arguments (Node 20–26), and a call with more goes through `apply` unchanged.
  const wrapper = function (this: unknown, a?: unknown, b?: unknown, c?: unknown): unknown {
    if (new.target !== undefined) return Reflect.construct(original, [...arguments], new.target);
    if (inside || state.passThrough) return callWith(original, this, arguments.length, a, b, c, arguments);
    inside = true;
    let result: unknown;
    try {
      result = callWith(original, this, arguments.length, a, b, c, arguments);
    } finally {
      inside = false;
    }
    const buffer = result as Buffer;
    const size = buffer.byteLength;
    if (size === 0) return result;
    if (mayPool) {
      // Under half the pool's size these factories return a slice of the pool: the pool's chunks
      // are Node's, and are left to the wrapper share. Above it, a view of the caller's memory
      // (`Buffer.from(arrayBuffer)`) allocated nothing.
      if (size < Buffer.poolSize >>> 1) return result;
      const store = buffer.buffer;
      if (store === a || size !== store.byteLength) return result;
    }
    onBuffer(buffer, size, wrapper);
    return result;
  };
  Object.defineProperty(wrapper, 'name', { value: original.name });
  Object.defineProperty(wrapper, 'length', { value: original.length });
  return wrapper;
}

/** `original` called with the arguments it was given, as many as were given. */
function callWith(original: Factory, self: unknown, count: number, a: unknown, b: unknown, c: unknown, all: IArguments): unknown {
  switch (count) {
    case 0:
      return original.call(self);
    case 1:
      return original.call(self, a);
    case 2:
      return original.call(self, a, b);
    case 3:
      return original.call(self, a, b, c);
    default:
      return Reflect.apply(original, self, all);
  }
}
