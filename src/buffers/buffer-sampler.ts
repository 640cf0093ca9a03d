import { captureStack, rawStackKey } from './call-stack.js';
import type { RawFrame } from './call-stack.js';
import { installBufferWrappers, removeBufferWrappers } from './buffer-wrappers.js';

/**
 * Live samples held at most: at the default 4 MiB a sample stands for ~4 MiB, so 10 000 of them
 * stand for ~40 GiB of Buffers (5 GiB at 512 KiB), more than a container holds; each costs ~150 bytes (a WeakRef
 * and its record), 1.5 MB in all. Past it, new samples are counted in `droppedSamples` and the
 * Buffers they stand for are left to the wrapper share.
 */
const MAX_SAMPLES = 10_000;

/** A stack that sampled Buffers were made on, shared by its samples. */
export interface SampledStack {
  readonly key: string;
  readonly frames: readonly RawFrame[];
  /** Set once the stack has been resolved to a site (see `buffer-sites.ts`). */
  resolved?: unknown;
  /** Live samples on it. */
  samples: number;
}

interface Sample {
  readonly buffer: WeakRef<Buffer>;
  readonly stack: SampledStack;
  /** The bytes the sample stands for: `size / (1 - exp(-size / R))`. */
  readonly weight: number;
  /** Its part of the estimate's variance: `weight² × exp(-size / R)` (bytes²). */
  readonly variance: number;
}

/** The live samples of one stack at a reading. */
export interface StackEstimate {
  readonly stack: SampledStack;
  /** Estimated bytes of Buffers made on this stack and still alive. */
  readonly bytes: number;
  /** Variance of `bytes` (bytes²). */
  readonly variance: number;
  /** Live samples. */
  readonly samples: number;
}

/**
 * A Poisson sampler of the Buffers the application makes, by bytes as V8 samples its heap: every
 * byte of a Buffer made by a wrapped `Buffer` factory (see `buffer-wrappers.ts`) is sampled at
 * rate 1/R, so a Buffer of `s` bytes is sampled with probability `p = 1 - exp(-s/R)` and a sample
 * stands for `s / p` bytes (Horvitz–Thompson: unbiased). On the request path a call costs a byte
 * countdown; a sampled Buffer costs a stack capture and a WeakRef. Liveness comes from the WeakRef:
 * a reading keeps the samples whose Buffer is still there — exact as of the latest GC, also right
 * after a major GC, when FinalizationRegistry callbacks have not run yet (they are tasks queued
 * after the GC).
 *
 * The estimate's variance is that of the Horvitz–Thompson sum: `Σ s²(1-p)/p` over all Buffers
 * alive, estimated without bias by `Σ w²(1-p)` over the live samples (w = s/p). For Buffers much
 * smaller than R (w ≈ R, 1-p ≈ 1) it is `n R² ≈ B R`: the standard deviation is `sqrt(B × R)`,
 * V8's for its heap (docs/concepts.md); for Buffers much larger than R it goes to 0 (each is
 * sampled for sure).
 *
 * One per isolate (Buffer is per isolate): monitors share it; the first to start sets R, as the
 * first to start V8's sampler sets its interval.
 */
export class BufferSampler {
  private users = 0;
  private intervalBytes = 4 * 1024 * 1024;
  private countdown = 0;
  private samples: Sample[] = [];
  private readonly stacks = new Map<string, SampledStack>();
  /** Samples not kept because {@link MAX_SAMPLES} were held. */
  droppedSamples = 0;
  /** Samples taken since the start (for tests and stats). */
  taken = 0;
  /** Samples that failed (the stack trace API not writable): the Buffer was returned unsampled. */
  failedSamples = 0;

  private readonly onBuffer = (buffer: Buffer, size: number, wrapper: (...args: never[]) => unknown): void => {
    if ((this.countdown -= size) > 0) return;
    this.countdown = this.nextCountdown();
    try {
      this.sample(buffer, size, wrapper);
    } catch {
      // A stack trace API made read-only by the application, say: the Buffer goes back to its
      // caller unsampled, never with heapwatch's error.
      this.failedSamples++;
    }
  };

  /** The interval the sampler runs at (bytes). */
  get samplingIntervalBytes(): number {
    return this.intervalBytes;
  }

  /** Whether Buffers are sampled now. */
  get running(): boolean {
    return this.users > 0;
  }

  /** Starts sampling (the first caller sets the interval), or joins the sampling under way. */
  acquire(samplingIntervalBytes: number): void {
    if (this.users++ > 0) return;
    this.intervalBytes = samplingIntervalBytes;
    this.countdown = this.nextCountdown();
    installBufferWrappers(this.onBuffer);
  }

  /** Leaves the sampling; the last to leave puts `Buffer` back as it was and forgets the samples. */
  release(): void {
    if (this.users === 0 || --this.users > 0) return;
    removeBufferWrappers();
    this.samples = [];
    this.stacks.clear();
  }

  /** The live samples per stack now; samples of collected Buffers are let go. */
  read(): StackEstimate[] {
    const sums = new Map<SampledStack, { bytes: number; variance: number; samples: number }>();
    let kept = 0;
    for (const sample of this.samples) {
      if (sample.buffer.deref() === undefined) {
        if (--sample.stack.samples === 0) this.stacks.delete(sample.stack.key);
        continue;
      }
      this.samples[kept++] = sample;
      const sum = sums.get(sample.stack);
      if (sum) {
        sum.bytes += sample.weight;
        sum.variance += sample.variance;
        sum.samples++;
      } else sums.set(sample.stack, { bytes: sample.weight, variance: sample.variance, samples: 1 });
    }
    this.samples.length = kept;
    return [...sums].map(([stack, sum]) => ({ stack, ...sum }));
  }

  private sample(buffer: Buffer, size: number, wrapper: (...args: never[]) => unknown): void {
    if (this.samples.length >= MAX_SAMPLES) {
      this.droppedSamples++;
      return;
    }
    const frames = captureStack(wrapper);
    // Heapwatch's own Buffers, and Buffers no user code asked for (Node's stream reader, fs,
    // zlib with no user frame on the stack): left to the wrapper share.
    if (!frames?.some(isUserFrame)) return;
    const key = rawStackKey(frames);
    let stack = this.stacks.get(key);
    if (!stack) this.stacks.set(key, (stack = { key, frames, samples: 0 }));
    stack.samples++;
    const R = this.intervalBytes;
    const unsampled = Math.exp(-size / R);
    const weight = size / (1 - unsampled);
    this.samples.push({ buffer: new WeakRef(buffer), stack, weight, variance: weight * weight * unsampled });
    this.taken++;
  }

  /** Bytes until the next sample: exponential with mean R, as V8 draws its own. */
  private nextCountdown(): number {
    return -Math.log(1 - Math.random()) * this.intervalBytes;
  }
}

function isUserFrame(frame: RawFrame): boolean {
  return frame.scriptName !== '' && !frame.scriptName.startsWith('node:');
}

/** The isolate's Buffer sampler. */
export const bufferSampler = new BufferSampler();
