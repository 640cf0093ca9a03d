import { createRequire } from 'node:module';
import type { HeapProfileReader } from './reader.js';
import { SamplerStoppedError } from './reader.js';
import type { ProfileNode } from './profile.js';
import { inferSamplingInterval, profileMatchesInterval } from './interval-check.js';
import { samplerAlreadyRunning } from './sampler-probe.js';

/** The part of `@datadog/pprof`'s `heap` namespace heapwatch uses. */
interface DatadogHeap {
  start(intervalBytes: number, stackDepth: number): void;
  stop(): void;
  v8Profile(): ProfileNode;
}

/**
 * Loads `@datadog/pprof` (an optional dependency: prebuilt binaries, nothing to compile). Returns
 * the reason it could not be loaded instead of throwing, so the caller can fall back.
 */
function loadDatadogHeap(): DatadogHeap | Error {
  try {
    const require = createRequire(import.meta.url);
    const pprof = require('@datadog/pprof') as { heap?: DatadogHeap };
    if (typeof pprof.heap?.v8Profile !== 'function') return new Error('@datadog/pprof has no heap.v8Profile()');
    return pprof.heap;
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

let loaded: DatadogHeap | Error | undefined;

/** The addon's binding, below its `heap` namespace: it reads V8's sampler whoever started it. */
interface DatadogHeapBinding {
  getAllocationProfile(): unknown;
}

/**
 * Whether V8's sampler runs, asked of the addon's binding: V8 gives it no profile when no one
 * started the sampler, and it throws. Not `heap.v8Profile()`, which answers from the addon's own
 * flag, blind to another copy of the addon (dd-trace bundles its own); and not an inspector
 * session (sampler-probe.ts), which would be heapwatch's only one: a process that ever connected
 * one gets V8's memory-reducing major GCs whenever it rests, its young generation given back each
 * time and regrown over the next hundreds of scavenges (BENCHMARKS §1, across processes).
 * Undefined when the binding is not where this version of the addon keeps it.
 */
function samplerRunsPerBinding(): boolean | undefined {
  let binding: DatadogHeapBinding;
  try {
    binding = createRequire(import.meta.url)('@datadog/pprof/out/src/heap-profiler-bindings') as DatadogHeapBinding;
    if (typeof binding.getAllocationProfile !== 'function') return undefined;
  } catch {
    return undefined;
  }
  try {
    binding.getAllocationProfile();
    return true;
  } catch {
    return false;
  }
}

/**
 * The native reader: reads the live profile without forcing a GC. `@datadog/pprof`'s lines and
 * columns are already 1-based, and its tree has the {@link ProfileNode} shape, so it is returned as is.
 */
export function createNativeReader(): HeapProfileReader | Error {
  loaded ??= loadDatadogHeap();
  if (loaded instanceof Error) return loaded;
  const heap = loaded;
  return {
    name: 'native',
    alreadyRunning: () => samplerRunsPerBinding() ?? samplerAlreadyRunning(),
    start(intervalBytes, stackDepth, shared) {
      if (shared) {
        // V8 ignores a second start: this only sets the addon's own "enabled" flag, so that it
        // reads. (Set already if an earlier heapwatch shared the same sampler: nothing to do.)
        try {
          heap.start(intervalBytes, stackDepth);
        } catch {}
        return;
      }
      // @datadog/pprof keeps its own "enabled" flag and throws if it is set; after another client
      // stopped the sampler behind its back the flag is stale, so clear it first.
      heap.stop();
      heap.start(intervalBytes, stackDepth);
    },
    stop(shared) {
      // The addon's stop() stops V8's sampler, whoever started it: a shared one is left alone.
      if (!shared) heap.stop();
    },
    read(expectedIntervalBytes) {
      let root: ProfileNode;
      try {
        root = heap.v8Profile();
      } catch (error) {
        // V8 returns no profile when the sampler is off; the addon reports it as this message.
        const message = error instanceof Error ? error.message : String(error);
        if (/not enabled/i.test(message)) throw new SamplerStoppedError('the V8 sampling heap profiler was stopped');
        throw error;
      }
      if (profileMatchesInterval(root, expectedIntervalBytes)) return { root, samplingIntervalBytes: expectedIntervalBytes, restarted: false };
      // Restarted at another interval since the last read. Until enough small objects show which,
      // the profile is read at the expected one.
      const inferred = inferSamplingInterval(root, expectedIntervalBytes);
      return { root, samplingIntervalBytes: inferred ?? expectedIntervalBytes, restarted: inferred !== undefined };
    },
  };
}
