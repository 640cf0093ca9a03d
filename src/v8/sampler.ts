import { ErrorCode, HeapwatchError, WarningCode, warnOnce } from '../errors.js';
import { defaults } from '../options/defaults.js';
import { integerOption, objectOption, oneOfOption, rejectUnknownKeys } from '../options/validate.js';
import { createInspectorReader } from './inspector-reader.js';
import { createNativeReader } from './native-reader.js';
import type { RawProfile } from './profile.js';
import type { HeapProfileReader, SamplerRead } from './reader.js';
import { SamplerStoppedError } from './reader.js';

/** Options of {@link startSampling}. */
export interface SamplingOptions {
  /**
   * Mean number of bytes allocated between two samples (a Poisson process). Smaller is more
   * precise and costs more: a site holding B bytes is estimated within about
   * ±sqrt(B × samplingIntervalBytes). Default: 524288 (512 KiB, V8's own default).
   */
  readonly samplingIntervalBytes?: number;
  /**
   * `'native'` reads through `@datadog/pprof` without forcing a GC; `'inspector'` through
   * `node:inspector`, which forces a full GC per read; `'auto'` takes the native reader when it
   * loads and falls back to the inspector with a warning. Default: `'auto'`.
   */
  readonly reader?: 'auto' | 'native' | 'inspector';
  /** Frames kept per sampled stack with the native reader (V8 fixes the inspector's at 128). Default: 64. */
  readonly stackDepth?: number;
}

interface ActiveSampler {
  readonly reader: HeapProfileReader;
  /** The interval asked for, which a second startSampling() must match. */
  readonly requestedIntervalBytes: number;
  /** The interval V8 samples at: the one asked for, or the one of the tool heapwatch shares the sampler with. */
  samplingIntervalBytes: number;
  readonly stackDepth: number;
  /** Another tool started (or restarted) V8's sampler: heapwatch reads it and never stops or restarts it. */
  shared: boolean;
}

/** One sampler per isolate, so one per module instance. */
let active: ActiveSampler | undefined;

const SAMPLING_OPTION_NAMES = ['samplingIntervalBytes', 'reader', 'stackDepth'] as const;

/** Validates `samplingIntervalBytes`, applying the default; shared with the monitor's options. */
export function samplingIntervalOption(value: unknown): number {
  return integerOption('samplingIntervalBytes', value ?? defaults.samplingIntervalBytes, 1, 2 ** 31 - 1);
}

/** Validates `reader`, applying the default; shared with the monitor's options. */
export function readerOption(value: unknown): 'auto' | 'native' | 'inspector' {
  return oneOfOption('reader', value ?? defaults.reader, ['auto', 'native', 'inspector']);
}

function resolveOptions(options: unknown): Required<SamplingOptions> {
  const given = objectOption('options', options) as Record<string, unknown>;
  rejectUnknownKeys(given, SAMPLING_OPTION_NAMES, 'startSampling()');
  return {
    samplingIntervalBytes: samplingIntervalOption(given.samplingIntervalBytes),
    reader: readerOption(given.reader),
    stackDepth: integerOption('stackDepth', given.stackDepth ?? defaults.stackDepth, 1, 1024),
  };
}

function chooseReader(choice: 'auto' | 'native' | 'inspector'): HeapProfileReader {
  if (choice === 'inspector') return createInspectorReader();
  const native = createNativeReader();
  if (!(native instanceof Error)) return native;
  if (choice === 'native') {
    throw new HeapwatchError(
      ErrorCode.NATIVE_UNAVAILABLE,
      `Option "reader" is "native" but @datadog/pprof could not be loaded: ${native.message}`,
      { cause: native },
    );
  }
  warnOnce(
    WarningCode.NATIVE_UNAVAILABLE,
    `@datadog/pprof could not be loaded (${native.message}); reading the heap profile through node:inspector, ` +
      'which forces a full GC before every read',
  );
  return createInspectorReader();
}

/**
 * Starts V8's sampling heap profiler, like `tracemalloc.start()`. Calling it again with the same
 * options does nothing; with other options it throws `HEAPWATCH_ERR_ALREADY_SAMPLING`, since V8
 * has one sampler per isolate. When another tool (dd-trace, Pyroscope, DevTools) already runs V8's
 * sampler, heapwatch shares it at the interval that tool chose, and never stops or restarts it
 * (warning `HEAPWATCH_W_SAMPLER_SHARED`).
 */
export function startSampling(options?: SamplingOptions): void {
  const resolved = resolveOptions(options);
  if (active) {
    const sameReader = resolved.reader === 'auto' || resolved.reader === active.reader.name;
    if (
      sameReader &&
      resolved.samplingIntervalBytes === active.requestedIntervalBytes &&
      resolved.stackDepth === active.stackDepth
    ) {
      return;
    }
    throw new HeapwatchError(
      ErrorCode.ALREADY_SAMPLING,
      `Already sampling with samplingIntervalBytes ${active.requestedIntervalBytes}, stackDepth ${active.stackDepth} ` +
        `and reader "${active.reader.name}"; call stopSampling() before starting with ` +
        `samplingIntervalBytes ${resolved.samplingIntervalBytes}, stackDepth ${resolved.stackDepth} and reader "${resolved.reader}"`,
    );
  }
  const reader = chooseReader(resolved.reader);
  const shared = reader.alreadyRunning();
  reader.start(resolved.samplingIntervalBytes, resolved.stackDepth, shared);
  active = {
    reader,
    requestedIntervalBytes: resolved.samplingIntervalBytes,
    samplingIntervalBytes: resolved.samplingIntervalBytes,
    stackDepth: resolved.stackDepth,
    shared,
  };
  if (shared) {
    warnOnce(
      WarningCode.SAMPLER_SHARED,
      "V8's sampling heap profiler was already running, started by another tool in this process (dd-trace, Pyroscope, DevTools…); " +
        'heapwatch shares it at the interval that tool chose, and will not stop or restart it',
    );
  }
}

/**
 * Stops the sampler and forgets its samples, like `tracemalloc.stop()`. Safe to call when not
 * sampling. A sampler shared with another tool keeps running for that tool.
 */
export function stopSampling(): void {
  if (!active) return;
  const { reader, shared } = active;
  active = undefined;
  reader.stop(shared);
}

/** Which reader heapwatch samples with, and whether it shares V8's sampler with another tool; undefined when not sampling. */
export function activeSampler(): { readonly reader: HeapProfileReader['name']; readonly shared: boolean } | undefined {
  return active && { reader: active.reader.name, shared: active.shared };
}

/** Whether heapwatch started the sampler and has not stopped it, like `tracemalloc.is_tracing()`. */
export function isSampling(): boolean {
  return active !== undefined;
}

/**
 * Reads the live samples. The policy beside other clients of V8's one sampler:
 * - restarted by another client (at its own interval, say): the sampler is now that client's;
 *   heapwatch reads it at that interval from now on, warns once (`HEAPWATCH_W_SAMPLER_SHARED`),
 *   and never restarts it — two tools restarting it in turn would each lose the other's samples;
 * - stopped by another client: heapwatch starts it again at its own interval, warns once
 *   (`HEAPWATCH_W_SAMPLER_LOST`) and throws `HEAPWATCH_ERR_SAMPLER_LOST` for this read, whose
 *   samples are gone.
 */
export function readProfile(): RawProfile {
  if (!active) {
    throw new HeapwatchError(ErrorCode.NOT_SAMPLING, 'Not sampling: call startSampling() before takeSnapshot()');
  }
  const sampler = active;
  const { reader, requestedIntervalBytes, stackDepth } = sampler;
  let read: SamplerRead;
  try {
    read = reader.read(sampler.samplingIntervalBytes);
  } catch (error) {
    if (!(error instanceof SamplerStoppedError)) throw error;
    reader.stop(false);
    reader.start(requestedIntervalBytes, stackDepth, false);
    sampler.samplingIntervalBytes = requestedIntervalBytes;
    sampler.shared = false;
    const message = `${error.message}; heapwatch restarted it at samplingIntervalBytes ${requestedIntervalBytes}, the samples taken before are lost`;
    warnOnce(WarningCode.SAMPLER_LOST, message);
    throw new HeapwatchError(ErrorCode.SAMPLER_LOST, message, { cause: error });
  }
  if (read.restarted || read.samplingIntervalBytes !== sampler.samplingIntervalBytes) {
    sampler.shared = true;
    sampler.samplingIntervalBytes = read.samplingIntervalBytes;
    warnOnce(
      WarningCode.SAMPLER_SHARED,
      `Another client restarted V8's sampling heap profiler, now at samplingIntervalBytes ${read.samplingIntervalBytes}; ` +
        'heapwatch shares it at that interval, and will not stop or restart it',
    );
  }
  return { reader: reader.name, samplingIntervalBytes: read.samplingIntervalBytes, root: read.root };
}
