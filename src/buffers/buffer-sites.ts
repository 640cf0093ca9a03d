import { frameKey, makeFrame, scriptNameToFile } from '../snapshot/frame.js';
import type { Frame } from '../snapshot/frame.js';
import { mapTraceback } from '../snapshot/group.js';
import type { SampledStack as ProfileStack } from '../snapshot/site-aggregator.js';
import { sharedResolver } from '../snapshot/source-map.js';
import type { SourceMapResolver } from '../snapshot/source-map.js';
import type { Trace } from '../snapshot/trace.js';
import { Traceback } from '../snapshot/traceback.js';
import type { SampledStack, StackEstimate } from './buffer-sampler.js';
import { ProfilePositions } from './profile-position.js';

/** The sampled Buffers still alive at one site. */
export interface BufferSite {
  /** The site's key, as V8's readings key it (`frameKey` of the source-mapped site frame). */
  readonly key: string;
  /** Estimated bytes of the site's live Buffers. */
  readonly bytes: number;
  /** Standard deviation of `bytes` (bytes; see `BufferSampler`). */
  readonly noiseBytes: number;
  /** Live samples behind the estimate. */
  readonly samples: number;
  /** The site's stack holding the most sampled bytes, source-mapped. */
  readonly traceback: Traceback;
  /** Every stack of the site with its bytes, frames as they ran (for the routes on them). */
  readonly stacks: readonly ProfileStack[];
}

/** A sampled stack resolved once: its frames at V8's positions, its traceback and site key. */
interface ResolvedStack {
  readonly frames: readonly Frame[];
  readonly traceback: Traceback;
  readonly key: string;
}

/**
 * Sums the Buffer sampler's live samples per site, keyed as V8's readings key their sites (the
 * innermost frame of user code, at the position V8's profile gives: see `profile-position.ts`;
 * source-mapped), so that a site's Buffer bytes join its heap bytes. Each stack is resolved once,
 * when first read (in a reading, off the request path).
 */
export class BufferSites {
  private readonly positions = new ProfilePositions();

  constructor(private readonly resolver: SourceMapResolver) {}

  sum(estimates: readonly StackEstimate[]): Map<string, BufferSite> {
    const sums = new Map<string, { bytes: number; variance: number; samples: number; largest: number; traceback: Traceback; stacks: ProfileStack[] }>();
    for (const { stack, bytes, variance, samples } of estimates) {
      const resolved = this.resolve(stack);
      const sum = sums.get(resolved.key);
      const profileStack = { frames: resolved.frames, bytes };
      if (!sum) {
        sums.set(resolved.key, { bytes, variance, samples, largest: bytes, traceback: resolved.traceback, stacks: [profileStack] });
        continue;
      }
      sum.bytes += bytes;
      sum.variance += variance;
      sum.samples += samples;
      sum.stacks.push(profileStack);
      if (bytes > sum.largest) {
        sum.largest = bytes;
        sum.traceback = resolved.traceback;
      }
    }
    this.positions.endReading();
    const sites = new Map<string, BufferSite>();
    for (const [key, { bytes, variance, samples, traceback, stacks }] of sums) {
      sites.set(key, { key, bytes, noiseBytes: Math.sqrt(variance), samples, traceback, stacks });
    }
    return sites;
  }

  /**
   * The live samples as traces of a snapshot (`takeSnapshot()`): each stack's Buffers as its
   * `externalSize`, its frames at V8's positions (the snapshot source-maps them, as V8's own).
   */
  traces(estimates: readonly StackEstimate[]): Trace[] {
    const traces = estimates.map(({ stack, bytes, variance }) => ({
      traceback: new Traceback(this.resolve(stack).frames),
      size: 0,
      count: 0,
      externalSize: bytes,
      externalVariance: variance,
    }));
    this.positions.endReading();
    return traces;
  }

  private resolve(stack: SampledStack): ResolvedStack {
    if (stack.resolved) return stack.resolved as ResolvedStack;
    const frames = stack.frames.map(({ functionName, scriptName, line, column }) => {
      const position = this.positions.of(scriptName, line, column);
      return makeFrame(functionName, scriptNameToFile(scriptName), position.line, position.column);
    });
    const traceback = mapTraceback(new Traceback(frames), this.resolver);
    const resolved: ResolvedStack = { frames, traceback, key: frameKey(traceback.site) };
    stack.resolved = resolved;
    return resolved;
  }
}

/**
 * The isolate's: one Buffer sampler per isolate, whose stacks every monitor's readings and
 * `takeSnapshot()` resolve through one cache of positions.
 */
export const sharedBufferSites = new BufferSites(sharedResolver);
