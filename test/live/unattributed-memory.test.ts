import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { startSampling, stopSampling } from '../../src/v8/sampler.js';
import { takeSnapshot } from '../../src/take-snapshot.js';

afterEach(() => stopSampling());

const PAYLOADS = 2000;
const PAYLOAD_BYTES = 16 * 1024; // 32 MB in all

function keepBuffers(): Buffer[] {
  const kept: Buffer[] = [];
  for (let i = 0; i < PAYLOADS; i++) kept.push(Buffer.alloc(PAYLOAD_BYTES, i));
  return kept;
}

function keepStrings(): string[] {
  const kept: string[] = [];
  for (let i = 0; i < PAYLOADS; i++) kept.push(Buffer.alloc(PAYLOAD_BYTES, 97 + (i % 26)).toString('latin1'));
  return kept;
}

const site = (name: string) => (stat: { site: { functionName: string } }) => stat.site.functionName === name;

for (const reader of ['native', 'inspector'] as const) {
  test(`attributes string payloads to their site and reports Buffer contents as unattributed (${reader} reader)`, () => {
    startSampling({ samplingIntervalBytes: 32 * 1024, reader });
    const before = takeSnapshot();
    const buffers = keepBuffers();
    const strings = keepStrings();
    const after = takeSnapshot();
    const diffs = after.compareTo(before, 'site');

    const total = PAYLOADS * PAYLOAD_BYTES;
    // Strings live in V8's heap: the sampler sees them, within its Poisson noise.
    const stringGrowth = diffs.find(site('keepStrings'))?.sizeDiff ?? 0;
    assert.ok(stringGrowth > 0.8 * total && stringGrowth < 1.2 * total, `keepStrings grew ${stringGrowth}`);
    // Buffer contents live outside it: only their small wrappers are sampled...
    const bufferGrowth = diffs.find(site('keepBuffers'))?.sizeDiff ?? 0;
    assert.ok(bufferGrowth < 0.1 * total, `keepBuffers grew ${bufferGrowth} of sampled heap`);
    // ...and the contents show up as memory the sampler cannot attribute. (Not as a difference
    // from `before`: freed backing stores leave that figure only when V8's sweeper gets to them.)
    assert.ok(after.unattributed.arrayBuffersBytes >= total, `arrayBuffers: ${after.unattributed.arrayBuffersBytes}`);
    assert.ok(after.unattributed.externalBytes >= after.unattributed.arrayBuffersBytes);
    assert.equal(buffers.length + strings.length, 2 * PAYLOADS);
  });
}
