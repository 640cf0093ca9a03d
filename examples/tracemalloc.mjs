// The tracemalloc documentation's example, ported: 100 lists of 100 objects each holding 100
// random bytes. Run: node --expose-gc examples/tracemalloc.mjs [--reader=native|inspector]
import { randomBytes } from 'node:crypto';
import { startSampling, stopSampling, takeSnapshot } from 'heapwatch';

class MyObject {
  constructor() {
    this.data = randomBytes(100).toString('latin1');
  }
}

function getData() {
  const values = [];
  for (let i = 0; i < 100; i++) values.push(new MyObject());
  return values;
}

function run() {
  const data = [];
  for (let i = 0; i < 100; i++) data.push(getData());
  return data;
}

const reader = process.argv.find((arg) => arg.startsWith('--reader='))?.slice('--reader='.length) ?? 'auto';
startSampling({ samplingIntervalBytes: 4096, reader });

// With --expose-gc, collect garbage before each reading, so that both the heap figure and the
// snapshot count only what is alive.
globalThis.gc?.();
const heapBefore = process.memoryUsage().heapUsed;
const before = takeSnapshot();
const data = run();
globalThis.gc?.();
const heapAfter = process.memoryUsage().heapUsed;
const after = takeSnapshot();

const diffs = after.compareTo(before, 'site');
console.log(`[ Top 5 differences, ${after.reader} reader ]`);
for (const diff of diffs.slice(0, 5)) console.log(String(diff));

console.log('\n[ Traceback of the top site ]');
for (const line of diffs[0].traceback.format()) console.log(`  ${line}`);

const estimated = diffs.reduce((sum, diff) => sum + Math.max(0, diff.sizeDiff), 0);
console.log(`\nsum of positive size differences: ${estimated} bytes`);
if (globalThis.gc) console.log(`heap growth measured with --expose-gc: ${heapAfter - heapBefore} bytes`);
console.log(`not attributable by the sampler (Buffer contents): ${after.unattributed.arrayBuffersBytes} bytes`);

stopSampling();
console.log(`(${data.length} lists kept alive)`);
