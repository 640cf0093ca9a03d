import { constants, performance, PerformanceObserver } from 'node:perf_hooks';
import type { PerformanceEntry } from 'node:perf_hooks';
import { Session } from 'node:inspector';
import { getHeapStatistics } from 'node:v8';
import { majorGcFromTask } from './exposed-gc.js';

/** A `gc` performance entry: `detail.kind` tells which collection it was. */
type GcEntry = PerformanceEntry & { detail?: { kind?: number } };

/** What one full GC asked of V8 cost the main thread. */
export interface FullGcPause {
  /** Main-thread time of the collection: the sum of its major-GC entries (milliseconds). */
  readonly pauseMs: number;
  /** V8's used heap when it was asked for (bytes). */
  readonly heapBytes: number;
}

/** V8's used heap now (bytes): what a full GC has to go through. A few microseconds. */
export function usedHeapBytes(): number {
  return getHeapStatistics().used_heap_size;
}

/**
 * Asks V8 for a full GC, without `--expose-gc`, and calls `done` once it has run (a turn later, so
 * that its `gc` entries are queued; `done` gets an error if it could not) with what it cost. A
 * stop-the-world pause. Where V8 can do it alone (Node 22 and later), one mark-compact from a task
 * (`exposed-gc.ts`): 59 ms at 76 MB, 226 ms at 300 MB on Node 26. Else the inspector's
 * `HeapProfiler.collectGarbage`: two mark-compacts (112 ms at 76 MB) and the young generation
 * shrunk, through a session. The monitor asks for one only to confirm a suspicion that V8's own
 * major GCs have not settled, and rarely (see `clean-readings.ts`).
 */
export function requestFullGc(done: (error: Error | undefined, pause: FullGcPause) => void): void {
  const heapBytes = usedHeapBytes();
  // The pause is measured from the GC's own entries: they are queued by the time `done` runs (a
  // turn after V8's callback). The wall time is the fallback, a little longer (the task's wait).
  const observer = new PerformanceObserver(() => {});
  observer.observe({ entryTypes: ['gc'] });
  const gc = majorGcFromTask();
  let session: Session | undefined;
  const requestedAt = performance.now();
  const finish = (error: Error | undefined): void => {
    const wallMs = performance.now() - requestedAt;
    const majorMs = observer
      .takeRecords()
      .filter((entry) => (entry as GcEntry).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR && entry.startTime >= requestedAt)
      .reduce((sum, entry) => sum + entry.duration, 0);
    observer.disconnect();
    session?.disconnect();
    done(error, { pauseMs: majorMs > 0 ? majorMs : wallMs, heapBytes });
  };
  try {
    if (gc) {
      gc().then(
        () => setImmediate(() => finish(undefined)),
        (error: unknown) => finish(error instanceof Error ? error : new Error(String(error))),
      );
      return;
    }
    session = new Session();
    session.connect();
    session.post('HeapProfiler.collectGarbage', (error) => {
      // Disconnecting inside the callback leaves the process unable to exit (Node 20 to 24).
      setImmediate(() => finish(error ?? undefined));
    });
  } catch (error) {
    finish(error instanceof Error ? error : new Error(String(error)));
  }
}
