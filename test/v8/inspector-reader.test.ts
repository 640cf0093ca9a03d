import assert from 'node:assert/strict';
import { test } from 'node:test';
import { scaleSampleCount } from '../../src/v8/interval-check.js';
import { fromInspectorProfile, objectSizeOfSample } from '../../src/v8/inspector-reader.js';
import type { ProfileNode } from '../../src/v8/profile.js';
import { recordedInspector, workloadFile } from '../helpers.js';

test('recovers the object size behind a sample for the sizes V8 allocates most', () => {
  for (const interval of [4096, 32768, 524288]) {
    for (const size of [16, 24, 32, 40, 56, 120, 1032, 80160]) {
      const scaledBytes = size * scaleSampleCount(1, size, interval);
      const recovered = objectSizeOfSample(scaledBytes, interval);
      // The smallest size with the same product is chosen: it may be smaller, never inconsistent.
      assert.ok(recovered <= size, `${size} at ${interval}: ${recovered}`);
      assert.equal(recovered * scaleSampleCount(1, recovered, interval), scaledBytes);
    }
  }
  assert.equal(objectSizeOfSample(24 * scaleSampleCount(1, 24, 4096), 4096), 24);
});

function find(node: ProfileNode, name: string): ProfileNode | undefined {
  if (node.name === name) return node;
  for (const child of node.children) {
    const found = find(child, name);
    if (found) return found;
  }
  return undefined;
}

test('converts a recorded inspector profile to 1-based frames with the bytes V8 reported', () => {
  const { profile, samplingIntervalBytes } = recordedInspector('after');
  const root = fromInspectorProfile(profile, samplingIntervalBytes);
  const getData = find(root, 'getData');
  assert.ok(getData, 'getData is in the tree');
  assert.equal(getData.scriptName.endsWith('/test/fixtures/workload.mjs'), true);
  assert.equal(getData.lineNumber, 11, 'line is 1-based');
  assert.equal(`${workloadFile}`.endsWith(new URL(getData.scriptName).pathname), true);

  // The inspector gives bytes per sample, not object sizes; sizes are recovered as the smallest
  // consistent one, so bytes per node come within a few percent of the inspector's own selfSize
  // (exact when the size was recovered exactly). The trees have the same shape: walk them together.
  let nodesWithSamples = 0;
  let convertedTotal = 0;
  let inspectedTotal = 0;
  const check = (inspected: (typeof profile)['head'], converted: ProfileNode): void => {
    const bytes = converted.allocations.reduce((sum, a) => sum + a.sizeBytes * a.count, 0);
    assert.ok(Math.abs(bytes - inspected.selfSize) <= 0.03 * inspected.selfSize, `${converted.name}: ${bytes} vs ${inspected.selfSize}`);
    convertedTotal += bytes;
    inspectedTotal += inspected.selfSize;
    if (bytes > 0) nodesWithSamples++;
    inspected.children.forEach((child, i) => check(child, converted.children[i] as ProfileNode));
  };
  check(profile.head, root);
  assert.ok(Math.abs(convertedTotal - inspectedTotal) <= 0.01 * inspectedTotal, `${convertedTotal} vs ${inspectedTotal}`);
  assert.ok(nodesWithSamples > 3);
});
