import { ErrorCode, HeapwatchError, WarningCode, warnOnce } from '../errors.js';
import { defaults } from '../options/defaults.js';
import { booleanOption, integerOption, objectOption, oneOfOption, rejectUnknownKeys } from '../options/validate.js';
import { allocationsUnavailableReason } from './allocation-mode.js';
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
  /**
   * Keep the samples of collected objects too (Node 26 and later, native reader), so that each
   * site's allocated bytes and objects since the start, and the share still live (survival), are
   * known. Every read then forces a full GC, a stop-the-world pause of about 0.4–1 ms per MB of
   * used heap. Where it cannot be had, heapwatch samples live memory and warns once
   * (`HEAPWATCH_W_ALLOCATIONS_UNAVAILABLE`). Default: false.
   */
  readonly allocations?: boolean;
}

/**
 * Samples of collected objects V8 may hold before heapwatch starts its sampler over: V8 keeps
 * every one until the sampler stops (95–215 bytes each, measured on Node 26.12.1 — 5 to 11 MB
 * here), and each read walks them all. Starting over forgets the live samples too (see
 * docs/allocations.md); heapwatch's counters carry on from their totals.
 */
export const MAX_COLLECTED_SAMPLES = 50_000;

interface ActiveSampler {
  readonly reader: HeapProfileReader;
  /** The interval asked for, which a second startSampling() must match. */
  readonly requestedIntervalBytes: number;
  /** The interval V8 samples at: the one asked for, or the one of the tool heapwatch shares the sampler with. */
  samplingIntervalBytes: number;
  readonly stackDepth: number;
  /** Another tool started (or restarted) V8's sampler: heapwatch reads it and never stops or restarts it. */
  shared: boolean;
  /** `allocations` as asked for. */
  readonly requestedAllocations: boolean;
  /** Counts the sampler's fresh starts (see {@link RawProfile.epoch}). */
  epoch: number;
  /** Collected samples in the previous read: fewer now means the sampler started over. */
  collectedSamples: number;
}

/** One sampler per isolate, so one per module instance. */
let active: ActiveSampler | undefined;

const SAMPLING_OPTION_NAMES = ['samplingIntervalBytes', 'reader', 'stackDepth', 'allocations'] as const;

/** Validates `allocations`, applying the default; shared with the monitor's options. */
export function allocationsOption(value: unknown): boolean {
  return booleanOption('allocations', value, defaults.allocations);
}

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
    allocations: allocationsOption(given.allocations),
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
      resolved.stackDepth === active.stackDepth &&
      resolved.allocations === active.requestedAllocations
    ) {
      return;
    }
    throw new HeapwatchError(
      ErrorCode.ALREADY_SAMPLING,
      `Already sampling with samplingIntervalBytes ${active.requestedIntervalBytes}, stackDepth ${active.stackDepth} ` +
        `and reader "${active.reader.name}"; call stopSampling() before starting with ` +
        `samplingIntervalBytes ${resolved.samplingIntervalBytes}, stackDepth ${resolved.stackDepth} and reader "${resolved.reader}"` +
        (resolved.allocations === active.requestedAllocations ? '' : ` (allocations ${active.requestedAllocations}, asked ${resolved.allocations})`),
    );
  }
  const reader = chooseReader(resolved.reader);
  const shared = reader.alreadyRunning();
  const unavailable = allocationsUnavailableReason(reader.name);
  if (resolved.allocations && unavailable !== undefined) {
    warnOnce(WarningCode.ALLOCATIONS_UNAVAILABLE, `Option "allocations" is true, but ${unavailable}`);
  }
  reader.start(resolved.samplingIntervalBytes, resolved.stackDepth, shared, resolved.allocations && unavailable === undefined);
  active = {
    reader,
    requestedIntervalBytes: resolved.samplingIntervalBytes,
    samplingIntervalBytes: resolved.samplingIntervalBytes,
    stackDepth: resolved.stackDepth,
    shared,
    requestedAllocations: resolved.allocations,
    epoch: 0,
    collectedSamples: 0,
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

/**
 * Why readings carry no allocation data now, or undefined when they do (or will, at the next
 * read): before Node 26, with the inspector reader, with `allocations` off (unless a tool that
 * shares the sampler runs it in allocation mode), or when not sampling.
 */
export function allocationsUnavailable(): string | undefined {
  const reason = allocationsUnavailableReason(active?.reader.name);
  if (reason !== undefined) return reason;
  if (!active) return 'not sampling: call startSampling({ allocations: true }) first';
  if (active.requestedAllocations || active.collectedSamples > 0) return undefined;
  if (active.shared) return "V8's sampler was started by another tool, in live mode: heapwatch cannot switch it to allocation mode";
  return 'allocation mode is off: start heapwatch with allocations: true (each reading then forces a full GC)';
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
    reader.start(requestedIntervalBytes, stackDepth, false, sampler.requestedAllocations && allocationsUnavailableReason(reader.name) === undefined);
    sampler.samplingIntervalBytes = requestedIntervalBytes;
    sampler.shared = false;
    sampler.epoch++;
    sampler.collectedSamples = 0;
    const message = `${error.message}; heapwatch restarted it at samplingIntervalBytes ${requestedIntervalBytes}, the samples taken before are lost`;
    warnOnce(WarningCode.SAMPLER_LOST, message);
    throw new HeapwatchError(ErrorCode.SAMPLER_LOST, message, { cause: error });
  }
  const epoch = read.restarted || read.collectedSamples < sampler.collectedSamples - 1 ? ++sampler.epoch : sampler.epoch;
  if (read.allocations && sampler.shared && !sampler.requestedAllocations && sampler.collectedSamples === 0) {
    warnOnce(
      WarningCode.SAMPLER_ALLOCATION_MODE,
      "V8's sampling heap profiler, started by another tool, keeps the samples of collected objects (allocation mode: dd-trace's default " +
        'on Node 26): each read forces a full GC, so heapwatch reads only within forcedGcPauseBudgetMs, and the live samples ' +
        'cover only the time since that tool last started its sampler over (dd-trace does at every upload)',
    );
  }
  sampler.collectedSamples = read.collectedSamples;
  if (read.restarted || read.samplingIntervalBytes !== sampler.samplingIntervalBytes) {
    sampler.shared = true;
    sampler.samplingIntervalBytes = read.samplingIntervalBytes;
    warnOnce(
      WarningCode.SAMPLER_SHARED,
      `Another client restarted V8's sampling heap profiler, now at samplingIntervalBytes ${read.samplingIntervalBytes}; ` +
        'heapwatch shares it at that interval, and will not stop or restart it',
    );
  }
  const profile: RawProfile = { reader: reader.name, samplingIntervalBytes: read.samplingIntervalBytes, root: read.root, allocations: read.allocations, epoch };
  // V8 keeps every collected sample until its sampler stops: start over before the store grows
  // past its bound (never a shared sampler: it is the other tool's to restart).
  if (read.allocations && !sampler.shared && read.collectedSamples > MAX_COLLECTED_SAMPLES) {
    reader.stop(false);
    reader.start(sampler.samplingIntervalBytes, stackDepth, false, true);
    sampler.epoch++;
    sampler.collectedSamples = 0;
  }
  return profile;
}
