// What a configuration does to V8's young generation in a service that rests between bursts of
// load: the new space's size at each window's start and end, printed beside V8's own GC trace.
// One process, 3 000 /json requests of warm-up, then WINDOWS (default 4) rounds of 30 s at rest and
// 10 s at 30 % busy (batches of 200 every 310 ms), as bench/cross-process.mjs's partial load.
//   node --trace-gc bench/young-generation.mjs <configuration> | grep -E '^@|reduce'
// Count the lines: `Scavenge`, `Mark-Compact`, and `(reduce)` for V8's memory-reducing major GCs.
// Configurations: bare, pprof (@datadog/pprof's heap.start), pprof-oom (and its near-heap-limit
// hook), heapwatch (app.use(heapwatch())), hw-nometrics, hw-noreadings, monitor, sampler
// (heapwatch's startSampling()), importonly, session (an inspector Session connected and
// disconnected at start), session-get (and HeapProfiler.getSamplingProfile posted),
// session-get-pprof (then @datadog/pprof's sampler), session-keep (left connected).
import v8 from 'node:v8';
import express from 'express';
import { inject } from './lib/inject.mjs';
import { addBenchRoutes } from './lib/routes.mjs';
const kind = process.argv[2];
const app = express();
if (kind === 'heapwatch') { const { heapwatch } = await import('heapwatch'); app.use(heapwatch({ logger: false })); }
if (kind === 'importonly') { await import('heapwatch'); }
if (kind.startsWith('session')) { const { Session } = await import('node:inspector'); const ss = new Session(); ss.connect(); if (kind.includes('get')) ss.post('HeapProfiler.getSamplingProfile', {}, () => {}); if (!kind.includes('keep')) ss.disconnect(); if (kind.includes('pprof')) { const { default: pprof } = await import('@datadog/pprof'); pprof.heap.start(512 * 1024, 64); } }
if (kind === 'sampler') { const { startSampling } = await import('heapwatch'); startSampling(); }
if (kind === 'monitor') { const { createHeapMonitor } = await import('heapwatch'); createHeapMonitor({ logger: false }).start(); }
if (kind === 'hw-nometrics') { const { heapwatch } = await import('heapwatch'); app.use(heapwatch({ logger: false, defaultMetrics: false })); }
if (kind === 'hw-noreadings') { const { heapwatch } = await import('heapwatch'); app.use(heapwatch({ logger: false, intervalMs: 3600000 })); }
if (kind === 'pprof-oom') { const { default: pprof } = await import('@datadog/pprof'); pprof.heap.start(512 * 1024, 64); pprof.heap.monitorOutOfMemory('auto', 1, false, [], () => {}, pprof.heap.CallbackMode.Async); }
if (kind === 'pprof') { const { default: pprof } = await import('@datadog/pprof'); pprof.heap.start(512 * 1024, 64); }
addBenchRoutes(app);
let n = 0;
const t0 = Date.now();
const log = (m) => console.log(`@${((Date.now() - t0) / 1000).toFixed(1)}s ${m}`);
async function batch(k) { for (let i = 0; i < k; i++) { await inject(app, `/json?i=${n++}`); if (i % 10 === 9) await new Promise(setImmediate); } }
const ns = () => (v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size / 2 ** 20).toFixed(0);
await batch(3000);
log(`warm-up done, new space ${ns()}`);
for (let w = 0; w < Number(process.env.WINDOWS ?? 4); w++) {
  await new Promise((r) => setTimeout(r, 30000));
  log(`window ${w} starts, new space ${ns()}`);
  for (let c = 0; c < 32; c++) { const s = Date.now(); await batch(200); await new Promise((r) => setTimeout(r, Math.max(0, 310 - (Date.now() - s)))); }
  log(`window ${w} ends, new space ${ns()}`);
}
process.exit(0);
