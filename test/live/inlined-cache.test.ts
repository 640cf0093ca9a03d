import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { repoRoot } from '../helpers.js';

const NODE_MAJOR = Number(process.versions.node.split('.')[0]);
// Node 20's V8 has no --invocation-count-for-turbofan: the fixture could not choose when to inline.
const tierUpByHand = NODE_MAJOR >= 22 ? false : `the fixture needs V8's --invocation-count-for-turbofan (Node 22 or newer); this is Node ${process.versions.node}`;

test(
  "a steady cache's bytes moving to the caller TurboFan inlined its callee into are no leak, beside a real leak",
  { skip: tierUpByHand, timeout: 120_000 },
  async () => {
    const flags = ['--allow-natives-syntax', '--no-maglev', '--no-use-osr', '--invocation-count-for-turbofan=100000'];
    const { stdout } = await promisify(execFile)(process.execPath, [...flags, 'test/fixtures/inlined-cache.mjs'], { cwd: repoRoot, timeout: 110_000 });
    const { raised, before, after } = JSON.parse(stdout.trim().split('\n').at(-1) as string) as {
      raised: string[];
      before: { cacheEntry: number; turnOver: number };
      after: { cacheEntry: number; turnOver: number };
    };
    // The charge moved: before the inlining the callee held the cache, after it the caller.
    assert.ok(before.cacheEntry > 1_000_000 && before.turnOver < 500_000, `before: ${JSON.stringify(before)}`);
    assert.ok(after.turnOver > 1_000_000 && after.cacheEntry < 500_000, `after: ${JSON.stringify(after)}`);
    assert.ok(raised.includes('leakSome'), `raised: ${raised.join(', ')}`);
    assert.deepEqual(raised.filter((name) => name !== 'leakSome'), [], `raised: ${raised.join(', ')}`);
  },
);
