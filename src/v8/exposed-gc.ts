import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** V8's `gc()`: one full, stop-the-world mark-compact, run before it returns. */
export type V8Gc = () => void;

let cached: V8Gc | null | undefined;

/**
 * V8's `gc()`, without the app running with `--expose-gc`: the flag is switched on for the one
 * new context that hands the function over, and off again before any other code runs, so neither
 * the app's global nor a later context or worker gets a `gc`. An app that runs with
 * `--expose-gc` has its own `gc` used, and its flag left alone. Null when V8 hands none over
 * (flags frozen, say): the caller then asks through the inspector.
 *
 * Why not the inspector's `HeapProfiler.collectGarbage`: V8 answers it as a low-memory
 * notification — two mark-compacts back to back (twice the pause: 112 against 61 ms at a 76 MB
 * heap, bench/reader-gc-probe.mjs), and the young generation shrunk to its minimum, 1 MB, after
 * which the app's next allocations run 10 to 20 times the scavenges they ran before.
 */
export function exposedGc(): V8Gc | null {
  if (cached !== undefined) return cached;
  cached = null;
  const own = (globalThis as { gc?: unknown }).gc;
  if (typeof own === 'function') return (cached = () => void own());
  try {
    setFlagsFromString('--expose-gc');
    const gc: unknown = runInNewContext('typeof gc === "function" ? gc : undefined');
    if (typeof gc === 'function') cached = () => void gc();
  } catch {
    // V8 refused the flag: the inspector it is.
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
  return cached;
}
