// What V8's sampling heap profiler costs an allocation-heavy workload, per sampling interval:
// throughput of building and serialising ~50 KB of JSON, with sampling off and on, A/B
// interleaved in one process, several rounds. Prints the throughput ratio (on/off) per interval.
//   node bench/sampling-overhead.mjs [rounds=5] [msPerRun=2000]
import { startSampling, stopSampling, takeSnapshot } from 'heapwatch';

const rounds = Number(process.argv[2] ?? 5);
const msPerRun = Number(process.argv[3] ?? 2000);
const intervals = [32 * 1024, 64 * 1024, 128 * 1024, 512 * 1024];
const kept = [];

function handler(i) {
  const rows = [];
  for (let k = 0; k < 400; k++) rows.push({ id: k, name: `row-${k}-${i}`, tags: ['a', 'b', `t${k % 7}`], score: k * 1.5 });
  const json = JSON.stringify({ i, rows });
  if (i % 100 === 0) kept.push(json.slice(0, 64)); // a little retained state, as a service has
  return json.length;
}

function measure() {
  let requests = 0;
  const end = performance.now() + msPerRun;
  while (performance.now() < end) handler(requests++);
  return requests / (msPerRun / 1000);
}

const results = new Map(intervals.map((interval) => [interval, []]));
const jsonBytes = handler(0);
const baseline = measure(); // also warms up the JIT
for (let round = 0; round < rounds; round++) {
  for (const interval of intervals) {
    const off = measure();
    startSampling({ samplingIntervalBytes: interval });
    const on = measure();
    takeSnapshot();
    stopSampling();
    results.get(interval).push(on / off);
  }
}
const median = (values) => [...values].sort((a, b) => a - b)[values.length >> 1];
console.log(`workload: ${Math.round(baseline)} calls/s on one core, each building ${jsonBytes} bytes of JSON from 400 objects`);
console.log(`| sampling interval | throughput on/off (median of ${rounds}) | min | max |`);
console.log('|---|---|---|---|');
for (const [interval, ratios] of results) {
  console.log(`| ${interval / 1024} KiB | ${median(ratios).toFixed(3)} | ${Math.min(...ratios).toFixed(3)} | ${Math.max(...ratios).toFixed(3)} |`);
}
