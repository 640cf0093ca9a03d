// Snapshots in allocation mode as Go's `allocs` profile: what each stack allocated, beside what
// it holds, in the four sample types Go's heap profiles carry.
import { Profile, Sample, StringTable, ValueType } from 'pprof-format';
import type { Snapshot } from '../snapshot/snapshot.js';
import type { Statistic } from '../snapshot/statistic.js';
import { FrameTable, gzipAsync, NANOS_PER_MILLI } from './pprof.js';

/** Go's order of the sample types, `alloc_space` the default as in Go's own `allocs` profile. */
const SAMPLE_TYPES = [
  ['alloc_objects', 'count'],
  ['alloc_space', 'bytes'],
  ['inuse_objects', 'count'],
  ['inuse_space', 'bytes'],
] as const;

function valuesOf(stat: Statistic | undefined): [number, number, number, number] {
  return stat === undefined ? [0, 0, 0, 0] : [stat.allocatedCount ?? 0, stat.allocatedSize ?? 0, stat.count, stat.size];
}

/**
 * A pprof profile of what each stack allocated since V8's sampler last started (live or collected
 * since) and what it holds now — or, with `older` (taken from the same start of the sampler), the
 * difference between the two, as Go's `?seconds=N` delta: bytes and objects allocated in between,
 * and the change of the live ones (which may be negative). Stacks whose four values are all 0 are
 * left out. Both snapshots must carry allocation data.
 */
export function pprofAllocsFromSnapshots(newer: Snapshot, older?: Snapshot): Profile {
  const strings = new StringTable();
  const frames = new FrameTable(strings);
  const valueType = (type: string, unit: string): ValueType => new ValueType({ type: strings.dedup(type), unit: strings.dedup(unit) });
  const before = new Map((older?.statistics('traceback') ?? []).map((stat) => [stat.key, stat]));
  const sample: Sample[] = [];
  const add = (stat: Statistic, values: readonly number[]): void => {
    const rounded = values.map(Math.round);
    if (rounded.every((value) => value === 0)) return;
    // frames[0] is the innermost call, which is the order pprof wants.
    sample.push(new Sample({ locationId: stat.traceback.frames.map((frame) => frames.idOf(frame)), value: rounded }));
  };
  for (const stat of newer.statistics('traceback', 'allocated')) {
    const now = valuesOf(stat);
    const then = valuesOf(before.get(stat.key));
    before.delete(stat.key);
    add(stat, now.map((value, i) => value - (then[i] as number)));
  }
  // Stacks gone since the older snapshot allocated nothing since; their live objects died.
  for (const stat of before.values()) add(stat, [0, 0, -stat.count, -stat.size]);
  const durationMs = older === undefined ? 0 : newer.timestamp - older.timestamp;
  return new Profile({
    sampleType: SAMPLE_TYPES.map(([type, unit]) => valueType(type, unit)),
    sample,
    location: frames.locations,
    function: frames.functions,
    stringTable: strings,
    timeNanos: BigInt(Math.round(older?.timestamp ?? newer.timestamp)) * NANOS_PER_MILLI,
    ...(durationMs > 0 ? { durationNanos: BigInt(Math.round(durationMs)) * NANOS_PER_MILLI } : {}),
    periodType: valueType('space', 'bytes'),
    period: newer.samplingIntervalBytes,
    defaultSampleType: strings.dedup('alloc_space'),
  });
}

/** {@link pprofAllocsFromSnapshots} as gzipped bytes, compressed on libuv's thread pool. */
export async function encodePprofAllocs(newer: Snapshot, older?: Snapshot): Promise<Buffer> {
  return gzipAsync(pprofAllocsFromSnapshots(newer, older).encode());
}
