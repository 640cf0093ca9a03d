/**
 * The `Buffer` factories heapwatch wraps while a monitor samples Buffers. `allocUnsafe`, `from`,
 * `concat` and `copyBytesFrom` may return a slice of Node's shared pool (for a size under
 * `Buffer.poolSize >>> 1`: Node's rule in lib/buffer.js), `alloc` and `allocUnsafeSlow` never do.
 */
const FACTORIES = ['alloc', 'allocUnsafe', 'allocUnsafeSlow', 'from', 'concat', 'copyBytesFrom'] as const;
type FactoryName = (typeof FACTORIES)[number];

type Factory = (...args: unknown[]) => unknown;
type Factories = Partial<Record<FactoryName, Factory>>;

/** Called with each Buffer a wrapped factory returned that owns memory of its own (see below). */
export type OnBuffer = (buffer: Buffer, size: number, wrapper: Factory) => void;

/** One installation's wrappers share it; set on removal: a wrapper left in place passes through. */
interface Generation {
  passThrough: boolean;
  readonly onBuffer: OnBuffer;
}

let installed: { readonly originals: Factories; readonly wrappers: Factories; readonly generation: Generation } | undefined;

/**
 * Replaces the `Buffer` factories with wrappers that return what the originals return, throw what
 * they throw, and keep their `name` and `length`; each Buffer that holds memory of its own — not a
 * slice of the pool, not a view of the caller's ArrayBuffer (`Buffer.from(arrayBuffer)`), not
 * empty — is handed to `onBuffer` after it is made. A factory that cannot be replaced (a frozen
 * `Buffer`) is left as it is. Idempotent.
 */
export function installBufferWrappers(onBuffer: OnBuffer): void {
  if (installed) return;
  const target = Buffer as unknown as Record<string, unknown>;
  const originals: Factories = {};
  for (const name of FACTORIES) {
    if (typeof target[name] === 'function') originals[name] = target[name] as Factory;
  }
  // Its Buffer is counted by the `allocUnsafe` wrapper it calls (its stack has `concat` in it).
  if (originals.concat && originals.allocUnsafe && concatUsesAllocUnsafe(target, originals.concat)) delete originals.concat;
  poolHalf = Buffer.poolSize >>> 1;
  const generation: Generation = { passThrough: false, onBuffer };
  const made = makeWrappers(originals, generation);
  const wrappers: Factories = {};
  for (const name of FACTORIES) {
    const original = originals[name];
    const wrapper = made[name];
    if (!original) continue;
    Object.defineProperty(wrapper, 'name', { value: original.name });
    Object.defineProperty(wrapper, 'length', { value: original.length });
    try {
      target[name] = wrapper;
    } catch {
      continue;
    }
    if (target[name] === wrapper) wrappers[name] = wrapper;
  }
  installed = { originals, wrappers, generation };
}

/**
 * Puts the original factories back — those still in place: a wrapper another library has put
 * over heapwatch's stays, and heapwatch's beneath it passes through from now on.
 */
export function removeBufferWrappers(): void {
  if (!installed) return;
  const target = Buffer as unknown as Record<string, unknown>;
  const { originals, wrappers, generation } = installed;
  generation.passThrough = true;
  for (const name of FACTORIES) {
    const wrapper = wrappers[name];
    if (wrapper === undefined || target[name] !== wrapper) continue;
    try {
      target[name] = originals[name];
    } catch {
      // A Buffer frozen since: the wrapper stays, passing through.
    }
  }
  installed = undefined;
}

/** Whether heapwatch's wrappers are in place now. */
export function bufferWrappersInstalled(): boolean {
  return installed !== undefined;
}

/**
 * One wrapper per factory, each its own function literal, kept to what V8 optimises best (measured
 * with bench/buffer-sampler-parts.mjs and its notes in BENCHMARKS.md, issue 22):
 * - V8 keeps a call site's feedback per function literal: six wrappers made from one literal share
 *   it, their call of the original sees six targets (megamorphic), and the original is not inlined.
 * - No `try`: a wrapper with one cost 20 ns a call more on Node 26 and 60 ns on Node 22. No
 *   factory of Node 22–26 calls a wrapped one except `concat`, which on Node 22–24 makes its Buffer
 *   with `Buffer.allocUnsafe`: there `concat` is left unwrapped (see {@link concatUsesAllocUnsafe}),
 *   so a Buffer is counted once without a flag to set and reset.
 * - `Buffer.poolSize` is read once per Buffer handed on, not per call: `Buffer` holds its
 *   properties in a dictionary, and the read cost ~10 ns.
 * - No `arguments` and no `new.target`: with them, these wrappers with nothing behind them cost
 *   1.029 (1.004–1.047) of a Buffer-bound Express request on Node 22 (~150 ns a call, where a loop
 *   measured ~8); without, 1.009 (0.984–1.021) — two runs, their intervals overlapping. Each wrapper passes
 *   its three parameters on: no factory of Node 22–26 reads `arguments`, `this` or `new.target`,
 *   takes more than three, or tells a missing argument from `undefined`; called with `new`, a
 *   wrapper returns the original's Buffer, as `new` of the original does.
 */
function makeWrappers(o: Factories, g: Generation): Record<FactoryName, Factory> {
  const { alloc, allocUnsafe, allocUnsafeSlow, from, concat, copyBytesFrom } = o as Record<FactoryName, Factory>;
  const wrappers = {
    alloc: function (this: unknown, a?: unknown, b?: unknown, c?: unknown): unknown {
      const result = alloc.call(this, a, b, c);
      if (!g.passThrough) take(result, false, a, wrappers.alloc, g);
      return result;
    },
    allocUnsafe: function (this: unknown, a?: unknown, b?: unknown, c?: unknown): unknown {
      const result = allocUnsafe.call(this, a, b, c);
      if (!g.passThrough) take(result, true, a, wrappers.allocUnsafe, g);
      return result;
    },
    allocUnsafeSlow: function (this: unknown, a?: unknown, b?: unknown, c?: unknown): unknown {
      const result = allocUnsafeSlow.call(this, a, b, c);
      if (!g.passThrough) take(result, false, a, wrappers.allocUnsafeSlow, g);
      return result;
    },
    from: function (this: unknown, a?: unknown, b?: unknown, c?: unknown): unknown {
      const result = from.call(this, a, b, c);
      if (!g.passThrough) take(result, true, a, wrappers.from, g);
      return result;
    },
    concat: function (this: unknown, a?: unknown, b?: unknown, c?: unknown): unknown {
      const result = concat.call(this, a, b, c);
      if (!g.passThrough) take(result, true, a, wrappers.concat, g);
      return result;
    },
    copyBytesFrom: function (this: unknown, a?: unknown, b?: unknown, c?: unknown): unknown {
      const result = copyBytesFrom.call(this, a, b, c);
      if (!g.passThrough) take(result, true, a, wrappers.copyBytesFrom, g);
      return result;
    },
  };
  return wrappers;
}

/**
 * Half of `Buffer.poolSize` as last read: under it, `allocUnsafe`, `from`, `concat` and
 * `copyBytesFrom` return a slice of the pool. Read again at each Buffer handed on, so that a
 * `Buffer.poolSize` the application changes is followed from its next Buffer of that size on.
 */
let poolHalf = Buffer.poolSize >>> 1;

/** Hands `result` to the installation's `onBuffer` if it holds memory of its own. Small: V8 inlines it. */
function take(result: unknown, mayPool: boolean, first: unknown, wrapper: Factory, g: Generation): void {
  const buffer = result as Buffer;
  const size = buffer.byteLength;
  if (size === 0) return;
  if (mayPool) {
    // Under half the pool's size these factories return a slice of the pool: the pool's chunks
    // are Node's, and are left to the wrapper share. Above it, a slice (of a pool made larger
    // since) or a view of the caller's memory (`Buffer.from(arrayBuffer)`) allocated nothing.
    if (size < poolHalf) return;
    const store = buffer.buffer;
    if (store === first || size !== store.byteLength) return;
    poolHalf = Buffer.poolSize >>> 1;
  }
  g.onBuffer(buffer, size, wrapper);
}

/**
 * Whether `concat` makes its Buffer by calling `Buffer.allocUnsafe` (Node 22–24; Node 26 calls
 * its own `allocate`): asked once, of the function itself, with a probe in `allocUnsafe`'s place.
 */
function concatUsesAllocUnsafe(target: Record<string, unknown>, concat: Factory): boolean {
  const allocUnsafe = target.allocUnsafe as Factory;
  let called = false;
  const probe = function (this: unknown, ...args: unknown[]): unknown {
    called = true;
    return Reflect.apply(allocUnsafe, this, args);
  };
  try {
    target.allocUnsafe = probe;
    if (target.allocUnsafe !== probe) return false;
    concat.call(Buffer, [Buffer.alloc(1)], 1);
  } catch {
    return false;
  } finally {
    if (target.allocUnsafe === probe) target.allocUnsafe = allocUnsafe;
  }
  return called;
}
