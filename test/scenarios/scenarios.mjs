// Leaks and look-alikes for the detector. Each scenario's start() returns a handler called every
// STEP_MS, as requests would call a route. A leak scenario names the allocating function the
// detector must blame (`leakSites`: the function, or the handler TurboFan may inline it into —
// V8 charges an inlined callee to its caller) or, for a dependency, the file (`leakFile`).
// start() returns the route itself, never a closure around it: TurboFan may inline the route into
// such a closure, and the leak would be charged to an `(anonymous)` frame no scenario names.
// Rates are sized for the accelerated options of run-scenario.mjs: 2 MiB over a 4 s window, so
// twice that (4 MiB) over any shorter horizon. Leaks keep their rate against the clock (`due`).
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';

export const STEP_MS = 10;
const PER_STEP = (perSecond) => Math.round(perSecond / (1000 / STEP_MS));

/**
 * How many entries a leak owes now at `perSecond` since its first step, against the clock: a busy
 * machine that runs the steps late must not slow a leak down to the threshold's edge. `clock`
 * holds the leak's start and the entries it made (`made` numbers the next one).
 */
function due(clock, perSecond) {
  clock.startedAt ??= Date.now();
  const owed = Math.floor((perSecond * (Date.now() - clock.startedAt)) / 1000) - clock.made;
  clock.made += owed;
  return owed;
}

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
const sessionClock = { startedAt: undefined, made: 0 };
function sessionRoute(i) {
  handleRequest(i);
  const first = sessionClock.made;
  for (let k = 0, n = due(sessionClock, 2000); k < n; k++) rememberRequest(first + k);
}

const bus = new EventEmitter();
bus.setMaxListeners(0);
function subscribeForUpdates(i) {
  const context = { id: i, buffer: `${i}`.padEnd(1000, 'l') };
  bus.on('update', () => context.id);
}
const subscribeClock = { startedAt: undefined, made: 0 };
function subscribeRoute(i) {
  handleRequest(i);
  const first = subscribeClock.made;
  for (let k = 0, n = due(subscribeClock, 2000); k < n; k++) subscribeForUpdates(first + k);
}

const timers = [];
function scheduleRefresh(i) {
  const state = { id: i, cache: `${i}`.padEnd(1000, 't') };
  timers.push(setInterval(() => state.id, 3_600_000).unref());
}
const refreshClock = { startedAt: undefined, made: 0 };
function refreshRoute(i) {
  handleRequest(i);
  const first = refreshClock.made;
  for (let k = 0, n = due(refreshClock, 2000); k < n; k++) scheduleRefresh(first + k);
}

const audit = [];
function appendAuditEntry(i) {
  audit.push({ i, line: `${i}`.padEnd(400, 'a') });
}
const auditClock = { startedAt: undefined, made: 0 };
function auditRoute(i) {
  handleRequest(i);
  const first = auditClock.made;
  for (let k = 0, n = due(auditClock, 2000); k < n; k++) appendAuditEntry(first + k);
}

// The scenarios below keep entries of 1 KB of heap (an array of 118 numbers: 1041 B on Node 20);
// a padded string is a rope of small cons strings, about half its length in bytes.

// 3 MB/s: past twice the threshold within half the window, so judged before the window fills.
const uploads = [];
function keepUpload(i) {
  uploads.push({ i, chunk: new Array(118).fill(i) });
}
const uploadClock = { startedAt: undefined, made: 0 };
function uploadRoute(i) {
  handleRequest(i);
  const first = uploadClock.made;
  for (let k = 0, n = due(uploadClock, 3000); k < n; k++) keepUpload(first + k);
}

// A ledger loaded at start (~60 MB, steady) that then grows by 1 MB/s: 3 MB over the window is
// within the sampling noise of the site's whole size (±1.4 MB at 32 KiB), but a steady site's
// estimate does not move — the new samples are all the noise its growth has. appendToLedger is
// called through a call site that calls five functions: TurboFan does not inline such a
// (megamorphic) call, so the growth stays inside the large site.
const ledger = [];
function appendToLedger(i, entries) {
  for (let k = 0; k < entries; k++) ledger.push({ i, k, items: new Array(118).fill(k) });
}
const ledgerWriters = [() => {}, () => {}, appendToLedger, () => {}, () => {}];
function writeLedger(i, entries) {
  for (const write of ledgerWriters) write(i, entries);
}
const ledgerClock = { startedAt: undefined, made: 0 };
function ledgerRoute(i) {
  handleRequest(i);
  writeLedger(i, due(ledgerClock, 1000));
}

const require = createRequire(import.meta.url);
// About 150 B kept per label set, split between prom-client's key and entry and the app's label
// object and string: 12 000 sets a second keep each of those sites well above 2 MiB per 4 s.
let requestCounter;
const labelClock = { startedAt: undefined, made: 0 };
function labelRoute(i) {
  handleRequest(i);
  const first = labelClock.made;
  for (let k = 0, n = due(labelClock, 12_000); k < n; k++) requestCounter.inc({ user: `user-${first + k}`, route: '/profile' });
}

// MemoryStore.set keeps JSON.stringify(session): the kept string is allocated inside the
// dependency (or in loginRoute, once TurboFan has inlined the small `set` into it).
const CART = 'c'.repeat(1000);
let sessionStore;
const loginClock = { startedAt: undefined, made: 0 };
function loginRoute(i) {
  handleRequest(i);
  const first = loginClock.made;
  for (let k = 0, n = due(loginClock, 1000); k < n; k++) {
    const id = first + k;
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

// A cache that fills for half a window (2 s, against the clock) up to ~2.8 MB — more than the
// threshold, less than twice it — then turns over at its capacity, its entries replaced by the
// same function: the site stops growing. At 3500 entries (~3.8 MB) its estimate, ±0.35 MB at
// 32 KiB, passed twice the threshold (4.2 MB) now and then (a fresh-clone CI run on a quiet
// machine): a warm-up that close to the line is the line's, not a look-alike's.
const warmCacheEntries = new Map();
const WARM_CAPACITY = 2600;
let warmStartedAt;
function cacheProfile(i) {
  warmCacheEntries.set(`user-${i % WARM_CAPACITY}`, { i, profile: new Array(118).fill(i) });
}
// cacheProfile is called through a megamorphic call site (five functions), which TurboFan does
// not inline: inlined into the route and then deoptimised again, its entries would move between
// the route's site and its own as they are replaced — on Node 24 within the window of the warm-up,
// whose growth of the whole then hides the move from rule 4. This scenario is about the warm-up.
const profileWriters = [() => {}, () => {}, cacheProfile, () => {}, () => {}];
function writeProfile(i) {
  for (const write of profileWriters) write(i);
}
function profileRoute(i) {
  handleRequest(i);
  warmStartedAt ??= Date.now();
  const filled = Math.min(WARM_CAPACITY, Math.floor((WARM_CAPACITY * (Date.now() - warmStartedAt)) / 2000));
  // While it fills, each new entry extends the cache; then 10 entries a step are replaced.
  for (let k = warmCacheEntries.size; k < filled; k++) writeProfile(k);
  if (filled === WARM_CAPACITY) for (let k = 0; k < 10; k++) writeProfile(i * 10 + k);
}

// An LRU cache in front of a slow lookup, empty at start: requests ask for keys drawn from a space
// twice its capacity; a miss loads the entry (1 KB) and, once the cache is full, evicts the least
// recently used one. It fills over about half a window (to ~2.9 MB: more than the threshold, less
// than twice it) as misses become rarer, then turns over at every miss.
const LRU_WARM_CAPACITY = 2800;
const lruWarm = new Map();
let lruSeed = 1;
function loadProfile(key) {
  return { key, profile: new Array(118).fill(key) };
}
// Called through a megamorphic call site (five functions) so that TurboFan does not inline it.
const profileLoaders = [() => {}, () => {}, loadProfile, () => {}, () => {}];
function lookUp(key) {
  const hit = lruWarm.get(key);
  if (hit !== undefined) {
    lruWarm.delete(key);
    lruWarm.set(key, hit); // most recently used last
    return hit;
  }
  let loaded;
  for (const load of profileLoaders) loaded = load(key) ?? loaded;
  lruWarm.set(key, loaded);
  if (lruWarm.size > LRU_WARM_CAPACITY) lruWarm.delete(lruWarm.keys().next().value);
  return loaded;
}
function lruRoute(i) {
  handleRequest(i);
  for (let k = 0; k < 20; k++) {
    lruSeed = (lruSeed * 48271) % 2147483647; // Park–Miller: the same keys in every run
    lookUp(lruSeed % (2 * LRU_WARM_CAPACITY));
  }
}

// The half-window cache again, but a window and a half after start: past the warm-up, a cache
// that fills later (a new kind of request) and then turns over.
const lateCacheEntries = new Map();
let lateStartedAt;
const LATE_START_MS = 6000;
function cacheLateProfile(i) {
  lateCacheEntries.set(`user-${i % WARM_CAPACITY}`, { i, profile: new Array(118).fill(i) });
}
const lateWriters = [() => {}, () => {}, cacheLateProfile, () => {}, () => {}];
function writeLateProfile(i) {
  for (const write of lateWriters) write(i);
}
let lateRouteStartedAt;
function lateProfileRoute(i) {
  handleRequest(i);
  lateRouteStartedAt ??= Date.now();
  if (Date.now() - lateRouteStartedAt < LATE_START_MS) return;
  lateStartedAt ??= Date.now();
  const filled = Math.min(WARM_CAPACITY, Math.floor((WARM_CAPACITY * (Date.now() - lateStartedAt)) / 2000));
  for (let k = lateCacheEntries.size; k < filled; k++) writeLateProfile(k);
  if (filled === WARM_CAPACITY) for (let k = 0; k < 10; k++) writeLateProfile(i * 10 + k);
}

// A cache that fills for half a window, a window and a half after start, and then stays as it is
// (no entry replaced): a static table loaded on first use.
const staticTable = [];
let staticRouteStartedAt;
function loadTableRow(i) {
  staticTable.push({ i, row: new Array(118).fill(i) });
}
const tableLoaders = [() => {}, () => {}, loadTableRow, () => {}, () => {}];
function tableRoute(i) {
  handleRequest(i);
  staticRouteStartedAt ??= Date.now();
  const since = Date.now() - staticRouteStartedAt - LATE_START_MS;
  if (since < 0) return;
  const filled = Math.min(WARM_CAPACITY, Math.floor((WARM_CAPACITY * since) / 2000));
  for (let k = staticTable.length; k < filled; k++) for (const load of tableLoaders) load(k);
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
  'fast leak (3 MB/s)': { leakSites: ['keepUpload', 'uploadRoute'], start: () => uploadRoute },
  'slow leak inside a large steady site': {
    leakSites: ['appendToLedger'],
    start: () => {
      writeLedger(-1, 60_000);
      return ledgerRoute;
    },
  },
  'steady churn': { start: () => churnRoute },
  'bounded LRU that warms up then plateaus': {
    start: () => {
      warmCache();
      return cacheRoute;
    },
  },
  'cache that warms up for half a window, then turns over': { start: () => profileRoute },
  'LRU that warms up from empty, then evicts': { start: () => lruRoute },
  'cache that warms up for half a window later in life, then turns over': { start: () => lateProfileRoute },
  'table that fills for half a window later in life, then stays': { start: () => tableRoute },
  'periodic batch that builds and drops tens of MB': { start: () => batchRoute },
  'queue that fills and drains': { start: () => queueRoute },
};
