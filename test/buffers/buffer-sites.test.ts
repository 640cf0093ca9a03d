import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { bufferSampler } from '../../src/buffers/buffer-sampler.js';
import { BufferSites } from '../../src/buffers/buffer-sites.js';
import { frameKey } from '../../src/snapshot/frame.js';
import { sharedResolver } from '../../src/snapshot/source-map.js';
import { takeSnapshot } from '../../src/take-snapshot.js';
import { startSampling, stopSampling } from '../../src/v8/sampler.js';
import { repoRoot } from '../helpers.js';

const SHAPES = ['declared', 'arrow', 'oneParameter', 'expression', 'asynchronous', 'method', 'keep', 'keepStatic', 'generator'];

test("a Buffer sampled in JavaScript is keyed at V8's own site for its function, for every shape of function", async () => {
  // Small intervals: every shape gets samples of both samplers in a few calls — few enough that
  // TurboFan inlines none of them into its caller (V8 would then charge the caller's frame).
  // Nor does an optimizing tier (Maglev inlined `store.keep()` into its caller on Node 26): the
  // test is of keys, not of V8's inlining, which the docs state.
  setFlagsFromString('--no-maglev');
  setFlagsFromString('--no-turbofan');
  startSampling({ samplingIntervalBytes: 64 });
  bufferSampler.acquire(4096);
  try {
    const shapes = (await import(`${repoRoot}/test/fixtures/buffer-shapes.mjs`)) as { runAll(times: number): Promise<void> };
    await shapes.runAll(30);
    const fixture = `${repoRoot}/test/fixtures/buffer-shapes.mjs`;
    const v8Sites = new Map(
      takeSnapshot()
        .statistics('site')
        .filter((stat) => stat.site.file === fixture)
        .map((stat) => [stat.site.functionName, frameKey(stat.site)]),
    );
    const jsSites = new Map(
      [...new BufferSites(sharedResolver).sum(bufferSampler.read()).values()]
        .filter((site) => site.traceback.site.file === fixture)
        .map((site) => [site.traceback.site.functionName, site.key]),
    );
    // V8 names a shape's own frame unless it inlined the shape into its caller (seen now and then
    // for one shape of nine on Node 20 and 26, whatever the flags): every shape V8 names must
    // have the same key on both sides, and V8 must name most.
    const named = SHAPES.filter((shape) => v8Sites.has(shape));
    assert.ok(named.length >= 7, `V8 names ${named.join(', ')}`);
    for (const shape of SHAPES) assert.ok(jsSites.has(shape), `the Buffer sampler names ${shape}`);
    for (const shape of named) assert.equal(jsSites.get(shape), v8Sites.get(shape), `${shape}: the same key`);
  } finally {
    bufferSampler.release();
    stopSampling();
  }
});
