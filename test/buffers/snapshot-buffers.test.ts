import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { test } from 'node:test';
import { Profile } from 'pprof-format';
import { bufferSampler } from '../../src/buffers/buffer-sampler.js';
import { encodePprof } from '../../src/http/pprof.js';
import { takeSnapshot } from '../../src/take-snapshot.js';
import { startSampling, stopSampling } from '../../src/v8/sampler.js';

const R = 512 * 1024;
const BODY = 16 * 1024;
const BODIES = 4000;

/** Keeps 4 000 Buffers of 16 KiB (64 MiB) made here: V8 puts ~200 bytes of each on its heap, the sampler sees their bytes. */
function keepBodies(kept: Buffer[]): void {
  for (let i = 0; i < BODIES; i++) kept.push(Buffer.alloc(BODY, i % 251));
}

test('with the Buffer sampler on, a snapshot holds the sampled Buffers at their site — in Statistic.externalSize, with their noise, and in the pprof profile', async () => {
  startSampling({ samplingIntervalBytes: R });
  bufferSampler.acquire(R);
  const kept: Buffer[] = [];
  try {
    keepBodies(kept);
    const truth = BODIES * BODY;
    const snapshot = takeSnapshot();
    const sampled = snapshot.traces.filter((trace) => (trace.externalSize ?? 0) > 0);
    assert.ok(sampled.length > 0 && sampled.every((trace) => trace.size === 0 && trace.count === 0), 'traces of their own, nothing on V8\'s heap');
    assert.ok(sampled.some((trace) => trace.traceback.site.functionName === 'keepBodies'), 'at the function that made them');
    const stats = snapshot.statistics('site');
    const stat = stats.find((candidate) => candidate.site.functionName === 'keepBodies');
    assert.ok(stat, `keepBodies among the sites: ${stats.slice(0, 5).map(String).join('\n')}`);
    // The sampler's noise, sqrt(B × R) for Buffers much smaller than R (±5.8 MiB here), at least.
    const sd = Math.sqrt(truth * R);
    assert.ok(stat.externalNoise >= 0.7 * sd, `noise ${stat.externalNoise} B, sqrt(B R) ${Math.round(sd)} B`);
    assert.ok(Math.abs(stat.externalSize - truth) < 4 * stat.externalNoise, `externalSize ${stat.externalSize} B within 4 sd of ${truth} B`);
    assert.ok(stat.size < truth / 10, `V8's heap figure apart: ${stat.size} B`);
    // The wrappers share only what the sampled Buffers leave of the ArrayBuffer memory: no Buffer
    // counted twice (the estimate itself may pass the exact figure, by its noise).
    const external = stats.reduce((sum, candidate) => sum + candidate.externalSize, 0);
    const estimated = sampled.reduce((sum, trace) => sum + (trace.externalSize ?? 0), 0);
    const bound = Math.max(snapshot.unattributed.arrayBuffersBytes, estimated) + stats.length;
    assert.ok(external <= bound, `no Buffer counted twice: ${external} B, at most ${bound} B`);

    // pprof's external_space: the site's samples carry what its statistic says — every stack through
    // keepBodies, whose leaf may be Node's Buffer code below it (keepBodies calls nothing else).
    const profile = Profile.decode(gunzipSync(await encodePprof(snapshot)));
    const strings = profile.stringTable.strings;
    const functionName = new Map(profile.function.map((fn) => [Number(fn.id), strings[Number(fn.name)]]));
    const nameAt = new Map(profile.location.map((location) => [Number(location.id), functionName.get(Number(location.line[0]?.functionId))]));
    const atSite = profile.sample.filter((sample) => sample.locationId.some((id) => nameAt.get(Number(id)) === 'keepBodies'));
    const externalInProfile = atSite.reduce((sum, sample) => sum + Number(sample.value[2]), 0);
    assert.ok(Math.abs(externalInProfile - stat.externalSize) <= atSite.length, `pprof ${externalInProfile} B at keepBodies, the statistic ${stat.externalSize} B`);
  } finally {
    bufferSampler.release();
    stopSampling();
  }
  assert.equal(kept.length, BODIES);
});

test('with the Buffer sampler off, a snapshot has no sampled Buffers: its statistics share the ArrayBuffer memory by wrappers alone', () => {
  startSampling({ samplingIntervalBytes: R });
  try {
    const kept: Buffer[] = [];
    keepBodies(kept);
    const snapshot = takeSnapshot();
    assert.deepEqual(
      snapshot.traces.filter((trace) => (trace.externalSize ?? 0) > 0),
      [],
    );
    assert.equal(kept.length, BODIES);
  } finally {
    stopSampling();
  }
});
