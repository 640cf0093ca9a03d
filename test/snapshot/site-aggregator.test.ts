import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Filter } from '../../src/snapshot/filter.js';
import { FrameInterner } from '../../src/snapshot/frame-interner.js';
import { SiteAggregator } from '../../src/snapshot/site-aggregator.js';
import type { SiteReadings } from '../../src/snapshot/site-aggregator.js';
import { snapshotFromProfile } from '../../src/snapshot/from-profile.js';
import { SourceMapResolver } from '../../src/snapshot/source-map.js';
import { frameKey, NATIVE_SITE } from '../../src/snapshot/frame.js';
import { fromInspectorProfile } from '../../src/v8/inspector-reader.js';
import type { ProfileNode } from '../../src/v8/profile.js';
import { profileNode as node } from './profile-node.js';
import { recordedInspector, recordedNative } from '../helpers.js';

const WORKLOAD = 'test/fixtures/workload.mjs';

// The monitor sums each reading per site in one walk of V8's tree (SiteAggregator); takeSnapshot()
// flattens the tree into traces and groups them (statistics('site')). Both must say the same.

const recorded: Array<[string, () => ProfileNode]> = [
  ['native', () => recordedNative('after').root],
  ['inspector', () => {
    const { profile, samplingIntervalBytes } = recordedInspector('after');
    return fromInspectorProfile(profile, samplingIntervalBytes);
  }],
];

function viaSnapshot(root: ProfileNode, filters: Filter[]) {
  const memory = { heapUsed: 0, external: 0, arrayBuffers: 0 };
  const snapshot = snapshotFromProfile({ reader: 'native', samplingIntervalBytes: 1024, root }, memory, 0, new SourceMapResolver());
  const filtered = filters.length > 0 ? snapshot.filterTraces(filters) : snapshot;
  return { statistics: filtered.statistics('site'), size: filtered.size };
}

function describeReadings({ sites }: SiteReadings) {
  return [...sites.values()]
    .map((site) => ({ key: site.key, size: site.size, count: site.count, stack: site.traceback.key }))
    .sort((a, b) => (a.key < b.key ? -1 : 1));
}

const filterSets: Array<[string, Filter[]]> = [
  ['no filter', []],
  ['an exclude filter', [new Filter(false, WORKLOAD)]],
  ['an all-frames include filter', [new Filter(true, WORKLOAD, { line: 17, allFrames: true })]],
];

for (const [reader, rootOf] of recorded) {
  for (const [filterName, filters] of filterSets) {
    test(`sums a recorded ${reader} profile per site as statistics('site') does, with ${filterName}`, () => {
      const root = rootOf();
      const expected = viaSnapshot(root, filters);
      const readings = new SiteAggregator(new FrameInterner(), new SourceMapResolver()).aggregate(root, filters);
      assert.ok(expected.statistics.length > 0);
      if (filters.length > 0) assert.ok(expected.size < viaSnapshot(root, []).size, 'the filter leaves some traces out');
      assert.equal(readings.totalBytes, expected.size);
      assert.deepEqual(
        describeReadings(readings),
        expected.statistics
          .map((stat) => ({ key: stat.key, size: stat.size, count: stat.count, stack: stat.traceback.key }))
          .sort((a, b) => (a.key < b.key ? -1 : 1)),
      );
    });
  }
}

test('charges built-ins to the innermost user frame and keeps the largest stack of each site', () => {
  // main ─┬─ parse ── push*    (parse: 160 B through the built-in push, 30 B of its own)
  //       ├─ parse*
  //       └─ other ── parse*   (the same function on another stack: 400 B, the largest)
  const root = node('(root)', [
    node('main', [node('parse', [node('push', [], 16, 10)], 30, 1), node('other', [node('parse', [], 400, 1)])]),
  ]);
  const { sites, totalBytes } = new SiteAggregator(new FrameInterner(), new SourceMapResolver()).aggregate(root);
  assert.equal(totalBytes, 590);
  const parse = [...sites.values()].find((site) => site.traceback.site.functionName === 'parse');
  assert.equal(parse?.size, 590);
  assert.equal(parse?.count, 12);
  assert.deepEqual(parse?.traceback.frames.map((frame) => frame.functionName), ['parse', 'other', 'main']);
  assert.equal(sites.size, 1);
});

test('gives back the same traceback object while a site keeps its stack, a new one when it changes', () => {
  const aggregator = new SiteAggregator(new FrameInterner(), new SourceMapResolver());
  const tree = (size: number, via: string) => node('(root)', [node('main', [node(via, [node('parse', [], size, 1)])])]);
  const first = [...aggregator.aggregate(tree(100, 'route')).sites.values()][0]?.traceback;
  const second = [...aggregator.aggregate(tree(200, 'route')).sites.values()][0]?.traceback;
  assert.ok(first);
  assert.equal(second, first, 'same stack: same object, no rebuild');
  const moved = [...aggregator.aggregate(tree(200, 'timer')).sites.values()][0]?.traceback;
  assert.notEqual(moved, first);
  assert.deepEqual(moved?.frames.map((frame) => frame.functionName), ['parse', 'timer', 'main']);
});

test('sums what no JavaScript function allocated into one native site, as statistics(\'site\') does', () => {
  // (V8 API) ─ push*     two stacks with no script at all: one native site
  // main ─ push*          a built-in under user code: charged to main
  const scriptless = (name: string, children: ProfileNode[] = [], sizeBytes = 0, count = 0): ProfileNode => ({
    ...node(name, children, sizeBytes, count),
    scriptName: '',
    lineNumber: 0,
  });
  const root = node('(root)', [
    scriptless('(V8 API)', [scriptless('push', [], 64, 3)], 32, 2),
    node('main', [node('push', [], 16, 1)]),
  ]);
  const { sites } = new SiteAggregator(new FrameInterner(), new SourceMapResolver()).aggregate(root);
  const native = sites.get(frameKey(NATIVE_SITE));
  assert.equal(native?.size, 256);
  assert.equal(native?.count, 5);
  assert.equal(native?.traceback.site, NATIVE_SITE);
  assert.deepEqual(native?.traceback.format(), ['push (<builtin>)', '(V8 API) (<builtin>)'], 'the stack stays as V8 gave it');
  assert.deepEqual([...sites.values()].map((site) => site.traceback.site.functionName).sort(), ['(native)', 'main']);
  const expected = viaSnapshot(root, []).statistics.find((stat) => stat.key === frameKey(NATIVE_SITE));
  assert.equal(expected?.size, 256);
  assert.equal(String(expected), '(native): size=256 B, count=5, average=51 B');
});
