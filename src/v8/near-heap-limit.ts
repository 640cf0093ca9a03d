// V8's near-heap-limit hook, through @datadog/pprof: the last moment a process that leaks to
// death can still say where its memory went. Node offers no JavaScript hook there; the addon
// installs V8's NearHeapLimitCallback, takes the allocation profile, raises the limit to make
// room, and calls back.
import { createRequire } from 'node:module';
import { getHeapStatistics } from 'node:v8';
import type { Profile } from 'pprof-format';
import { activeSampler } from './sampler.js';

/** The part of `@datadog/pprof`'s `heap` namespace this file uses (5.20 and later: 'auto'). */
interface DatadogOutOfMemory {
  monitorOutOfMemory(
    heapLimitExtensionSize: number | 'auto',
    maxHeapLimitExtensionCount: number,
    dumpHeapProfileOnStderr: boolean,
    exportCommand?: string[],
    callback?: (profile: Profile) => void,
    callbackMode?: number,
  ): void;
  readonly CallbackMode: { readonly Async: number };
}

/**
 * How much V8 may grow the heap past its limit for heapwatch: once, by one young generation
 * ('auto': 48 MiB with Node's default semi-spaces, whatever the old-space limit), the room Node
 * itself gives its own near-limit heap snapshot. Room for the addon's copy of the profile, one
 * more reading, the record and the optional profile file — a few MiB at 10k stacks — and for
 * what the application allocates until the callback runs. A second time at the limit, V8 aborts
 * as it would have without heapwatch.
 */
const EXTENSION = 'auto';
const EXTENSIONS = 1;

function loadOutOfMemory(): DatadogOutOfMemory | Error {
  try {
    const pprof = createRequire(import.meta.url)('@datadog/pprof') as { heap?: Partial<DatadogOutOfMemory> };
    if (typeof pprof.heap?.monitorOutOfMemory !== 'function' || pprof.heap.CallbackMode === undefined) {
      return new Error('@datadog/pprof has no heap.monitorOutOfMemory()');
    }
    return pprof.heap as DatadogOutOfMemory;
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

/**
 * Asks V8 to call `onNearLimit` with the live sampled heap (a pprof profile) when the heap nears
 * its limit, once. Only with the native reader, on a sampler heapwatch started itself: the
 * inspector cannot reach V8's hook, and a sampler shared with another tool (dd-trace arms the
 * same hook for its own out-of-memory export) is not heapwatch's to re-arm. Returns why not,
 * instead of throwing. Stopping the sampler disarms it.
 *
 * The callback runs from the event loop (the addon's asynchronous mode), not from a V8
 * interrupt: an interrupt would run heapwatch's and pino's JavaScript in the middle of whatever
 * JavaScript the application was running, which V8 forbids ("must not reenter the interrupted
 * isolate") and which could tear a half-written log line. The price: a heap exhausted within one
 * synchronous run of JavaScript (a loop that never yields) dies before the callback runs.
 *
 * Between the hook and the callback, the addon keeps the profile it took for the callback, and
 * drops it at the next read of the sampler (any `v8Profile()`): the callback then never comes.
 * The caller must not read the sampler while {@link heapLimitRaised} says so.
 */
export function armNearHeapLimit(onNearLimit: (profile: Profile) => void): true | Error {
  const sampler = activeSampler();
  if (sampler?.reader !== 'native') return new Error(`the ${sampler?.reader ?? 'stopped'} sampler cannot reach V8's near-heap-limit hook: it needs the native reader`);
  if (sampler.shared) return new Error("V8's sampler belongs to another tool, which may watch the heap limit itself");
  const heap = loadOutOfMemory();
  if (heap instanceof Error) return heap;
  const callback = (profile: Profile): void => {
    // Called from the event loop by the addon: anything thrown would reach the host as an uncaught exception.
    try {
      onNearLimit(profile);
    } catch {}
  };
  try {
    heap.monitorOutOfMemory(EXTENSION, EXTENSIONS, false, [], callback, heap.CallbackMode.Async);
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
  return true;
}

/**
 * Whether V8 has raised the heap limit above `armedLimitBytes` (its limit when the hook was
 * armed): the hook fired, and its callback is on its way from the event loop.
 */
export function heapLimitRaised(armedLimitBytes: number): boolean {
  return getHeapStatistics().heap_size_limit > armedLimitBytes;
}
