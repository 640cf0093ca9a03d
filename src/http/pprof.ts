// A snapshot as a pprof heap profile, the format Go's tooling (`go tool pprof`) and Grafana
// Pyroscope read. The encoding is pprof-format's, Datadog's maintained encoder, not ours. The
// period tells those tools the sampling interval the estimates were made with, as Go's own heap
// profiles do.
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { Function as PprofFunction, Line, Location, Profile, Sample, StringTable, ValueType } from 'pprof-format';
import { frameKey } from '../snapshot/frame.js';
import type { Frame } from '../snapshot/frame.js';
import type { Snapshot } from '../snapshot/snapshot.js';

export const gzipAsync = promisify(gzip);

export const NANOS_PER_MILLI = 1_000_000n;

/**
 * Interns frames as pprof functions and locations. V8 records functions, not statements (a frame's
 * line is its function's declaration), so each function has exactly one location, under the same id.
 */
export class FrameTable {
  readonly functions: PprofFunction[] = [];
  readonly locations: Location[] = [];
  private readonly ids = new Map<string, number>();

  constructor(private readonly strings: StringTable) {}

  /** The location id of `frame`, created on first sight; ids start at 1, as 0 means "none" in pprof. */
  idOf(frame: Frame): number {
    const key = frameKey(frame);
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.ids.size + 1;
      this.ids.set(key, id);
      const name = this.strings.dedup(frame.functionName);
      // Built-ins have no file: the empty string, which pprof prints as no filename.
      const filename = this.strings.dedup(frame.file);
      this.functions.push(new PprofFunction({ id, name, systemName: name, filename, startLine: frame.line }));
      this.locations.push(
        new Location({ id, line: [new Line({ functionId: id, line: frame.line, column: frame.column })] }),
      );
    }
    return id;
  }
}

/**
 * A pprof heap profile of `snapshot`: one sample per distinct stack, its location ids leaf first,
 * with the values `inuse_objects/count`, `inuse_space/bytes` (V8's heap) and `external_space/bytes`
 * (the stack's estimated share of the process's ArrayBuffer memory, outside V8's heap:
 * `Statistic.externalSize`; see docs/concepts.md, "Outside V8's heap"), rounded estimates. The
 * heap's space is the default sample type, so that `go tool pprof` shows it first, as for Go's own
 * heap profiles; `-sample_index=external_space` shows the Buffers. The period is
 * `snapshot.samplingIntervalBytes` (the heap's sampling; the external figure is a share of an exact
 * total, not a sample).
 */
export function pprofFromSnapshot(snapshot: Snapshot): Profile {
  const strings = new StringTable();
  const frames = new FrameTable(strings);
  const valueType = (type: string, unit: string): ValueType =>
    new ValueType({ type: strings.dedup(type), unit: strings.dedup(unit) });

  const sampleType = [valueType('inuse_objects', 'count'), valueType('inuse_space', 'bytes'), valueType('external_space', 'bytes')];
  const sample = snapshot.statistics('traceback').map(
    (stat) =>
      new Sample({
        // frames[0] is the innermost call, which is the order pprof wants.
        locationId: stat.traceback.frames.map((frame) => frames.idOf(frame)),
        value: [Math.round(stat.count), Math.round(stat.size), Math.round(stat.externalSize)],
      }),
  );
  return new Profile({
    sampleType,
    sample,
    location: frames.locations,
    function: frames.functions,
    stringTable: strings,
    // Milliseconds since the epoch in nanoseconds exceed 2^53: only a bigint holds them exactly.
    timeNanos: BigInt(Math.round(snapshot.timestamp)) * NANOS_PER_MILLI,
    periodType: valueType('space', 'bytes'),
    period: snapshot.samplingIntervalBytes,
    defaultSampleType: strings.dedup('inuse_space'),
  });
}

/**
 * `snapshot` as the gzipped pprof bytes Go's `net/http/pprof` serves and `go tool pprof` reads.
 * Compression runs on libuv's thread pool, so a large profile does not block the event loop.
 */
export async function encodePprof(snapshot: Snapshot): Promise<Buffer> {
  return gzipAsync(pprofFromSnapshot(snapshot).encode());
}
