import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AllocationTotals } from '../../src/monitor/allocation-totals.js';
import type { SampledSite } from '../../src/snapshot/site-aggregator.js';
import { Traceback } from '../../src/snapshot/traceback.js';
import type { Frame } from '../../src/snapshot/frame.js';

const frame: Frame = { functionName: 'churn', file: '/app/churn.js', line: 3, column: 1 } as Frame;

function reading(allocatedBytes: number, size = 0): Map<string, SampledSite> {
  const site = { key: 'k', size, count: size / 10, allocatedBytes, allocatedObjects: allocatedBytes / 10, traceback: new Traceback([frame]), stacks: () => [] };
  return new Map([['k', site]]);
}

test("counters add what V8's figures grew by, and carry on from their total when the sampler starts over", () => {
  const totals = new AllocationTotals(10);
  totals.add(reading(1_000), 0);
  totals.add(reading(3_000), 0);
  assert.equal(totals.report('k')?.allocatedBytes, 3_000);
  // heapwatch started the sampler over (a new epoch): V8 counts from 0 again.
  totals.add(reading(500), 1);
  assert.equal(totals.report('k')?.allocatedBytes, 3_500);
  // Another tool started it over unannounced: V8's figure fell, all of it is new.
  totals.add(reading(200), 1);
  assert.equal(totals.report('k')?.allocatedBytes, 3_700);
  assert.equal(totals.report('k')?.allocatedObjects, 370);
});

test('survival is the live share of what V8 counts allocated since the sampler started', () => {
  const totals = new AllocationTotals(10);
  totals.add(reading(1_000, 900), 0);
  assert.equal(totals.report('k')?.survival, 0.9);
});

test('past maxSites the sites that allocated least are forgotten', () => {
  const totals = new AllocationTotals(2);
  const site = (key: string, bytes: number) => [key, { key, size: 0, count: 0, allocatedBytes: bytes, allocatedObjects: 1, traceback: new Traceback([frame]), stacks: () => [] }] as const;
  totals.add(new Map([site('a', 10), site('b', 30), site('c', 20)]), 0);
  assert.deepEqual(totals.top(5).map((r) => r.key), ['b', 'c']);
});
