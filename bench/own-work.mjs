// heapwatch's own work beyond V8's sampler, costed per event rather than per request: what a
// request pays to pass heapwatch's middleware, what one reading costs, how often each comes. An
// end-to-end comparison (bench/cpu-per-request.mjs) resolves about ±1.5 % on a shared machine;
// each figure here is the mean of many repetitions of one event, so the sum bounds heapwatch's own
// share far more finely. Process CPU time (process.cpuUsage), so time taken by other tenants
// is not counted; on a loaded core each figure is an upper bound.
//
// Also what a reading allocates beside what a request does: the garbage heapwatch adds to V8's
// collections. V8 counts no allocated bytes; with a young generation large enough that no
// scavenge falls inside one reading (--max-semi-space-size=64), the used heap after it minus
// before it is what it allocated.
//
//   node --expose-gc --max-semi-space-size=64 bench/own-work.mjs [--calls=2000000] [--seconds=20]
import { getHeapStatistics } from 'node:v8';
import express from 'express';
import { Registry } from 'prom-client';
import { inject } from './lib/inject.mjs';
import { addBenchRoutes } from './lib/routes.mjs';
import { heapwatch } from 'heapwatch';

const args = Object.fromEntries(process.argv.slice(2).map((arg) => arg.replace(/^--/, '').split('=')));
const calls = Number(args.calls ?? 2_000_000);
const seconds = Number(args.seconds ?? 20);

const cpuMicros = () => {
  const { user, system } = process.cpuUsage();
  return user + system;
};

// 1. The middleware, on a request that is not heapwatch's: the cost per call over an empty
// middleware's, both called the same way (the median of 7 alternations).
const watch = heapwatch({ logger: false, registry: new Registry(), defaultMetrics: false });
const empty = (_req, _res, next) => next();
const req = { method: 'GET', url: '/orders/42?x=1', path: '/orders/42', originalUrl: '/orders/42?x=1', headers: {} };
const res = {};
let nexts = 0;
const next = () => {
  nexts++;
};
function nanosPerCall(handler) {
  const start = cpuMicros();
  for (let i = 0; i < calls; i++) handler(req, res, next);
  return ((cpuMicros() - start) * 1000) / calls;
}
const extra = [];
for (let i = 0; i < 7; i++) extra.push(nanosPerCall(watch) - nanosPerCall(empty));
extra.sort((a, b) => a - b);
const middlewareNanos = extra[3];
if (nexts !== 14 * calls) throw new Error('the middleware did not pass every request on');

// 2. Readings: heapwatch's ticks (read V8's sampler, sum per site, judge) while an Express app
// serves requests, read every second instead of every 10 s to get many of them; each reading's
// time as the monitor measures it.
const durations = [];
watch.monitor.on('reading', ({ durationMs }) => durations.push(durationMs));
watch.stop();
const app = express();
const served = heapwatch({ logger: false, registry: new Registry(), intervalMs: 1000 });
served.monitor.on('reading', ({ durationMs }) => durations.push(durationMs));
// The bytes each tick allocates: its timer calls monitor.tick() (a private method, wrapped here
// for the benchmark only). A tick in which V8 collected (used heap fell) is left out.
const readingBytes = [];
const tick = served.monitor.tick.bind(served.monitor);
served.monitor.tick = () => {
  const before = getHeapStatistics().used_heap_size;
  tick();
  const allocated = getHeapStatistics().used_heap_size - before;
  if (allocated > 0) readingBytes.push(allocated);
};
app.use(served);
addBenchRoutes(app);
const until = Date.now() + seconds * 1000;
let requests = 0;
const cpuBefore = cpuMicros();
while (Date.now() < until) {
  await inject(app, requests % 2 ? '/hello' : `/json?i=${requests}`);
  requests++;
  // Requests complete in microtasks: let the event loop turn, so that the readings' timers run.
  if (requests % 100 === 0) await new Promise(setImmediate);
}
const cpuPerRequest = (cpuMicros() - cpuBefore) / requests;
// What a request allocates, the same way: batches of 100 with no collection inside.
const requestBytes = [];
for (let batch = 0; batch < 20; batch++) {
  const before = getHeapStatistics().used_heap_size;
  for (let i = 0; i < 100; i++) await inject(app, i % 2 ? '/hello' : `/json?i=${i}`);
  const allocated = getHeapStatistics().used_heap_size - before;
  if (allocated > 0) requestBytes.push(allocated / 100);
}
readingBytes.sort((a, b) => a - b);
requestBytes.sort((a, b) => a - b);
const stats = served.monitor.stats();
served.stop();
durations.sort((a, b) => a - b);
const readingMs = durations[durations.length >> 1];

console.log(`heapwatch's own work, Node ${process.version}`);
console.log('');
console.log('| event | cost | how often at the defaults | share of one core, or of a request |');
console.log('|---|---|---|---|');
console.log(`| a request through the middleware (not heapwatch's path) | ${middlewareNanos.toFixed(0)} ns over an empty middleware | every request | ${((100 * middlewareNanos) / 1000 / cpuPerRequest).toFixed(3)} % of this run's ${cpuPerRequest.toFixed(0)} µs request |`);
console.log(`| a reading (${stats.trackedSites} sites tracked, ${durations.length} readings) | ${readingMs.toFixed(2)} ms (median; max ${durations.at(-1).toFixed(2)}) | every 10 s, and after V8's major GCs (at most two per interval) | ${((100 * readingMs) / 10_000).toFixed(3)} % of one core (${((100 * 3 * readingMs) / 10_000).toFixed(3)} % with two readings after GCs per interval) |`);
const readingKiB = (readingBytes[readingBytes.length >> 1] ?? 0) / 1024;
const requestKiB = (requestBytes[requestBytes.length >> 1] ?? 0) / 1024;
console.log(`| garbage: what a reading allocates (median of ${readingBytes.length}) | ${readingKiB.toFixed(0)} KiB, against ${requestKiB.toFixed(0)} KiB per request (median of the mixed /hello and /json batches) | every 10 s, and after V8's major GCs | the allocation of ${(readingKiB / requestKiB).toFixed(1)} requests every 10 s: ${((100 * 3 * readingKiB) / requestKiB / (10 * (1e6 / cpuPerRequest))).toFixed(4)} % of what this app allocates at one core's worth of requests, with three readings per interval |`);
