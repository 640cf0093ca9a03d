import { constants, PerformanceObserver } from 'node:perf_hooks';
import type { PerformanceEntry } from 'node:perf_hooks';
import { Session } from 'node:inspector';

/** A `gc` performance entry: `detail.kind` tells which collection it was. */
type GcEntry = PerformanceEntry & { detail?: { kind?: number } };

/**
 * Calls `onMajorGc` shortly after each full mark-compact GC completes. Right after such a GC the
 * profile holds no garbage; between two of them, objects that were promoted and then died still
 * count as live with the native reader. Node reports GCs through `perf_hooks` entries, delivered
 * asynchronously after the GC. Returns a function that stops observing.
 */
export function onMajorGc(onMajorGc: (at: number) => void): () => void {
  const observer = new PerformanceObserver((list) => {
    const major = list
      .getEntries()
      .some((entry) => (entry as GcEntry).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR);
    if (major) onMajorGc(Date.now());
  });
  observer.observe({ entryTypes: ['gc'] });
  return () => observer.disconnect();
}

/**
 * Asks V8 for a full GC through the inspector (`HeapProfiler.collectGarbage`), without
 * `--expose-gc`, and calls `done` once it has run (V8 runs it from a task, some milliseconds
 * later; `done` gets an error if it could not). A stop-the-world pause: 55 ms at a 76 MB heap,
 * 740 ms at 1.2 GB of small objects, measured on Node 20. The monitor asks for one only to confirm
 * a suspicion that V8's own major GCs have not settled, and rarely (see `clean-readings.ts`).
 */
export function requestFullGc(done: (error?: Error) => void): void {
  const session = new Session();
  try {
    session.connect();
    session.post('HeapProfiler.collectGarbage', (error) => {
      // Disconnecting inside the callback leaves the process unable to exit (Node 20 to 24).
      setImmediate(() => {
        session.disconnect();
        done(error ?? undefined);
      });
    });
  } catch (error) {
    session.disconnect();
    done(error instanceof Error ? error : new Error(String(error)));
  }
}
