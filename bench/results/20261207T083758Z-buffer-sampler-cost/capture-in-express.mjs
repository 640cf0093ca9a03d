// What one stack capture of the Buffer sampler (src/buffers/call-stack.ts, 8 frames) costs inside
// an Express route served in-process: CPU time per request of a route making 20 captures against
// the same route making none, in alternating batches of 1 000 requests (40 pairs after a warm-up),
// divided by 20; beside it, the same 20 captures 30 frames down a plain recursion.
//   npm run build; taskset -c 0 node bench/results/<this dir>/capture-in-express.mjs
import express from 'express';
import { captureStack } from '../../../dist/buffers/call-stack.js';
import { inject } from '../../lib/inject.mjs';
import { bootstrap, median } from '../../lib/distribution.mjs';

const CAPTURES = 20;
let captures = 0;
function sampled() {
  for (let i = 0; i < captures; i++) captureStack(sampled);
}
const app = express();
app.get('/x', (_req, res) => {
  sampled();
  res.send('ok');
});
async function cpuPerRequest(count) {
  const start = process.cpuUsage();
  for (let i = 0; i < count; i++) {
    await inject(app, `/x?i=${i}`);
    if (i % 10 === 9) await new Promise(setImmediate);
  }
  const used = process.cpuUsage(start);
  return (used.user + used.system) / count;
}
function down(depth) {
  return depth === 0 ? sampled() : down(depth - 1);
}
function cpuPerLoop(count) {
  const start = process.cpuUsage();
  for (let i = 0; i < count; i++) down(30);
  const used = process.cpuUsage(start);
  return (used.user + used.system) / count;
}
const express_ = [];
const loop = [];
for (let pair = 0; pair < 45; pair++) {
  captures = 0;
  const bare = await cpuPerRequest(1000);
  const bareLoop = cpuPerLoop(1000);
  captures = CAPTURES;
  const captured = await cpuPerRequest(1000);
  const capturedLoop = cpuPerLoop(200);
  if (pair >= 5) {
    express_.push((captured - bare) / CAPTURES);
    loop.push((capturedLoop - bareLoop) / CAPTURES);
  }
}
const show = (values) => {
  const [low, high] = bootstrap(values);
  return `${median(values).toFixed(2)} (${low.toFixed(2)}–${high.toFixed(2)})`;
};
console.log(`${process.version}: CPU µs per capture in an Express route ${show(express_)}; 30 frames down a loop ${show(loop)}`);
