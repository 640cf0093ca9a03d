import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ErrorCode, HeapwatchError } from '../../src/errors.js';
import { Filter } from '../../src/snapshot/filter.js';
import { isUserFrame } from '../../src/snapshot/frame.js';
import { snapshotFromProfile } from '../../src/snapshot/from-profile.js';
import { compareDiffs, compareStatistics } from '../../src/snapshot/statistic.js';
import type { ProfileNode } from '../../src/v8/profile.js';
import { workloadFile } from '../helpers.js';
import { recordedSnapshot } from './recorded.js';

const WORKLOAD = 'test/fixtures/workload.mjs';
const ALLOCATING_LINES = [6, 11]; // MyObject's constructor, or getData when V8 inlined it

for (const reader of ['native', 'inspector'] as const) {
  describe(`a snapshot of a recorded ${reader} profile`, () => {
    const before = recordedSnapshot(reader, 'before');
    const after = recordedSnapshot(reader, 'after');

    test('groups by site, largest first, and the groups add up to the whole', () => {
      const stats = after.statistics('site');
      assert.deepEqual([...stats].sort(compareStatistics), stats, 'sorted by size, count, key');
      assert.equal(stats.reduce((sum, stat) => sum + stat.size, 0), after.size);
      assert.equal(stats.reduce((sum, stat) => sum + stat.count, 0), after.count);
      assert.equal(new Set(stats.map((stat) => stat.key)).size, stats.length, 'one statistic per site');
      const top = stats[0];
      assert.ok(top);
      assert.equal(top.site.file, workloadFile);
      assert.ok(ALLOCATING_LINES.includes(top.site.line), `top site at line ${top.site.line}`);
      assert.match(String(top), /^test\/fixtures\/workload\.mjs:(6|11): size=\d+(\.\d)? (B|KiB|MiB), count=\d+, average=\d+ B$/);
    });

    test('groups by file and by whole traceback, adding up to the same total', () => {
      const files = after.statistics('file');
      assert.equal(files[0]?.key, workloadFile);
      assert.match(String(files[0]), /^test\/fixtures\/workload\.mjs: size=/);
      assert.equal(files.reduce((sum, stat) => sum + stat.size, 0), after.size);
      const stacks = after.statistics('traceback');
      assert.equal(stacks.length, after.traces.length, 'every recorded stack is its own group');
      assert.equal(stacks.reduce((sum, stat) => sum + stat.size, 0), after.size);
      assert.ok(stacks.length > files.length);
    });

    test('compares with an older snapshot in tracemalloc order, the growing site first', () => {
      const diffs = after.compareTo(before, 'site');
      assert.deepEqual([...diffs].sort(compareDiffs), diffs);
      const top = diffs[0];
      assert.ok(top && top.sizeDiff > 0);
      assert.ok(ALLOCATING_LINES.includes(top.site.line));
      assert.equal(top.size - top.sizeDiff, before.statistics('site').find((s) => s.key === top.key)?.size ?? 0);
      assert.match(
        String(top),
        /^test\/fixtures\/workload\.mjs:(6|11): size=\d+(\.\d)? (KiB|MiB) \(\+\d+(\.\d)? (KiB|MiB)\), count=\d+ \(\+\d+\), average=\d+ B$/,
      );
      // Every group of either snapshot is there once, and the differences add up.
      const sumDiff = diffs.reduce((sum, diff) => sum + diff.sizeDiff, 0);
      assert.equal(sumDiff, after.size - before.size);
    });

    test('charges built-ins and node internals to the user function that called them', () => {
      const strings = after.traces.filter((trace) => trace.traceback.site.functionName === 'keepStrings');
      assert.ok(strings.length > 0, 'keepStrings holds strings');
      for (const trace of strings) assert.equal(trace.traceback.site.line, 29);
      const throughInternals = after.traces.filter((trace) => !isUserFrame(trace.traceback.frames[0]!));
      assert.ok(throughInternals.length > 0, 'some stacks end in a built-in or node:* frame');
      for (const trace of throughInternals) {
        if (trace.traceback.frames.some(isUserFrame)) assert.ok(isUserFrame(trace.traceback.site));
      }
    });

    test('formats the traceback one frame a line, most recent call first unless asked otherwise', () => {
      const top = after.compareTo(before, 'site')[0]!;
      const lines = top.traceback.format();
      assert.equal(lines.length, top.traceback.frames.length);
      const at = (name: string) => lines.findIndex((line) => line.startsWith(`${name} (${WORKLOAD}:`));
      assert.ok(at('getData') >= 0 && at('run') > at('getData'), lines.join('\n'));
      assert.match(lines[at('run')]!, /^run \(test\/fixtures\/workload\.mjs:17:\d+\)$/);
      assert.deepEqual(top.traceback.format({ mostRecentFirst: false }), [...lines].reverse());
      assert.deepEqual(top.traceback.format({ limit: 2 }), lines.slice(0, 2));
      assert.equal(String(top.traceback), `${WORKLOAD}:${top.site.line}`);
    });

    test('filters traces by file glob, line and any frame, like tracemalloc', () => {
      const withoutWorkload = after.filterTraces([new Filter(false, WORKLOAD)]);
      assert.ok(withoutWorkload.traces.length > 0);
      assert.ok(withoutWorkload.statistics('site').every((stat) => stat.site.file !== workloadFile));
      const onlyFixtures = after.filterTraces([new Filter(true, 'test/fixtures/*.mjs')]);
      assert.ok(onlyFixtures.statistics('file').every((stat) => stat.key.startsWith(`${workloadFile.replace(/workload\.mjs$/, '')}`)));
      const absolute = after.filterTraces([new Filter(true, '/**/workload.mjs', { line: 29 })]);
      assert.deepEqual(
        absolute.statistics('site').map((stat) => stat.site.functionName),
        ['keepStrings'],
      );
      const throughRun = after.filterTraces([new Filter(true, WORKLOAD, { line: 17, allFrames: true })]);
      assert.ok(throughRun.traces.length > 0);
      assert.ok(throughRun.traces.every((trace) => trace.traceback.frames.some((frame) => frame.line === 17)));
      assert.ok(throughRun.traces.length < after.traces.length);
    });
  });
}

test('a group only in the older snapshot appears with size 0 and a negative difference', () => {
  const leaf = (name: string, line: number, sizeBytes: number, count: number): ProfileNode => ({
    name,
    scriptName: 'file:///app/server.js',
    lineNumber: line,
    columnNumber: 1,
    allocations: [{ sizeBytes, count }],
    children: [],
  });
  const tree = (...children: ProfileNode[]): ProfileNode => ({
    name: '(root)',
    scriptName: '',
    lineNumber: 0,
    columnNumber: 0,
    allocations: [],
    children,
  });
  const memory = { heapUsed: 0, external: 0, arrayBuffers: 0 };
  const old = snapshotFromProfile({ reader: 'native', samplingIntervalBytes: 4096, root: tree(leaf('a', 1, 100, 10), leaf('b', 5, 50, 4)) }, memory, 0);
  const now = snapshotFromProfile({ reader: 'native', samplingIntervalBytes: 4096, root: tree(leaf('a', 1, 100, 30)) }, memory, 1);
  const diffs = now.compareTo(old, 'site');
  assert.deepEqual(
    diffs.map((d) => [d.site.functionName, d.size, d.sizeDiff, d.count, d.countDiff]),
    [
      ['a', 3000, 2000, 30, 20],
      ['b', 0, -200, 0, -4],
    ],
  );
  assert.equal(String(diffs[1]), '/app/server.js:5: size=0 B (-200 B), count=0 (-4)');
  assert.equal(String(now.statistics('site')[0]), '/app/server.js:1: size=3000 B, count=30, average=100 B');
});

test('refuses to compare snapshots taken with different sampling intervals', () => {
  const native = recordedSnapshot('native', 'after');
  const memory = { heapUsed: 0, external: 0, arrayBuffers: 0 };
  const other = snapshotFromProfile(
    { reader: 'native', samplingIntervalBytes: 524288, root: { name: '(root)', scriptName: '', lineNumber: 0, columnNumber: 0, allocations: [], children: [] } },
    memory,
    0,
  );
  assert.throws(
    () => native.compareTo(other, 'site'),
    (error: unknown) =>
      error instanceof HeapwatchError &&
      error.code === ErrorCode.INCOMPATIBLE_SNAPSHOTS &&
      /samplingIntervalBytes.*4096.*524288/.test(error.message),
  );
});

test('rejects an unknown groupBy with a coded error naming it', () => {
  const snapshot = recordedSnapshot('native', 'after');
  for (const call of [() => snapshot.statistics('line' as never), () => snapshot.compareTo(snapshot, 'lineno' as never)]) {
    assert.throws(call, (error: unknown) => error instanceof HeapwatchError && error.code === ErrorCode.INVALID_GROUP_BY && /"groupBy".*"line/.test(error.message));
  }
});

test('keeps the memory the sampler cannot attribute beside the traces', () => {
  const snapshot = recordedSnapshot('native', 'after');
  assert.ok(snapshot.unattributed.externalBytes >= snapshot.unattributed.arrayBuffersBytes);
  assert.ok(snapshot.unattributed.arrayBuffersBytes > 0);
  assert.ok(snapshot.heapUsedBytes > snapshot.size / 2);
});

test('a statistic keeps the Buffers its stacks hold apart from its heap bytes: a share of the ArrayBuffer memory by sampled wrappers', async () => {
  const { startSampling, stopSampling } = await import('../../src/v8/sampler.js');
  const { takeSnapshot } = await import('../../src/take-snapshot.js');
  startSampling({ samplingIntervalBytes: 16 * 1024 });
  try {
    const kept: Buffer[] = [];
    (function keepSnapshotBuffers() {
      for (let i = 0; i < 4000; i++) kept.push(Buffer.alloc(16 * 1024, i));
    })();
    const snapshot = takeSnapshot();
    const stats = snapshot.statistics('site');
    const stat = stats.find((s) => s.site.functionName === 'keepSnapshotBuffers');
    assert.ok(stat, 'the keeping function is a site');
    const truth = kept.length * 16 * 1024;
    assert.ok(stat.externalSize > truth / 2 && stat.externalSize < truth * 2, `${stat.externalSize} of ${truth}`);
    assert.ok(stat.size < truth / 20, "size stays V8's heap");
    assert.ok(stat.externalNoise > 0 && stat.externalNoise < stat.externalSize);
    const shared = stats.reduce((sum, s) => sum + s.externalSize, 0);
    assert.ok(shared <= snapshot.unattributed.arrayBuffersBytes + stats.length, 'no more than the process holds is shared');
  } finally {
    stopSampling();
  }
});
