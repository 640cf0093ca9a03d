import { ErrorCode, HeapwatchError, WarningCode, warnOnce } from '../errors.js';
import { defaults } from '../options/defaults.js';
import { integerOption, objectOption, oneOfOption, rejectUnknownKeys } from '../options/validate.js';
import { createInspectorReader } from './inspector-reader.js';
import { createNativeReader } from './native-reader.js';
import type { RawProfile } from './profile.js';
import type { HeapProfileReader } from './reader.js';
import { SamplerStoppedError } from './reader.js';

/** Options of {@link startSampling}. */
export interface SamplingOptions {
  /**
   * Mean number of bytes allocated between two samples (a Poisson process). Smaller is more
   * precise and costs more: a site holding B bytes is estimated within about
   * ±sqrt(B × samplingIntervalBytes). Default: 131072 (128 KiB).
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
  readonly samplingIntervalBytes: number;
  readonly stackDepth: number;
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
 * has one sampler per isolate.
 */
export function startSampling(options?: SamplingOptions): void {
  const resolved = resolveOptions(options);
  if (active) {
    const sameReader = resolved.reader === 'auto' || resolved.reader === active.reader.name;
    if (
      sameReader &&
      resolved.samplingIntervalBytes === active.samplingIntervalBytes &&
      resolved.stackDepth === active.stackDepth
    ) {
      return;
    }
    throw new HeapwatchError(
      ErrorCode.ALREADY_SAMPLING,
      `Already sampling with samplingIntervalBytes ${active.samplingIntervalBytes}, stackDepth ${active.stackDepth} ` +
        `and reader "${active.reader.name}"; call stopSampling() before starting with ` +
        `samplingIntervalBytes ${resolved.samplingIntervalBytes}, stackDepth ${resolved.stackDepth} and reader "${resolved.reader}"`,
    );
  }
  const reader = chooseReader(resolved.reader);
  reader.start(resolved.samplingIntervalBytes, resolved.stackDepth);
  active = { reader, samplingIntervalBytes: resolved.samplingIntervalBytes, stackDepth: resolved.stackDepth };
}

/** Stops the sampler and forgets its samples, like `tracemalloc.stop()`. Safe to call when not sampling. */
export function stopSampling(): void {
  if (!active) return;
  const { reader } = active;
  active = undefined;
  reader.stop();
}

/** Whether heapwatch started the sampler and has not stopped it, like `tracemalloc.is_tracing()`. */
export function isSampling(): boolean {
  return active !== undefined;
}

/**
 * Reads the live samples. When another client stopped or restarted the sampler since the last
 * read, the samples are gone: sampling is restarted at heapwatch's interval, a warning is emitted
 * once, and `HEAPWATCH_ERR_SAMPLER_LOST` is thrown for this read.
 */
export function readProfile(): RawProfile {
  if (!active) {
    throw new HeapwatchError(ErrorCode.NOT_SAMPLING, 'Not sampling: call startSampling() before takeSnapshot()');
  }
  const { reader, samplingIntervalBytes, stackDepth } = active;
  try {
    return { reader: reader.name, samplingIntervalBytes, root: reader.read() };
  } catch (error) {
    if (!(error instanceof SamplerStoppedError)) throw error;
    reader.stop();
    reader.start(samplingIntervalBytes, stackDepth);
    const message = `${error.message}; heapwatch restarted it at samplingIntervalBytes ${samplingIntervalBytes}, the samples taken before are lost`;
    warnOnce(WarningCode.SAMPLER_LOST, message);
    throw new HeapwatchError(ErrorCode.SAMPLER_LOST, message, { cause: error });
  }
}
