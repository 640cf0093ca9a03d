import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startSampling, stopSampling } from '../../src/v8/sampler.js';
import { takeSnapshot } from '../../src/take-snapshot.js';
import type { Snapshot } from '../../src/snapshot/snapshot.js';

afterEach(() => stopSampling());

const ownRoot = fileURLToPath(new URL('../../src/', import.meta.url));

function keepObjects(): object[] {
  const objects: object[] = [];
  for (let i = 0; i < 5000; i++) objects.push({ i });
  return objects;
}

for (const reader of ['native', 'inspector'] as const) {
  test(`leaves heapwatch's own allocations out of snapshots, even the snapshots it keeps (${reader} reader)`, () => {
    startSampling({ samplingIntervalBytes: 1024, reader });
    const kept: Snapshot[] = [];
    const mine = keepObjects();
    for (let i = 0; i < 20; i++) kept.push(takeSnapshot());
    const latest = takeSnapshot();
    const own = latest.traces.filter((trace) => trace.traceback.frames.some((frame) => frame.file.startsWith(ownRoot)));
    assert.deepEqual(own.map((trace) => trace.traceback.format()), []);
    // The application's allocations are there, beside the 20 retained snapshots that are not.
    assert.ok(latest.statistics('site').some((stat) => stat.site.functionName === 'keepObjects'));
    assert.equal(kept.length + mine.length, 20 + 5000);
  });
}
