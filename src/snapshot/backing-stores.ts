import { v8MajorVersion } from '../v8/v8-version.js';
import type { Frame } from './frame.js';

/**
 * Which sampled objects hold an ArrayBuffer's backing store. V8's sampler sees the JavaScript heap
 * only: a Buffer's contents are allocated outside it, and only its small objects are sampled — a
 * JSArrayBuffer (the backing store's owner) and the typed array over it (a Buffer is a
 * Uint8Array). Those are the *wrappers* heapwatch attributes the process's ArrayBuffer memory by
 * (see `growth/external-share.ts` and docs/concepts.md, "Outside V8's heap").
 *
 * A sample is a wrapper when its innermost frame is where Buffers and typed arrays are made —
 * Node's Buffer code (`FastBuffer`, `createUnsafeBuffer`, `allocate`: `node:buffer`,
 * `node:internal/buffer`) or V8's typed-array and ArrayBuffer constructors (built-ins, no script) —
 * or when the object has the size of a wrapper. The size rule is needed because TurboFan inlines
 * `Buffer.alloc()` and its constructors into a hot caller, and V8 then charges the wrappers to the
 * caller's frame (measured: 87 % of the wrappers of a loop keeping `Buffer.alloc(16384)`). It
 * takes other objects of the same size for wrappers too (a 9-property object is 96 bytes on Node
 * 20): a bias the estimate states (docs/concepts.md).
 */

/** Built-in constructors whose objects own or view a backing store. */
const BUILTIN_MAKERS: ReadonlySet<string> = new Set([
  'ArrayBuffer',
  'SharedArrayBuffer',
  'DataView',
  'Int8Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float16Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
]);

/** Node's modules whose functions make Buffers. */
const NODE_MAKERS: ReadonlySet<string> = new Set(['node:buffer', 'node:internal/buffer']);

/** Whether a frame makes Buffers, typed arrays or ArrayBuffers: every object allocated there is a wrapper. */
export function makesBackingStores(frame: Frame): boolean {
  return frame.file === '' ? BUILTIN_MAKERS.has(frame.functionName) : NODE_MAKERS.has(frame.file);
}

/**
 * The sizes of a JSArrayBuffer and of a JSTypedArray on this V8 (bytes), measured from V8's
 * sampler on x64 (`bench/external-sampling.mjs --part=sizes`): 88 and 96 bytes on Node 20 and 22
 * (V8 11–12), 96 and 104 on Node 24 and 26 (V8 13–14). An ArrayBuffer alone is one of them, a
 * Buffer or a typed array both.
 */
export function wrapperSizes(v8Version: string = process.versions.v8): readonly number[] {
  return v8MajorVersion(v8Version) >= 13 ? [96, 104] : [88, 96];
}

/**
 * Sums a node's allocations that are wrappers (bytes of V8's heap, as V8 scaled them): all of them
 * at a frame that makes backing stores, else those of a wrapper's size.
 */
export function wrapperBytesOf(
  frame: Frame,
  allocations: ReadonlyArray<{ readonly sizeBytes: number; readonly count: number }>,
  sizes: readonly number[],
): number {
  const all = makesBackingStores(frame);
  let bytes = 0;
  for (const allocation of allocations) {
    if (all || sizes.includes(allocation.sizeBytes)) bytes += allocation.sizeBytes * allocation.count;
  }
  return bytes;
}
