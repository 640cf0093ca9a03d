// Leaks and look-alikes for the detector. Each scenario's start() returns a handler called every
// STEP_MS, as requests would call a route. A leak scenario names the allocating function the
// detector must blame (`leakSites`: the function, or the handler TurboFan may inline it into —
// V8 charges an inlined callee to its caller) or, for a dependency, the file (`leakFile`).
// start() returns the route itself, never a closure around it: TurboFan may inline the route into
// such a closure, and the leak would be charged to an `(anonymous)` frame no scenario names.
// Rates are sized for the accelerated options of run-scenario.mjs: 2 MiB over a 4 s window.
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';

export const STEP_MS = 10;
const PER_STEP = (perSecond) => Math.round(perSecond / (1000 / STEP_MS));

// Churn that every scenario carries, as request handling would: allocated, serialised, dropped.
function handleRequest(i) {
  const body = { id: i, items: [] };
  for (let k = 0; k < 20; k++) body.items.push({ k, name: `item-${k}-${i}` });
  return JSON.stringify(body).length;
}

// ---- leaks -------------------------------------------------------------------------------------

const sessions = new Map();
function rememberRequest(i) {
  sessions.set(`req-${i}`, { at: Date.now(), body: `${i}`.padEnd(1000, 'm') });
}
function sessionRoute(i) {
  handleRequest(i);
  for (let k = 0; k < PER_STEP(2000); k++) rememberRequest(i * 2000 + k);
}

const bus = new EventEmitter();
bus.setMaxListeners(0);
function subscribeForUpdates(i) {
  const context = { id: i, buffer: `${i}`.padEnd(1000, 'l') };
  bus.on('update', () => context.id);
}
function subscribeRoute(i) {
  handleRequest(i);
  for (let k = 0; k < PER_STEP(2000); k++) subscribeForUpdates(i * 2000 + k);
}

const timers = [];
function scheduleRefresh(i) {
  const state = { id: i, cache: `${i}`.padEnd(1000, 't') };
  timers.push(setInterval(() => state.id, 3_600_000).unref());
}
function refreshRoute(i) {
  handleRequest(i);
  for (let k = 0; k < PER_STEP(2000); k++) scheduleRefresh(i * 2000 + k);
}

const audit = [];
function appendAuditEntry(i) {
  audit.push({ i, line: `${i}`.padEnd(400, 'a') });
}
function auditRoute(i) {
  handleRequest(i);
  for (let k = 0; k < PER_STEP(2000); k++) appendAuditEntry(i * 2000 + k);
}

const require = createRequire(import.meta.url);
// About 150 B kept per label set, split between prom-client's key and entry and the app's label
// object and string: 12 000 sets a second keep each of those sites well above 2 MiB per 4 s.
let requestCounter;
function labelRoute(i) {
  handleRequest(i);
  for (let k = 0; k < PER_STEP(12_000); k++) requestCounter.inc({ user: `user-${i * 12_000 + k}`, route: '/profile' });
}

// MemoryStore.set keeps JSON.stringify(session): the kept string is allocated inside the
// dependency (or in loginRoute, once TurboFan has inlined the small `set` into it).
const CART = 'c'.repeat(1000);
let sessionStore;
function loginRoute(i) {
  handleRequest(i);
  for (let k = 0; k < PER_STEP(1000); k++) {
    const id = i * 1000 + k;
    sessionStore.set(`sid-${id}`, { cookie: { originalMaxAge: 86_400_000, httpOnly: true, path: '/' }, user: id, cart: CART }, () => {});
  }
}

// ---- look-alikes -------------------------------------------------------------------------------

function churnRoute(i) {
  for (let k = 0; k < 20; k++) handleRequest(i * 20 + k);
}

const lru = new Map();
const LRU_CAPACITY = 6000;
function warmCache() {
  for (let i = 0; i < LRU_CAPACITY; i++) lru.set(`key-${i}`, `${i}`.padEnd(1000, 'w'));
}
function cacheRoute(i) {
  handleRequest(i);
  for (let k = 0; k < PER_STEP(800); k++) {
    lru.set(`key-${LRU_CAPACITY + i * 800 + k}`, `${i}`.padEnd(1000, 'c'));
    if (lru.size > LRU_CAPACITY) lru.delete(lru.keys().next().value);
  }
}

let batch = null;
function buildBatch() {
  batch = [];
  for (let i = 0; i < 100_000; i++) batch.push({ i, row: `${i}`.padEnd(200, 'b') });
}
function batchRoute(i) {
  handleRequest(i);
  if (i % 200 === 0) buildBatch(); // every 2 s: ~30 MB
  if (i % 200 === 100) batch = null; // dropped a second later
}

const queue = [];
function queueRoute(i) {
  handleRequest(i);
  if (i % 300 < 150) {
    for (let k = 0; k < PER_STEP(3000); k++) queue.push({ k, job: `${i}`.padEnd(1000, 'q') }); // 1.5 s filling
  } else {
    queue.splice(0, PER_STEP(3000) + 5); // 1.5 s draining
  }
}

export const scenarios = {
  'unbounded map': { leakSites: ['rememberRequest', 'sessionRoute'], start: () => sessionRoute },
  'listeners never removed': { leakSites: ['subscribeForUpdates', 'subscribeRoute'], start: () => subscribeRoute },
  'timers never cleared': {
    leakSites: ['scheduleRefresh', 'refreshRoute'],
    start: () => refreshRoute,
    stop: () => timers.forEach(clearInterval),
  },
  // The label objects and strings are allocated by the application and kept by prom-client.
  'unbounded prom-client labels': {
    leakSites: ['labelRoute'],
    start: () => {
      const { Counter, Registry } = require('prom-client');
      requestCounter = new Counter({ name: 'requests_total', help: 'requests', labelNames: ['user', 'route'], registers: [new Registry()] });
      return labelRoute;
    },
  },
  "express-session's MemoryStore (a leak inside a dependency)": {
    leakFile: 'node_modules/express-session/session/memory.js',
    start: () => {
      const { MemoryStore } = require('express-session');
      sessionStore = new MemoryStore();
      return loginRoute;
    },
  },
  'slow leak': { leakSites: ['appendAuditEntry', 'auditRoute'], start: () => auditRoute },
  'steady churn': { start: () => churnRoute },
  'bounded LRU that warms up then plateaus': {
    start: () => {
      warmCache();
      return cacheRoute;
    },
  },
  'periodic batch that builds and drops tens of MB': { start: () => batchRoute },
  'queue that fills and drains': { start: () => queueRoute },
};
