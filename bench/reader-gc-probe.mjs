// What one read and one forced GC cost, per heap size and per number of live stacks: the figures of
// docs/concepts.md's reader table and docs/detection.md's pause budget, which no bench script
// prints. One mode per fresh process (run with --max-old-space-size=4096 --expose-gc):
//   --mode=heap --mb=N     a heap of N MB of small objects (arrays of { a, b }, one allocating
//                          function: few stacks), V8's sampler at 512 KiB. Times: the native read
//                          (@datadog/pprof heap.v8Profile()), the inspector read
//                          (HeapProfiler.getSamplingProfile; its major-GC time from `gc` entries),
//                          and heapwatch's forced GC (dist/v8/gc-events.js requestFullGc: its pause
//                          from the `gc` entries, as stats().lastForcedGcPauseMs reports it), 5 each.
//   --mode=stacks --n=N    N live stacks (bench/lib/live-sites.mjs), sampled every 1 KiB: the
//                          inspector read minus its GC, and the native read, 5 each.
//   --mode=own-major       V8's own major GCs (nothing forced) while a heap of retained small
//                          objects grows beside short-lived garbage, until one runs at 100 MB or
//                          more: each GC entry's duration (the last, atomic pause) and the heap.
//   --mode=entry           bytes of heap per 1 KB entry of the detection and noise benches
//                          ({ i, items: new Array(118).fill(i) }), over 100 000 entries.
// Prints one Markdown line per measurement: median [min–max] ms.
import { createRequire } from 'node:module';
import { Session } from 'node:inspector';
import { constants, performance, PerformanceObserver } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { requestFullGc } from '../dist/v8/gc-events.js';
import { retainSites } from './lib/live-sites.mjs';

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')));
const heap = createRequire(import.meta.url)('@datadog/pprof').heap;
const used = () => getHeapStatistics().used_heap_size;
const mb = (bytes) => (bytes / 1e6).toFixed(0);
const stat = (xs, digits = 1) => {
  const s = [...xs].sort((a, b) => a - b);
  const med = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  return `${med.toFixed(digits)} [${s[0].toFixed(digits)}–${s.at(-1).toFixed(digits)}]`;
};
const majorMs = (entries, since) =>
  entries.filter((e) => e.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR && e.startTime >= since).reduce((sum, e) => sum + e.duration, 0);
const ROUNDS = 5;

function fill(bytes) {
  const kept = [];
  while (used() < bytes) {
    const chunk = new Array(10000);
    for (let k = 0; k < chunk.length; k++) chunk[k] = { a: k, b: k * 0.5 };
    kept.push(chunk);
  }
  return kept;
}

function nativeReads() {
  const times = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t = performance.now();
    heap.v8Profile();
    times.push(performance.now() - t);
  }
  return times;
}

async function inspectorReads(session, observer) {
  const total = [];
  const gc = [];
  for (let r = 0; r < ROUNDS; r++) {
    observer.takeRecords();
    const t = performance.now();
    let done = false;
    session.post('HeapProfiler.getSamplingProfile', (error) => {
      if (error) throw error;
      done = true;
    });
    if (!done) throw new Error('getSamplingProfile did not answer synchronously');
    total.push(performance.now() - t);
    await new Promise((resolve) => setImmediate(resolve)); // gc entries are queued a turn later
    gc.push(majorMs(observer.takeRecords(), t));
  }
  return { total, gc, rest: total.map((x, i) => x - gc[i]) };
}

const forcedGc = () => new Promise((resolve, reject) => requestFullGc((error, pause) => (error ? reject(error) : resolve(pause))));

const observer = new PerformanceObserver(() => {});
observer.observe({ entryTypes: ['gc'] });
const v = process.version;

if (args.mode === 'heap') {
  heap.start(512 * 1024, 64);
  const kept = fill(Number(args.mb) * 1e6);
  globalThis.gc();
  const at = used();
  const native = nativeReads();
  heap.stop();
  const session = new Session();
  session.connect();
  session.post('HeapProfiler.startSampling', { samplingInterval: 512 * 1024 });
  const inspector = await inspectorReads(session, observer);
  session.post('HeapProfiler.stopSampling');
  session.disconnect();
  const pauses = [];
  for (let r = 0; r < ROUNDS; r++) pauses.push((await forcedGc()).pauseMs);
  const nsPerByte = pauses.map((p) => (p * 1e6) / at);
  console.log(
    `| ${v} | ${mb(at)} MB | native read ${stat(native)} | inspector read ${stat(inspector.total)} (its GC ${stat(inspector.gc)}) | forced GC (requestFullGc) ${stat(pauses)} = ${stat(nsPerByte, 2)} ns/B |`,
  );
  void kept.length;
} else if (args.mode === 'stacks') {
  const session = new Session();
  session.connect();
  session.post('HeapProfiler.startSampling', { samplingInterval: 1024 });
  const kept = await retainSites(Number(args.n));
  globalThis.gc();
  const at = used();
  const inspector = await inspectorReads(session, observer);
  session.post('HeapProfiler.stopSampling');
  session.disconnect();
  heap.start(1024, 64);
  const kept2 = await retainSites(Number(args.n));
  const native = nativeReads();
  heap.stop();
  console.log(
    `| ${v} | ${args.n} stacks, ${mb(at)} MB | inspector read ${stat(inspector.total)}: its GC ${stat(inspector.gc)}, the rest ${stat(inspector.rest)} | native read ${stat(native)} |`,
  );
  void kept.length, kept2.length;
} else if (args.mode === 'own-major') {
  const kept = [];
  const start = performance.now();
  const seen = [];
  let sink = 0;
  while (!seen.some(([, h]) => h >= 100e6) && used() < 400e6 && performance.now() - start < 120_000) {
    const chunk = new Array(1000);
    for (let k = 0; k < chunk.length; k++) chunk[k] = { a: k, b: k * 0.5 };
    kept.push(chunk);
    for (let g = 0; g < 20; g++) sink += JSON.stringify({ g, rows: chunk.slice(0, 50) }).length; // garbage
    if (kept.length % 50 === 0) await new Promise((r) => setImmediate(r)); // let V8's tasks (incremental marking) run
    for (const e of observer.takeRecords()) if (e.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) seen.push([e.duration, used()]);
  }
  const lines = seen.map(([d, h]) => `${d.toFixed(1)} ms at ~${mb(h)} MB`);
  console.log(`| ${v} | V8's own major GCs while the heap grew to ${mb(used())} MB: ${lines.join(', ') || 'none'} |`);
  void sink;
} else if (args.mode === 'entry') {
  const n = 100_000;
  globalThis.gc();
  globalThis.gc();
  const before = process.memoryUsage().heapUsed;
  const kept = [];
  for (let i = 0; i < n; i++) kept.push({ i, items: new Array(118).fill(i) });
  globalThis.gc();
  globalThis.gc();
  const after = process.memoryUsage().heapUsed;
  console.log(`| ${v} | ${((after - before) / n).toFixed(0)} B of heap per entry (${n} entries, the array that holds them included) |`);
  void kept.length;
} else {
  throw new Error(`--mode must be heap, stacks, own-major or entry, got ${args.mode}`);
}
observer.disconnect();
