import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { v8MajorVersion } from './v8-version.js';

/** One full mark-compact, run from a task: settles once it has run. */
export type MajorGcFromTask = () => Promise<void>;

/** V8's `gc()` with the options object of V8 12 and later (Node 22 and later). */
type V8Gc = (options: { type: 'major'; execution: 'async' }) => Promise<void>;

let cached: MajorGcFromTask | null | undefined;

/**
 * V8's `gc({ type: 'major', execution: 'async' })`: one mark-compact, run from a task (no
 * JavaScript on the stack to keep objects alive), the young generation left as it is.
 *
 * Not the inspector's `HeapProfiler.collectGarbage`, which heapwatch asked before: V8 answers it
 * as a low-memory notification — two mark-compacts back to back and the young generation shrunk
 * to its minimum, after which a service's next allocations run several times the scavenges until
 * it has regrown (60 scavenges per 1 000 requests against 17 at 5 % busy on Node 26) — and a
 * process that ever connected a session gets V8's memory-reducing GCs at every rest from then on.
 * Both cost heapwatch's processes 10–30 % more CPU per request at partial load than
 * `@datadog/pprof`'s (BENCHMARKS §1, across processes). Not `execution: 'sync'` either: run
 * inside the tick, with its JavaScript on the stack, it left the corpus's slow leaks unconfirmed.
 *
 * Had without the app running with `--expose-gc`: the flag is on for the one new context that
 * hands the function over, and off again before any other code runs, so neither the app's global
 * nor a later context or worker gets a `gc`. An app that runs with `--expose-gc` has its own `gc`
 * used, and its flag left alone. Null before V8 12 (Node 20 and earlier), whose `gc()` takes no
 * options object, and when V8 hands none over: the caller then asks through the inspector.
 */
export function majorGcFromTask(): MajorGcFromTask | null {
  if (cached !== undefined) return cached;
  cached = null;
  if (v8MajorVersion() < 12) return cached;
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

function bind(gc: V8Gc): MajorGcFromTask {
  return () => gc({ type: 'major', execution: 'async' });
}
