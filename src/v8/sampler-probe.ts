import { Session } from 'node:inspector';

/**
 * Whether V8's sampling heap profiler already runs in this isolate, started by another tool
 * (dd-trace's or Pyroscope's `@datadog/pprof`, DevTools, another `node:inspector` session). Asked
 * through a session of heapwatch's own, which started nothing: V8 answers "not started" when no
 * one did. Costs one read of the profile, once, when heapwatch starts. False where the inspector
 * is unavailable (a Node built without it): heapwatch then starts the sampler as usual. The
 * inspector reader's probe, and the native reader's fallback: a session leaves the process with
 * V8's memory-reducing GCs at every rest (native-reader.ts).
 */
export function samplerAlreadyRunning(): boolean {
  let session: Session;
  try {
    session = new Session();
    session.connect();
  } catch {
    return false;
  }
  try {
    let running = false;
    session.post('HeapProfiler.getSamplingProfile', {}, (error) => {
      running = !error;
    });
    return running;
  } finally {
    session.disconnect();
  }
}
