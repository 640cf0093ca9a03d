// A CPU profile of `/buffers` (bench/lib/routes.mjs) served in-process with heapwatch mounted once,
// its Buffer sampler on at the interval given (bytes; 0: off), for `--cpu-prof`:
//   taskset -c 0 node --cpu-prof --cpu-prof-dir=<dir> bench/results/<this dir>/profile-buffers.mjs 524288
//   node bench/lib/cpu-profile.mjs <dir>/<file>.cpuprofile 25
import express from 'express';
import { heapwatch } from 'heapwatch';
import { bufferSampler } from '../../../dist/buffers/buffer-sampler.js';
import { inject } from '../../lib/inject.mjs';
import { addBenchRoutes } from '../../lib/routes.mjs';

const interval = Number(process.argv[2] ?? 524288);
const app = express();
const watch = heapwatch({ logger: false, bufferSampling: interval > 0, ...(interval > 0 ? { bufferSamplingIntervalBytes: interval } : {}) });
app.use(watch);
addBenchRoutes(app);
const start = process.cpuUsage();
for (let i = 0; i < 40_000; i++) {
  await inject(app, `/buffers?i=${i}`);
  if (i % 10 === 9) await new Promise(setImmediate);
}
const used = process.cpuUsage(start);
console.log(`${process.version} interval ${interval}: ${((used.user + used.system) / 40_000).toFixed(1)} µs CPU per request, ${bufferSampler.taken} samples taken, ${bufferSampler.droppedSamples} dropped`);
watch.stop();
