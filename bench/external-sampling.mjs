// What V8's sampler sees of Buffers, and what reading the process's ArrayBuffer memory costs
// (issue 22). npm run build first; run with each Node to compare:
//   node bench/external-sampling.mjs
// sizes: 20 000 objects of each kind kept under a 1 KiB sampler; prints the object sizes V8
// sampled (the wrappers: a JSArrayBuffer and a typed array) and how much of them was charged to the
// keeping function itself (TurboFan inlined the constructors into it) rather than to a Buffer frame.
// cost: process.memoryUsage() per call, median of 7 rounds of 20 000 calls, beside
// process.memoryUsage.rss() alone.
import { performance } from 'node:perf_hooks';
import { startSampling, stopSampling, takeSnapshot } from 'heapwatch';
import { readProfile } from '../dist/v8/sampler.js';

const kinds = {
  'Buffer.alloc(16384)': () => Buffer.alloc(16384),
  'new ArrayBuffer(16384)': () => new ArrayBuffer(16384),
  'new Uint8Array(16384)': () => new Uint8Array(16384),
};
console.log(`Node ${process.version}, V8 ${process.versions.v8}`);
for (const [name, make] of Object.entries(kinds)) {
  startSampling({ samplingIntervalBytes: 1024 });
  const kept = [];
  function keepThem() {
    for (let i = 0; i < 20_000; i++) kept.push(make());
  }
  keepThem();
  const sizes = new Map();
  (function walk(node) {
    for (const a of node.allocations) sizes.set(a.sizeBytes, (sizes.get(a.sizeBytes) ?? 0) + a.count);
    node.children.forEach(walk);
  })(readProfile().root);
  const traces = takeSnapshot().traces.filter((t) => t.traceback.frames.some((f) => f.functionName === 'keepThem'));
  const total = traces.reduce((s, t) => s + t.size, 0);
  const atKeeper = traces.filter((t) => t.traceback.frames[0].functionName === 'keepThem').reduce((s, t) => s + t.size, 0);
  const top = [...sizes].sort((a, b) => b[1] - a[1]).slice(0, 2).map(([size, count]) => `${size} B × ${Math.round(count)}`);
  console.log(`${name}: sampled sizes ${top.join(', ')}; ${(total / kept.length).toFixed(0)} B on V8's heap per object; ${((100 * atKeeper) / total).toFixed(0)} % charged to the keeping function`);
  stopSampling();
}
const perCall = (fn) => {
  const rounds = [];
  for (let r = 0; r < 7; r++) {
    const start = performance.now();
    for (let i = 0; i < 20_000; i++) fn();
    rounds.push(((performance.now() - start) * 1000) / 20_000);
  }
  rounds.sort((a, b) => a - b);
  return `${rounds[3].toFixed(1)} µs (range ${rounds[0].toFixed(1)}–${rounds[6].toFixed(1)})`;
};
console.log(`process.memoryUsage(): ${perCall(() => process.memoryUsage().arrayBuffers)} per call; process.memoryUsage.rss(): ${perCall(() => process.memoryUsage.rss())}`);
