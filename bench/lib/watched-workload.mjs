// One workload in a process of its own, under a heapwatch monitor, for bench/detection.mjs:
//   node bench/lib/watched-workload.mjs '<spec as JSON>'
// spec: {
//   workload: 'leak'        request-like churn, and from warmupSeconds on a leak of rateBytesPerSecond
//           | 'scenario'    a scenario of test/scenarios/scenarios.mjs, by name (`scenario`)
//           | 'express',    an Express 5 app behind heapwatch(), driven over loopback, no leak
//   options,                the monitor's options (logger excepted)
//   requestsPerSecond,      (express) the load over loopback (default 100)
//   cacheEntries,           (express) a bounded cache of that many 1 KB profiles that every other
//                           request (to /profile/:id, ids never repeat) fills until it is full,
//                           then turns over (oldest out): a warm-up after start (default: none)
//   warmupSeconds,          (leak) seconds of churn before the leak starts
//   holdingBytes,           (leak) bytes the leaking function keeps from the start (0: none)
//   endAtSeconds,           seconds after the process's start at which it gives up
//   stopAtLeakSite,         end at the first suspicion of a leaking site
// }
// Prints one JSON line per leak-suspected and leak-cleared event as it happens, and a last line
// with the process's totals (CPU time, memory, the monitor's counters). Measures, never asserts.
import http from 'node:http';
import path from 'node:path';
import { createHeapMonitor, heapwatch } from 'heapwatch';

const spec = JSON.parse(process.argv[2]);
let stepMs = 10; // a scenario's own STEP_MS replaces it
const started = Date.now();
const cpuAtStart = process.cpuUsage();
const secondsSince = (ms) => (Date.now() - ms) / 1000;
const print = (record) => process.stdout.write(`${JSON.stringify(record)}\n`);

// ---- the leak workload: churn as a request handler makes, and a leak of a given rate ----------

// An entry is an array of 118 numbers in a small object: 1041 B of heap on Node 20. (Not a padded
// string: `padEnd` builds a rope of small cons strings, about 520 B for 960 characters.)
const ENTRY_BYTES = 1041;
const leaked = [];
let leakStartedAt;
let held = 0;

function rememberEntry(i) {
  leaked.push({ i, items: new Array(118).fill(i) });
}

// rememberEntry is called through one call site that also calls four other functions: a
// megamorphic call, which TurboFan does not inline. So every entry is charged to rememberEntry,
// those kept at the start (holdingBytes) and those of the leak alike: one site.
const noopA = () => {};
const noopB = () => {};
const noopC = () => {};
const noopD = () => {};
const keepers = [noopA, noopB, rememberEntry, noopC, noopD];
function keep(i) {
  for (const keeper of keepers) keeper(i);
}

function churn(i) {
  const rows = [];
  for (let k = 0; k < 50; k++) rows.push({ k, name: `row-${k}-${i}` });
  return JSON.stringify(rows).length;
}

// The leak's rate is kept against the clock, not the timer's ticks, so that a late timer on a
// busy machine does not slow the leak down.
function leakRoute(i) {
  churn(i);
  if (leakStartedAt === undefined) return;
  const owed = held + Math.floor((spec.rateBytesPerSecond * (Date.now() - leakStartedAt)) / 1000 / ENTRY_BYTES);
  while (leaked.length < owed) keep(i);
}

// ---- the Express workload: an app with a few routes, and a load loop over loopback -------------

async function startExpress(options, requestsPerSecond = 100, cacheEntries = 0) {
  const { default: express } = await import('express');
  const watch = heapwatch({ ...options, logger: false });
  const app = express();
  app.use(watch);
  app.use(express.json());
  const orders = Array.from({ length: 100 }, (_, id) => ({ id, items: ['book', 'pen', 'lamp'].slice(0, 1 + (id % 3)), total: id * 3 }));
  app.get('/health', (_req, res) => res.send('ok'));
  app.get('/orders/:id', function showOrder(req, res) {
    const order = orders[Number(req.params.id) % orders.length];
    res.json({ ...order, currency: req.query.currency ?? 'EUR', shippedAt: new Date().toISOString() });
  });
  // A cache in front of a slow lookup, empty at start: each request loads a new profile (an entry
  // of 1041 B) until the cache holds cacheEntries, then the oldest makes room.
  const profiles = new Map();
  app.get('/profile/:id', function showProfile(req, res) {
    const id = req.params.id;
    let profile = profiles.get(id);
    if (profile === undefined) {
      profile = { id, history: new Array(118).fill(id.length) };
      profiles.set(id, profile);
      if (profiles.size > cacheEntries) profiles.delete(profiles.keys().next().value);
    }
    res.json({ id, items: profile.history.length });
  });
  app.post('/orders', function createOrder(req, res) {
    res.status(201).json({ id: orders.length, items: req.body.items ?? [], receivedAt: new Date().toISOString() });
  });
  const server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  const counts = { requests: 0, errors: 0 };
  const send = (n) => {
    const profile = cacheEntries > 0 && n % 2 === 1;
    const post = !profile && n % 4 === 3;
    const body = post ? JSON.stringify({ items: ['book', `item-${n}`], note: `order ${n}` }) : undefined;
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        agent,
        method: post ? 'POST' : 'GET',
        path: profile ? `/profile/${n}` : n % 10 === 0 ? '/health' : post ? '/orders' : `/orders/${n}?currency=USD`,
        headers: post ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {},
      },
      (res) => {
        res.resume();
        res.on('end', () => counts.requests++);
      },
    );
    req.on('error', () => counts.errors++);
    req.end(body);
  };
  let n = 0;
  const load = setInterval(() => {
    for (let k = 0; k < requestsPerSecond / 20; k++) send(n++);
  }, 50);
  return {
    monitor: watch.monitor,
    counts,
    stop() {
      clearInterval(load);
      watch.stop();
      agent.destroy();
      server.close();
      server.closeAllConnections();
    },
  };
}

// ---- the monitor, the driver, the end -----------------------------------------------------------

let monitor;
let driver;
let leakSites = [];
let leakFile;
let stopWorkload = () => {};
let expressCounts;

if (spec.workload === 'express') {
  const app = await startExpress(spec.options, spec.requestsPerSecond, spec.cacheEntries);
  monitor = app.monitor;
  expressCounts = app.counts;
  stopWorkload = app.stop;
} else {
  monitor = createHeapMonitor({ ...spec.options, logger: false });
  if (spec.workload === 'leak') {
    driver = leakRoute;
    leakSites = ['rememberEntry', 'leakRoute'];
    setTimeout(() => (leakStartedAt = Date.now()), spec.warmupSeconds * 1000);
  } else {
    const { scenarios, STEP_MS } = await import('../../test/scenarios/scenarios.mjs');
    stepMs = STEP_MS;
    const scenario = scenarios[spec.scenario];
    if (!scenario) throw new Error(`Unknown scenario "${spec.scenario}" - expected one of ${Object.keys(scenarios).join(', ')}`);
    driver = scenario.start();
    leakSites = scenario.leakSites ?? [];
    leakFile = scenario.leakFile;
    stopWorkload = () => scenario.stop?.();
  }
  monitor.start();
  // Filled once the sampler runs: objects allocated before it started are never sampled.
  held = Math.round((spec.holdingBytes ?? 0) / ENTRY_BYTES);
  for (let i = 0; i < held; i++) keep(-i);
}

let ended = false;
function onEvent(type) {
  return (report) => {
    const site = report.site;
    const file = path.isAbsolute(site.file) ? path.relative(process.cwd(), site.file) : site.file;
    const atLeakSite = leakSites.includes(site.functionName) || (leakFile !== undefined && file.endsWith(leakFile));
    print({
      type,
      atSeconds: secondsSince(started),
      sinceLeakSeconds: leakStartedAt === undefined ? null : secondsSince(leakStartedAt),
      function: site.functionName,
      file,
      line: site.line,
      atLeakSite,
      growthBytes: report.growthBytes,
      horizonMs: report.horizonMs,
      liveBytes: report.liveBytes,
    });
    if (type === 'suspected' && atLeakSite && spec.stopAtLeakSite) setImmediate(end);
  };
}
monitor.on('leak-suspected', onEvent('suspected'));
monitor.on('leak-cleared', onEvent('cleared'));

// One call site for several functions is megamorphic: TurboFan does not inline the route into
// this timer callback, so the route stays a frame of its own (as test/scenarios/run-scenario.mjs).
let timer;
if (driver) {
  const noop1 = () => {};
  const noop2 = () => {};
  const noop3 = () => {};
  const noop4 = () => {};
  const calls = [noop1, noop2, driver, noop3, noop4];
  let i = 0;
  timer = setInterval(() => {
    for (const call of calls) call(i);
    i++;
  }, stepMs);
}

const giveUp = setTimeout(end, spec.endAtSeconds * 1000);

function end() {
  if (ended) return;
  ended = true;
  clearInterval(timer);
  clearTimeout(giveUp);
  const stats = monitor.stats();
  stopWorkload();
  if (spec.workload !== 'express') monitor.stop();
  const cpu = process.cpuUsage(cpuAtStart);
  const elapsedSeconds = secondsSince(started);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const memory = process.memoryUsage();
  print({
    type: 'done',
    elapsedSeconds,
    cpuSeconds,
    leakStartedAtSeconds: leakStartedAt === undefined ? null : (leakStartedAt - started) / 1000,
    leakedBytes: (leaked.length - held) * ENTRY_BYTES,
    rssBytes: memory.rss,
    heapUsedBytes: memory.heapUsed,
    requests: expressCounts?.requests,
    requestErrors: expressCounts?.errors,
    stats,
  });
  // Scenarios may leave handles behind (a leak of timers is one): end the process here.
  process.exit(0);
}
