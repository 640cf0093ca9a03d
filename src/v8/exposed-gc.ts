import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** A full collection of all available garbage, run from a task: settles once it has run. */
export type LastResortGc = () => Promise<void>;

/** V8's `gc()` with the options object of V8 12 and later (Node 22 and later). */
type V8Gc = (options: { type: 'major'; execution: 'async'; flavor: 'last-resort' }) => Promise<void>;

let cached: LastResortGc | null | undefined;

/**
 * V8's `gc({ type: 'major', execution: 'async', flavor: 'last-resort' })`: the collection the
 * inspector's `HeapProfiler.collectGarbage` runs (two memory-reducing mark-compacts back to back,
 * the young generation shrunk, from a task: no JavaScript on the stack to keep objects alive),
 * without an inspector session. A process that ever connected a
 * session gets V8's memory-reducing GCs at every rest from then on, its young generation given
 * back and regrown over hundreds of scavenges: 10–18 % more CPU per request at partial load
 * (BENCHMARKS §1, across processes). The same collection, not V8's plain one-mark-compact `gc()`:
 * the detector's confirmations lean on what this one leaves (docs/detection.md).
 *
 * Had without the app running with `--expose-gc`: the flag is on for the one new context that
 * hands the function over, and off again before any other code runs, so neither the app's global
 * nor a later context or worker gets a `gc`. An app that runs with `--expose-gc` has its own `gc`
 * used, and its flag left alone. Null before V8 12 (Node 20 and earlier), whose `gc()` takes no
 * flavor, and when V8 hands none over: the caller then asks through the inspector.
 */
export function lastResortGc(): LastResortGc | null {
  if (cached !== undefined) return cached;
  cached = null;
  if (Number(process.versions.v8.split('.')[0]) < 12) return cached;
  const own = (globalThis as { gc?: unknown }).gc;
  if (typeof own === 'function') return (cached = bind(own as V8Gc));
  try {
    setFlagsFromString('--expose-gc');
    const gc: unknown = runInNewContext('typeof gc === "function" ? gc : undefined');
    if (typeof gc === 'function') cached = bind(gc as V8Gc);
  } catch {
    // V8 refused the flag: the inspector it is.
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
  return cached;
}

function bind(gc: V8Gc): LastResortGc {
  return () => gc({ type: 'major', execution: 'async', flavor: 'last-resort' });
}
