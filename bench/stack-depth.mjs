// What a shallower stack loses. V8's sampler keeps the innermost `stackDepth` frames of each sample
// and drops the outer ones, so a shorter depth never moves the allocating function; it shortens
// the traceback ("from where is it called"), and when the innermost frames kept are all Node's
// own (node:…), the site falls back to the innermost of them. This script takes one profile at
// depth 1024 (nothing cut) of an Express 5 app serving its routes and keeping some of what they
// allocate, then cuts every stack to 16, 32 and 64 frames exactly as V8 would and reports, per
// depth, the share of sampled bytes whose traceback was shortened, how many frames they lost, and
// the share whose site changed. The cost of each depth is in bench/cpu-per-request.mjs
// (configurations pprof-<KiB>k-d<depth>).
//
//   node bench/stack-depth.mjs [--requests=20000] [--depths=16,32,64]
import express from 'express';
import { inject } from './lib/inject.mjs';
import { startSampling, stopSampling, takeSnapshot, Traceback } from 'heapwatch';

const args = Object.fromEntries(process.argv.slice(2).map((arg) => arg.replace(/^--/, '').split('=')));
const requests = Number(args.requests ?? 20_000);
const depths = (args.depths ?? '16,32,64').split(',').map(Number);

// The app: Express's own layers, a router mounted under a prefix, a middleware chain, and a route
// whose work recurses (a tree rendered depth-first), keeping the last responses it built (a cache
// that holds what the stacks allocated, so that the profile has live samples at every depth).
const kept = [];
const keep = (value) => {
  kept.push(value);
  if (kept.length > 2000) kept.shift();
};
const app = express();
app.use(express.json());
app.use((req, _res, next) => {
  req.started = process.hrtime.bigint();
  next();
});
const api = express.Router();
api.get('/hello', (_req, res) => {
  keep({ greeting: `Hello World! ${kept.length}` });
  res.send('Hello World!');
});
api.get('/json', (req, res) => {
  const rows = [];
  for (let k = 0; k < 800; k++) rows.push({ id: k, name: `row-${k}-${req.query.i ?? ''}`, tags: ['a', 'b', `t${k % 7}`], score: k * 1.5 });
  keep(rows);
  res.type('application/json').send(JSON.stringify({ rows }));
});
/** A menu of nested categories, rendered depth-first: a recursion 40 calls deep. */
function renderCategory(level, path) {
  if (level === 0) return { path, items: Array.from({ length: 20 }, (_, i) => `${path}/${i}`) };
  return { path, child: renderCategory(level - 1, `${path}/${level}`) };
}
api.get('/menu', (_req, res) => {
  const menu = renderCategory(40, '');
  keep(menu);
  res.json({ depth: 40 });
});
app.use('/api', api);

startSampling({ samplingIntervalBytes: 32 * 1024, stackDepth: 1024 });
const routes = ['/api/hello', '/api/json', '/api/menu'];
for (let i = 0; i < requests; i++) {
  const status = await inject(app, `${routes[i % routes.length]}?i=${i}`);
  if (status !== 200) throw new Error(`${routes[i % routes.length]} answered ${status}`);
}
const snapshot = takeSnapshot();
stopSampling();

let totalBytes = 0;
let deepest = 0;
for (const trace of snapshot.traces) {
  totalBytes += trace.size;
  deepest = Math.max(deepest, trace.traceback.frames.length);
}
console.log(
  `Express 5, ${requests} requests over /api/hello, /api/json and /api/menu (a 40-call recursion), the last 2000 responses kept; one profile at depth 1024, 32 KiB: ${snapshot.traces.length} stacks, ${(totalBytes / 1e6).toFixed(1)} MB sampled, deepest stack ${deepest} frames. Node ${process.version}.`,
);
console.log('');
console.log('| stack depth | sampled bytes whose traceback is cut | frames lost by those (median, max) | sampled bytes whose site changes |');
console.log('|---|---|---|---|');
for (const depth of depths) {
  let cutBytes = 0;
  let movedBytes = 0;
  const lost = [];
  for (const { traceback, size } of snapshot.traces) {
    if (traceback.frames.length <= depth) continue;
    cutBytes += size;
    lost.push(traceback.frames.length - depth);
    // What V8 keeps at this depth: the innermost frames (frames[0] is the innermost).
    const cut = new Traceback(traceback.frames.slice(0, depth));
    if (cut.site !== traceback.site) movedBytes += size;
  }
  lost.sort((a, b) => a - b);
  const share = (bytes) => `${((100 * bytes) / totalBytes).toFixed(1)} %`;
  const median = lost.length ? lost[lost.length >> 1] : 0;
  console.log(`| ${depth} | ${share(cutBytes)} | ${lost.length ? `${median}, ${lost.at(-1)}` : '—'} | ${share(movedBytes)} |`);
}
