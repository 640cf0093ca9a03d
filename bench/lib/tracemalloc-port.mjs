// examples/tracemalloc.mjs's workload (100 lists of 100 objects, each holding 100 random bytes),
// timed in one fresh process for bench/tracemalloc-compare.mjs, as
// bench/python/tracemalloc_example.py times the Python original:
//   node bench/lib/tracemalloc-port.mjs --sampling=off|<bytes> --repeat=N
// --repeat runs the allocating part N times (each run's lists replace the previous run's);
// --sampling=off times the same work without heapwatch. With sampling on, heapwatch's sampler is
// started before the clock starts (as tracemalloc.start() is), and the timed span holds a
// snapshot before the workload, the workload, a snapshot after it and their comparison by site,
// as in the example. Prints one JSON line of timings (performance.now(), inside the program).
import { startSampling, stopSampling, takeSnapshot } from 'heapwatch';
// The example's program itself, importable without running the example's top-level code.
import { run } from '../../test/fixtures/workload.mjs';

const args = Object.fromEntries(process.argv.slice(2).map((arg) => arg.replace(/^--/, '').split('=')));
const sampling = args.sampling ?? 'off';
const repeat = Number(args.repeat ?? 1);
const on = sampling !== 'off';

if (on) startSampling({ samplingIntervalBytes: Number(sampling) });

const started = performance.now();
const before = on ? takeSnapshot() : undefined;
const workloadStarted = performance.now();
let data;
for (let r = 0; r < repeat; r++) data = run();
const workloadMs = performance.now() - workloadStarted;
let topSites = 0;
let reader = 'none';
if (on) {
  const after = takeSnapshot();
  topSites = after.compareTo(before, 'site').slice(0, 10).length;
  reader = after.reader;
}
const totalMs = performance.now() - started;
if (on) stopSampling();

console.log(JSON.stringify({ workloadSeconds: workloadMs / 1000, totalSeconds: totalMs / 1000, lists: data.length, topSites, reader, node: process.version }));
