// What one sample of the Buffer sampler costs on the `/buffers` route (bench/lib/routes.mjs) served
// in-process by Express: CPU time per request with every counted Buffer sampled (R = 1 byte: the
// 16 KiB body and the concat, 2 samples a request) against the countdown alone (R = 2^50, never a
// sample), in alternating batches of 1 000 requests (40 pairs after a warm-up), over 2. Samples are
// read (the dead let go) between batches, as a monitor's readings do.
//   npm run build; taskset -c 0 node --expose-gc bench/results/<this dir>/sample-in-express.mjs
import express from 'express';
import { bufferSampler } from '../../../dist/buffers/buffer-sampler.js';
import { inject } from '../../lib/inject.mjs';
import { addBenchRoutes } from '../../lib/routes.mjs';
import { bootstrap, median } from '../../lib/distribution.mjs';

const app = express();
addBenchRoutes(app);
async function cpuPerRequest(count) {
  const start = process.cpuUsage();
  for (let i = 0; i < count; i++) {
    await inject(app, `/buffers?i=${i}`);
    if (i % 10 === 9) await new Promise(setImmediate);
  }
  const used = process.cpuUsage(start);
  bufferSampler.read();
  return (used.user + used.system) / count;
}
async function measure(intervalBytes) {
  bufferSampler.acquire(intervalBytes);
  await cpuPerRequest(100);
  const micros = await cpuPerRequest(1000);
  bufferSampler.release();
  return micros;
}
const perSample = [];
const countdown = [];
for (let pair = 0; pair < 45; pair++) {
  const [first, second] = pair % 2 === 0 ? [1, 2 ** 50] : [2 ** 50, 1];
  const a = await measure(first);
  const b = await measure(second);
  const [every, none] = first === 1 ? [a, b] : [b, a];
  if (pair >= 5) {
    perSample.push((every - none) / 2);
    countdown.push(none);
  }
}
const [low, high] = bootstrap(perSample);
console.log(`${process.version}: CPU µs per sample on /buffers ${median(perSample).toFixed(2)} (${low.toFixed(2)}–${high.toFixed(2)}); a request with the countdown alone ${median(countdown).toFixed(1)} µs`);
