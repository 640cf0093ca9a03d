import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { Profile } from 'pprof-format';
import { encodePprof, pprofFromSnapshot } from '../../src/http/pprof.js';
import { Snapshot } from '../../src/snapshot/snapshot.js';
import { Traceback } from '../../src/snapshot/traceback.js';
import { runNode, toolAvailable, workloadFile } from '../helpers.js';
import { recordedSnapshot } from '../snapshot/recorded.js';

/** A decoded profile read back into plain values: pprof-format decodes small numbers as numbers, large ones as bigints. */
function readBack(profile: Profile) {
  const string = (index: number | bigint): string => profile.stringTable.strings[Number(index)] ?? '<missing>';
  const functions = new Map(profile.function.map((fn) => [Number(fn.id), fn]));
  const locations = new Map(profile.location.map((location) => [Number(location.id), location]));
  const frameOf = (locationId: number | bigint) => {
    const line = locations.get(Number(locationId))?.line[0];
    const fn = functions.get(Number(line?.functionId));
    return { name: string(fn?.name ?? 0), file: string(fn?.filename ?? 0), line: Number(line?.line), startLine: Number(fn?.startLine) };
  };
  return {
    sampleTypes: profile.sampleType.map((type) => `${string(type.type)}/${string(type.unit)}`),
    periodType: `${string(profile.periodType?.type ?? 0)}/${string(profile.periodType?.unit ?? 0)}`,
    defaultSampleType: string(profile.defaultSampleType),
    samples: profile.sample.map((sample) => ({
      objects: Number(sample.value[0]),
      bytes: Number(sample.value[1]),
      externalBytes: Number(sample.value[2]),
      frames: sample.locationId.map(frameOf),
    })),
  };
}

for (const reader of ['native', 'inspector'] as const) {
  test(`encodes a recorded ${reader} snapshot as a gzipped pprof heap profile that decodes to the same stacks and totals`, async () => {
    const snapshot = recordedSnapshot(reader, 'after', 1_700_000_000_123);
    const stats = snapshot.statistics('traceback');
    const encoded = await encodePprof(snapshot);
    assert.deepEqual([...encoded.subarray(0, 2)], [0x1f, 0x8b], 'gzip magic');
    const profile = Profile.decode(gunzipSync(encoded));
    const read = readBack(profile);

    assert.deepEqual(read.sampleTypes, ['inuse_objects/count', 'inuse_space/bytes', 'external_space/bytes']);
    assert.equal(read.defaultSampleType, 'inuse_space');
    assert.equal(read.periodType, 'space/bytes');
    assert.equal(Number(profile.period), 4096);
    assert.equal(BigInt(profile.timeNanos), 1_700_000_000_123_000_000n);

    assert.equal(read.samples.length, stats.length, 'one sample per distinct stack');
    const sum = (values: number[]): number => values.reduce((a, b) => a + b, 0);
    assert.equal(sum(read.samples.map((s) => s.bytes)), sum(stats.map((s) => Math.round(s.size))));
    assert.equal(sum(read.samples.map((s) => s.objects)), sum(stats.map((s) => Math.round(s.count))));
    // Outside V8's heap, its own sample type: the statistics' shares of the ArrayBuffer memory.
    assert.equal(sum(read.samples.map((s) => s.externalBytes)), sum(stats.map((s) => Math.round(s.externalSize))));
    assert.ok(sum(read.samples.map((s) => s.externalBytes)) <= snapshot.unattributed.arrayBuffersBytes + read.samples.length);
    assert.equal(sum(read.samples.map((s) => s.bytes)), snapshot.size, 'the recorded estimates are whole bytes');

    // The largest sample is getData's stack, leaf first, exactly as the statistic's traceback.
    const largest = read.samples.reduce((a, b) => (b.bytes > a.bytes ? b : a));
    const top = stats[0];
    assert.ok(top);
    assert.equal(largest.bytes, top.size);
    assert.equal(largest.frames[0]?.name, top.traceback.frames[0]?.functionName);
    assert.equal(largest.frames[0]?.name, 'getData');
    assert.deepEqual(largest.frames[0], { name: 'getData', file: workloadFile, line: 11, startLine: 11 });
    assert.deepEqual(
      largest.frames.map((frame) => frame.name),
      top.traceback.frames.map((frame) => frame.functionName),
    );
    assert.equal(largest.frames.at(-1)?.file, '', 'the outermost call is a V8 built-in, with no filename');
  });
}

test('interns a function shared by two stacks once, rounds the estimates, and keeps built-ins without a filename', () => {
  const handler = { functionName: 'handler', file: '/srv/app.js', line: 10, column: 3 };
  const cache = { functionName: 'cache', file: '/srv/app.js', line: 2, column: 1 };
  const push = { functionName: 'push', file: '', line: 0, column: 0 };
  const snapshot = new Snapshot({
    traces: [
      { traceback: new Traceback([push, cache, handler]), size: 1000.6, count: 2.5 },
      { traceback: new Traceback([cache, handler]), size: 99.4, count: 1.2 },
    ],
    samplingIntervalBytes: 512,
    reader: 'inspector',
    timestamp: 0,
    heapUsedBytes: 0,
    unattributed: { externalBytes: 0, arrayBuffersBytes: 0 },
  });
  const profile = pprofFromSnapshot(snapshot);
  assert.equal(profile.function.length, 3);
  assert.equal(profile.location.length, 3);
  assert.equal(profile.period, 512);
  const read = readBack(profile);
  assert.deepEqual(read.samples, [
    {
      objects: 3,
      bytes: 1001,
      externalBytes: 0,
      frames: [
        { name: 'push', file: '', line: 0, startLine: 0 },
        { name: 'cache', file: '/srv/app.js', line: 2, startLine: 2 },
        { name: 'handler', file: '/srv/app.js', line: 10, startLine: 10 },
      ],
    },
    {
      objects: 1,
      bytes: 99,
      externalBytes: 0,
      frames: [
        { name: 'cache', file: '/srv/app.js', line: 2, startLine: 2 },
        { name: 'handler', file: '/srv/app.js', line: 10, startLine: 10 },
      ],
    },
  ]);
});

/** Whether `go` runs; its absence fails the test when CI asks for every tool. */
/**
 * A size as pprof prints it, in bytes, with the precision of the print: pprof picks the unit from
 * the smallest value shown (B, kB, MB, GB, each 1024 times the last), with two decimals.
 */
function parseBytes(label: string | undefined): { bytes: number; precision: number } {
  const match = /^(\d+(?:\.\d+)?)(B|kB|MB|GB)$/.exec(label ?? '');
  assert.ok(match, `a size: ${label}`);
  const unit = 1024 ** ['B', 'kB', 'MB', 'GB'].indexOf(match[2] ?? '');
  // Half of the last printed digit, and a byte for the floating-point error of the parse.
  return { bytes: Number(match[1]) * unit, precision: 0.005 * unit + 1 };
}

/** The total and the first row of `go tool pprof -top`'s table, which follows the `flat  flat%…` header. */
function parseTop(output: string) {
  const lines = output.split('\n');
  const header = lines.findIndex((line) => /^\s*flat\s+flat%\s+sum%\s+cum\s+cum%\s*$/.test(line));
  assert.ok(header >= 0, output);
  const columns = (lines[header + 1] ?? '').trim().split(/\s+/);
  return {
    type: lines.find((line) => line.startsWith('Type: ')),
    total: /of (\S+) total$/m.exec(output)?.[1],
    flat: columns[0],
    name: columns.slice(5).join(' '),
  };
}

test("Go's pprof reads a live profile and puts the function that retains the memory first", async (t) => {
  if (!(await toolAvailable(t, 'go', ['version']))) return;
  const dir = await mkdtemp(join(tmpdir(), 'heapwatch-pprof-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'heap.pb.gz');
  const child = JSON.parse(await runNode(['test/fixtures/pprof-child.mjs', file])) as { bytes: number; objects: number };
  assert.ok(child.bytes > 15 * 2 ** 20, `the child sampled ${child.bytes} bytes`);

  // A HOME of its own, so that pprof writes nothing into the user's.
  const pprof = async (...args: string[]) =>
    parseTop((await promisify(execFile)('go', ['tool', 'pprof', ...args, file], { env: { ...process.env, HOME: dir } })).stdout);
  // V8 may inline retainOrders into main, which then holds the memory.
  const holders = ['retainOrders', 'main'];

  const space = await pprof('-top');
  assert.equal(space.type, 'Type: inuse_space');
  assert.ok(holders.includes(space.name), `first row: ${space.name}`);
  const total = parseBytes(space.total);
  assert.ok(Math.abs(total.bytes - child.bytes) <= total.precision, `pprof's total ${space.total}, the child's ${child.bytes} bytes`);
  assert.ok(parseBytes(space.flat).bytes > 15 * 2 ** 20, `flat ${space.flat}`);

  const objects = await pprof('-sample_index=inuse_objects', '-top');
  assert.equal(objects.type, 'Type: inuse_objects');
  assert.ok(holders.includes(objects.name), `first row: ${objects.name}`);
  assert.equal(objects.total, String(child.objects));
});
