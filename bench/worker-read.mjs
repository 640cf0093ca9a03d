// Does reading the profile from a worker thread spare the main thread? A worker connected to the
// main thread's inspector (`Session#connectToMainThread`) asks for
// `HeapProfiler.getSamplingProfile`; the main thread meanwhile only waits, and the longest
// event-loop block it sees (monitorEventLoopDelay, 1 ms resolution) is compared with the time of
// the same read made on the main thread (inspector) and of the native read (@datadog/pprof), in one
// process holding N live sites sampled every 1 KiB.
//   node bench/worker-read.mjs [--sites=10000] [--rounds=5]
import { Session } from 'node:inspector';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import pprof from '@datadog/pprof';
import { startSampling } from 'heapwatch';
import { medianRange } from './lib/distribution.mjs';
import { parseFlags, shellCommand } from './lib/cli.mjs';
import { retainSites } from './lib/live-sites.mjs';

const flags = parseFlags(process.argv.slice(2), { sites: '10000', rounds: '5' });
const sites = Number(flags.sites);
const rounds = Number(flags.rounds);

startSampling({ samplingIntervalBytes: 1024, reader: 'native' });
const retained = await retainSites(sites);

// The worker reads when told to and answers once the read is done (or failed).
const worker = new Worker(
  `const { parentPort } = require('node:worker_threads');
   const { Session } = require('node:inspector');
   const session = new Session();
   session.connectToMainThread();
   parentPort.on('message', () => {
     session.post('HeapProfiler.getSamplingProfile', (error) => {
       parentPort.postMessage({ error: error?.message });
     });
   });`,
  { eval: true },
);
const fromWorker = () =>
  new Promise((resolve, reject) => {
    worker.once('message', (answer) => (answer.error ? reject(new Error(answer.error)) : resolve()));
    worker.postMessage('read');
  });

const session = new Session();
session.connect();
const onMain = () => new Promise((resolve, reject) => session.post('HeapProfiler.getSamplingProfile', (error) => (error ? reject(error) : resolve())));

/** The read's duration and the longest event-loop block the main thread saw meanwhile (ms). */
async function measure(read) {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  await sleep(20);
  const started = performance.now();
  await read();
  const ms = performance.now() - started;
  await sleep(20);
  histogram.disable();
  return { ms, blockMs: histogram.max / 1e6 };
}

const results = { native: [], inspectorMain: [], inspectorWorker: [] };
for (let round = 0; round < rounds; round++) {
  results.native.push(await measure(async () => pprof.heap.v8Profile()));
  results.inspectorMain.push(await measure(onMain));
  results.inspectorWorker.push(await measure(fromWorker));
}
await worker.terminate();
session.disconnect();

console.log(`\`${shellCommand()}\` — Node ${process.version}, ${sites} live sites (${retained.length} retained), sampling every 1 KiB, ${rounds} rounds; ms, median [min–max]\n`);
console.log('| read | duration | longest main-thread block meanwhile |');
console.log('|---|---|---|');
const rows = { native: 'native (`@datadog/pprof` `heap.v8Profile()`), main thread', inspectorMain: 'inspector session, main thread', inspectorWorker: 'inspector session from a worker (`connectToMainThread`)' };
for (const [key, label] of Object.entries(rows)) {
  console.log(`| ${label} | ${medianRange(results[key].map((r) => r.ms))} | ${medianRange(results[key].map((r) => r.blockMs))} |`);
}
