// What a service pays for heapwatch while it is idle: an Express 5 app serves 3 000 /json requests,
// then rests for --seconds while this measures, from inside the process and from /proc, where the
// CPU goes: the process (process.cpuUsage, /proc/self/stat), each thread (/proc/self/task/*/schedstat:
// nanoseconds on CPU and times scheduled), V8's collections by kind (a `gc` PerformanceObserver,
// --observe-gc=0 to leave it out), V8's heap every 10 s, and heapwatch's own counters (readings,
// forced and skipped GCs, clean readings: `monitor.stats()`, and the `heapwatch_*` lines of the
// app's own /metrics at the end) and the wall time of its ticks (`reading` events).
//
// Each configuration runs in processes of its own, several of each, interleaved; the driver prints
// the median and the range per configuration. Requests are injected in-process by default (a real
// IncomingMessage and ServerResponse on a socketless Duplex, as bench/lib/inject.mjs; no load
// generator competes for the cores); --http=1 serves them on 127.0.0.1:0 to a keep-alive client in
// the same process instead, the server listening through the rest.
//
//   node bench/at-rest.mjs [--configs=bare,pprof,middleware] [--runs=3] [--seconds=60] [--settle=0]
//        [--requests=3000] [--node=/path/to/node] [--parallel=2] [--pin=1] [--observe-gc=1] [--instrument=0]
//        [--node-flags="--trace-gc"] [--profile-rest=0] [--http=0] [--dist=] [--out=/tmp/at-rest.json]
//
// --settle=S waits S seconds after the load before measuring: V8's memory reducer runs two or
// three major GCs 20–110 s after the allocation stops, in every configuration (bare included;
// --node-flags=--no-memory-reducer removes them), so the first minute measures them too.
// --parallel runs that many processes at once (staggered; --pin=1 pins each to core slot % 2):
// idle processes barely compete, but their loads may overlap.
//
// Where the time goes is read from the threads, not from a CPU profile: a timer that wakes the
// loop without running JavaScript (perf_hooks.monitorEventLoopDelay, which prom-client's default
// metrics start at a 10 ms resolution) shows in a profile as "(idle)", never as anyone's. The
// main thread's "times scheduled" per second (main wakeups/s) gives such timers away.
//
// Configurations (a heapwatch one takes a dist/ variant as `name@variant`, see VARIANTS below):
//   bare                       Express and the routes, nothing else
//   pprof                      @datadog/pprof's heap profiler at dd-trace's defaults: heap.start(512 KiB, 64)
//   eld                        bare + perf_hooks.monitorEventLoopDelay({ resolution: 10 }) (what prom-client's defaults start)
//   promdefaults               bare + prom-client's collectDefaultMetrics() on a registry of its own
//   imported                   bare + heapwatch's module graph imported, nothing started
//   imported-pprof             imported + @datadog/pprof's heap.start(512 KiB, 64)
//   imported-probe             imported + the sampler probe startSampling() runs (an inspector session), no sampler
//   sampler                    heapwatch's startSampling() at its defaults, no monitor
//   monitor                    createHeapMonitor().start(), no middleware, no metrics
//   middleware                 app.use(heapwatch()) at its defaults
//   middleware-nodefaults      app.use(heapwatch({ defaultMetrics: false }))
//   middleware-60s             app.use(heapwatch({ intervalMs: 60000 }))
//   middleware-nodefaults-60s  both
//   middleware[-nodefaults]-nowarmup  with warmupMs: 0 (a process past its warm-up; builds that have the option)
// Variants (`config@variant`): noforce, nomajor, noforce-nomajor, noagg, noread, eld1000 (VARIANTS).
//
// --dist: the heapwatch build to load (a dist/ directory; default: the package itself, `heapwatch`).
// Variants are copies of that dist/ in /tmp/heapwatch-at-rest/<variant>/ with one or two lines
// patched (each patch must match exactly once, or the run stops): see VARIANTS.
// --instrument=1 wraps the monitor's reader (each reading's kind, wall time, profile nodes, sites,
// and the heap it allocated) — off by default: it adds a few calls per reading.
// --profile-rest=1 profiles the main thread during the rest (node:inspector, 1 ms) and prints
// heapwatch's share; its profiler thread costs CPU of its own, so those runs' CPU is not the cost.
// --node-flags=--trace-gc: the GCs V8 ran during the rest, with the reason V8 gives for each.
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { Session } from 'node:inspector';
import { dirname, join, resolve } from 'node:path';
import { constants, monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks';
import { Duplex } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { getHeapStatistics } from 'node:v8';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..');
const RESULT_MARK = 'AT-REST-RESULT ';

const DEFAULTS = {
  configs: 'bare,pprof,sampler,monitor,middleware,middleware-nodefaults',
  runs: '3',
  seconds: '60',
  requests: '3000',
  node: process.execPath,
  parallel: '2',
  pin: '1',
  'observe-gc': '1',
  instrument: '0',
  'node-flags': '',
  'profile-rest': '0',
  http: '0',
  dist: '',
  out: '',
  child: '',
  slot: '0',
  'heap-every': '10',
  settle: '0',
};

function parseArgs(argv) {
  const flags = { ...DEFAULTS };
  for (const arg of argv) {
    const match = /^--([a-z-]+)=(.*)$/s.exec(arg);
    if (!match || !(match[1] in DEFAULTS)) {
      throw new Error(`Unknown argument "${arg}" - expected one of ${Object.keys(DEFAULTS).map((name) => `--${name}=`).join(', ')}`);
    }
    flags[match[1]] = match[2];
  }
  return flags;
}

const CONFIGS = {
  bare: {},
  pprof: { pprof: true },
  eld: { eld: true },
  promdefaults: { promDefaults: true },
  imported: { imported: true },
  'imported-pprof': { imported: true, pprof: true },
  'imported-probe': { imported: true, probe: true },
  sampler: { sampler: true },
  monitor: { monitor: {} },
  middleware: { middleware: {} },
  'middleware-nodefaults': { middleware: { defaultMetrics: false } },
  'middleware-60s': { middleware: { intervalMs: 60_000 } },
  'middleware-nodefaults-60s': { middleware: { defaultMetrics: false, intervalMs: 60_000 } },
  // A process past its warm-up (warmupMs, 10 min by default since 86cb91d): what a burst then rest
  // does later in a process's life, without waiting 10 minutes. Needs a build with warmupMs.
  'middleware-nowarmup': { middleware: { warmupMs: 0 } },
  'middleware-nodefaults-nowarmup': { middleware: { defaultMetrics: false, warmupMs: 0 } },
};

/**
 * Patched copies of heapwatch's dist/ (never src/): file, the exact text, its replacement. Each
 * text must occur exactly once in the build given, or the variant is refused.
 */
const VARIANTS = {
  // No full GC is ever asked of V8 (CleanReadings.requestGcIfNeeded returns at once).
  noforce: [['monitor/clean-readings.js', 'requestGcIfNeeded(now, reader, sampled) {', 'requestGcIfNeeded(now, reader, sampled) {\n        return; // at-rest variant: no forced GC']],
  // No reading after V8's major GCs (the FinalizationRegistry sentinel is never armed).
  nomajor: [['monitor/clean-readings.js', 'this.stopGcWatch ??= onMajorGc(() => this.readAfterGc());', 'this.stopGcWatch ??= () => {}; // at-rest variant: no major-GC watch']],
  // Neither.
  'noforce-nomajor': [
    ['monitor/clean-readings.js', 'requestGcIfNeeded(now, reader, sampled) {', 'requestGcIfNeeded(now, reader, sampled) {\n        return; // at-rest variant: no forced GC'],
    ['monitor/clean-readings.js', 'this.stopGcWatch ??= onMajorGc(() => this.readAfterGc());', 'this.stopGcWatch ??= () => {}; // at-rest variant: no major-GC watch'],
  ],
  // prom-client's standard metrics with its event-loop-delay histogram sampling every 1 000 ms
  // instead of its default 10 ms (perf_hooks.monitorEventLoopDelay's timer wakes the loop at it).
  eld1000: [['export/default-metrics.js', 'collectDefaultMetrics({ register: collectors });', 'collectDefaultMetrics({ register: collectors, eventLoopMonitoringPrecision: 1000 }); // at-rest variant']],
  // Readings read V8's profile (heap.v8Profile()) but do not sum it per site: no sites.
  noagg: [['monitor/site-reader.js', 'const sites = this.aggregator.aggregate(profile.root, this.filters);', 'const sites = { sites: new Map(), totalBytes: 0 }; // at-rest variant: no aggregation']],
  // Readings neither read V8's profile nor sum it: the timer, the window and the judgement only.
  noread: [
    ['monitor/site-reader.js', 'const profile = readProfile();', "const profile = { reader: 'native', samplingIntervalBytes: 524288, root: undefined }; // at-rest variant: no read"],
    ['monitor/site-reader.js', 'const sites = this.aggregator.aggregate(profile.root, this.filters);', 'const sites = { sites: new Map(), totalBytes: 0 }; // at-rest variant: no aggregation'],
  ],
};

// ---------------------------------------------------------------------------------------------
// The child: one configuration, one process.

/** Per thread: nanoseconds on CPU and times scheduled (/proc/self/task/<tid>/schedstat). */
function readThreads() {
  const threads = new Map();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const [ns, , slices] = readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').trim().split(/\s+/).map(Number);
      const comm = readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim();
      threads.set(Number(tid), { ns, slices, comm });
    } catch {
      // The thread exited meanwhile.
    }
  }
  return threads;
}

/** utime + stime of the whole process from /proc/self/stat (clock ticks of 10 ms: coarse). */
function procStatMs() {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10; // CLK_TCK is 100 here
}

/**
 * Names the threads: Node 24 and later name them (MainThread, DelayedTaskSche, V8Worker,
 * SignalInspector, libuv-worker); Node 20 and 22 call most of them "node", created in the same
 * order: the main thread, the delayed-task scheduler, the V8 platform's workers (--v8-pool-size,
 * 4 by default), the inspector's signal thread; later ones are the libuv pool and others.
 */
function nameThreads(threads, pid) {
  const tids = [...threads.keys()].sort((a, b) => a - b);
  const names = new Map();
  tids.forEach((tid, index) => {
    const { comm } = threads.get(tid);
    let name;
    if (tid === pid) name = 'main';
    else if (/DelayedTask/.test(comm)) name = 'DelayedTaskScheduler';
    else if (/V8Worker/.test(comm)) name = 'V8Worker';
    else if (/SignalInspector/.test(comm)) name = 'SignalInspector';
    else if (/libuv/.test(comm)) name = 'libuv-worker';
    else if (comm === 'node') {
      if (index === 1) name = 'DelayedTaskScheduler';
      else if (index >= 2 && index <= 5) name = 'V8Worker';
      else if (index === 6) name = 'SignalInspector';
      else name = 'other';
    } else name = `other:${comm}`;
    names.set(tid, name);
  });
  return names;
}

function gcKindName(kind) {
  if (kind === constants.NODE_PERFORMANCE_GC_MINOR) return 'minor';
  if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) return 'major';
  if (kind === constants.NODE_PERFORMANCE_GC_INCREMENTAL) return 'incremental';
  if (kind === constants.NODE_PERFORMANCE_GC_WEAKCB) return 'weakcb';
  return String(kind);
}

/** A request through `handler` on a socketless Duplex that keeps what is written (for /metrics). */
function injectCapture(handler, url) {
  return new Promise((resolvePromise) => {
    const chunks = [];
    const socket = new Duplex({
      read() {},
      write: (chunk, _encoding, done) => {
        chunks.push(Buffer.from(chunk));
        done();
      },
    });
    socket.remoteAddress = '127.0.0.1';
    const req = new http.IncomingMessage(socket);
    req.method = 'GET';
    req.url = url;
    req.headers = { host: 'localhost', 'user-agent': 'bench' };
    req.httpVersion = '1.1';
    req.httpVersionMajor = 1;
    req.httpVersionMinor = 1;
    req.push(null);
    const res = new http.ServerResponse(req);
    res.assignSocket(socket);
    res.on('finish', () => {
      res.detachSocket(socket);
      socket.destroy();
      resolvePromise({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') });
    });
    handler(req, res, () => {
      res.statusCode = 404;
      res.end();
    });
  });
}

function httpGet(agent, port, path) {
  return new Promise((resolvePromise, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => resolvePromise({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
  });
}

async function loadHeapwatch(dist) {
  if (!dist) return import('heapwatch');
  return import(pathToFileURL(join(dist, 'index.js')).href);
}

async function runChild(flags) {
  const [configName, variant] = flags.child.split('@');
  const config = CONFIGS[configName];
  if (!config) throw new Error(`Unknown configuration "${configName}": one of ${Object.keys(CONFIGS).join(', ')}`);
  const dist = variant ? join(variantRoot(), variant, 'dist') : flags.dist;
  const seconds = Number(flags.seconds);
  const requests = Number(flags.requests);
  const observeGc = flags['observe-gc'] === '1';
  const instrument = flags.instrument === '1';
  const heapEveryMs = Number(flags['heap-every']) * 1000;
  const { default: express } = await import('express');
  const { addBenchRoutes } = await import('./lib/routes.mjs');

  const app = express();
  let watch;
  let monitor;
  let heapwatchModule;
  let eld;
  if (config.pprof) {
    const { default: pprof } = await import('@datadog/pprof');
    pprof.heap.start(512 * 1024, 64);
  }
  if (config.eld) {
    eld = monitorEventLoopDelay({ resolution: 10 });
    eld.enable();
  }
  if (config.promDefaults) {
    const { collectDefaultMetrics, Registry } = await import('prom-client');
    collectDefaultMetrics({ register: new Registry() });
  }
  if (config.imported || config.sampler || config.monitor || config.middleware) heapwatchModule = await loadHeapwatch(dist);
  if (config.sampler) heapwatchModule.startSampling();
  if (config.probe) {
    // What startSampling() does before starting V8's sampler: asks V8, through an inspector
    // session of its own, whether the sampler already runs (dist/v8/sampler-probe.js).
    const probe = await import(pathToFileURL(join(dist || join(ROOT, 'dist'), 'v8', 'sampler-probe.js')).href);
    probe.samplerAlreadyRunning();
  }
  if (config.monitor) monitor = heapwatchModule.createHeapMonitor(config.monitor).start();
  if (config.middleware) {
    watch = heapwatchModule.heapwatch(config.middleware);
    monitor = watch.monitor;
    app.use(watch);
  }
  addBenchRoutes(app);

  // Every reading (ticks and those after major GCs), when asked: its kind, wall time, what the
  // profile held, and the heap it allocated (used heap after minus before; Node 26 also counts
  // V8's allocated bytes, LAB-grained).
  const readings = [];
  const ticks = [];
  // Times are from the rest's start: what came before it is negative (filtered out).
  let restStart = Number.POSITIVE_INFINITY;
  if (monitor) {
    // Each tick: its wall time, and whether a site was rising in the tick readings (the
    // detector's wantedHorizonMs, which is what makes heapwatch ask V8 for a full GC).
    monitor.on('reading', ({ durationMs, failed }) => {
      const { requestedGcs, cleanReadings } = monitor.stats();
      ticks.push({ t: performance.now() - restStart, ms: durationMs, failed, wantedHorizonMs: monitor.clean?.wantedHorizonMs ?? null, requestedGcs, cleanReadings });
    });
    if (instrument) {
      const reader = monitor.reader;
      const read = reader.read.bind(reader);
      const aggregator = reader.aggregator;
      const aggregate = aggregator.aggregate.bind(aggregator);
      let lastAggregate = { ms: 0, nodes: 0 };
      aggregator.aggregate = (root, filters) => {
        let nodes = 0;
        const stack = [root];
        while (stack.length) {
          const node = stack.pop();
          nodes++;
          for (const child of node.children ?? []) stack.push(child);
        }
        const started = performance.now();
        const result = aggregate(root, filters);
        lastAggregate = { ms: performance.now() - started, nodes };
        return result;
      };
      reader.read = () => {
        const kind = monitor.ticking ? 'tick' : 'after-gc';
        const before = getHeapStatistics();
        const started = performance.now();
        const result = read();
        const ms = performance.now() - started;
        const after = getHeapStatistics();
        readings.push({
          t: started - restStart,
          kind,
          ms,
          aggregateMs: lastAggregate.ms,
          nodes: lastAggregate.nodes,
          sites: result.sites.size,
          usedDelta: after.used_heap_size - before.used_heap_size,
          allocated: after.total_allocated_bytes === undefined ? undefined : after.total_allocated_bytes - before.total_allocated_bytes,
        });
        return result;
      };
    }
  }

  // The load: 3 000 /json requests, one at a time.
  let server;
  let agent;
  let port;
  if (flags.http === '1') {
    server = await new Promise((resolvePromise) => {
      const listening = http.createServer(app).listen(0, '127.0.0.1', () => resolvePromise(listening));
    });
    port = server.address().port;
    agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    for (let i = 0; i < requests; i++) {
      const { status } = await httpGet(agent, port, `/json?i=${i}`);
      if (status !== 200) throw new Error(`/json answered ${status}`);
    }
  } else {
    const { inject } = await import('./lib/inject.mjs');
    for (let i = 0; i < requests; i++) {
      const status = await inject(app, `/json?i=${i}`);
      if (status !== 200) throw new Error(`/json answered ${status}`);
      // Requests complete in microtasks: let the event loop turn, as a server's would.
      if (i % 10 === 9) await new Promise(setImmediate);
    }
  }

  // The rest: after --settle seconds (not measured), --seconds measured.
  const settleMs = Number(flags.settle) * 1000;
  if (settleMs > 0) await new Promise((resolvePromise) => setTimeout(resolvePromise, settleMs));
  const gcEntries = [];
  let observer;
  if (observeGc) {
    observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        gcEntries.push({ t: entry.startTime - restStart, kind: gcKindName(entry.detail?.kind), flags: entry.detail?.flags ?? 0, ms: entry.duration });
      }
    });
    observer.observe({ entryTypes: ['gc'] });
  }
  const statsBefore = monitor?.stats();
  const heapSeries = [];
  let profileStop;
  if (flags['profile-rest'] === '1') {
    const session = new Session();
    session.connect();
    session.post('Profiler.enable');
    session.post('Profiler.setSamplingInterval', { interval: 1000 });
    session.post('Profiler.start');
    profileStop = () =>
      new Promise((resolvePromise, reject) => {
        session.post('Profiler.stop', (error, result) => {
          session.disconnect();
          if (error) reject(error);
          else resolvePromise(result.profile);
        });
      });
  }
  // Warmed up, and read inside the process's CPU bracket, so that the figures compare.
  readThreads();
  procStatMs();
  const cpuBefore = process.cpuUsage();
  const statBefore = procStatMs();
  const threadsBefore = readThreads();
  restStart = performance.now();
  const sampleHeap = () => {
    const heap = getHeapStatistics();
    const cpu = process.cpuUsage(cpuBefore);
    heapSeries.push({ t: performance.now() - restStart, usedMB: heap.used_heap_size / 1e6, totalMB: heap.total_heap_size / 1e6, cpuMs: (cpu.user + cpu.system) / 1000 });
  };
  sampleHeap();
  let heapTimer;
  if (heapEveryMs > 0) heapTimer = setInterval(sampleHeap, heapEveryMs);
  await new Promise((resolvePromise) => setTimeout(resolvePromise, seconds * 1000));
  const restMs = performance.now() - restStart;
  const threadsAfter = readThreads();
  const statAfter = procStatMs();
  const cpu = process.cpuUsage(cpuBefore);
  clearInterval(heapTimer);
  sampleHeap();
  const statsAfter = monitor?.stats();
  let cpuProfile;
  if (profileStop) cpuProfile = await profileStop();
  observer?.disconnect();

  // Per thread over the rest; a thread born during it counts from zero.
  const names = nameThreads(new Map([...threadsBefore, ...threadsAfter]), process.pid);
  const perThread = [];
  for (const [tid, after] of threadsAfter) {
    const before = threadsBefore.get(tid) ?? { ns: 0, slices: 0 };
    perThread.push({ tid, name: names.get(tid), comm: after.comm, ms: (after.ns - before.ns) / 1e6, slices: after.slices - before.slices, born: !threadsBefore.has(tid) });
  }
  const gone = [...threadsBefore.keys()].filter((tid) => !threadsAfter.has(tid)).length;
  const byName = {};
  for (const thread of perThread) {
    byName[thread.name] ??= { ms: 0, slices: 0, threads: 0 };
    byName[thread.name].ms += thread.ms;
    byName[thread.name].slices += thread.slices;
    byName[thread.name].threads++;
  }

  // heapwatch's metrics as a scrape of the app's own /metrics would show them.
  let metrics;
  if (watch) {
    const scraped = server ? await httpGet(agent, port, '/metrics') : await injectCapture(app, '/metrics');
    metrics = Object.fromEntries(
      scraped.body
        .split('\n')
        .filter((line) => /^heapwatch_(forced_gcs_total|skipped_gcs_total|snapshots_total|snapshot_errors_total|leak_suspects|sites_tracked|sampled_live_bytes)\b/.test(line))
        .map((line) => line.split(' ')),
    );
  }
  agent?.destroy();
  server?.close();

  const gcCounts = {};
  for (const entry of gcEntries.filter((entry) => entry.t >= 0 && entry.t <= restMs)) {
    const key = entry.flags & constants.NODE_PERFORMANCE_GC_FLAGS_FORCED ? `${entry.kind}(forced)` : entry.kind;
    gcCounts[key] ??= { n: 0, ms: 0 };
    gcCounts[key].n++;
    gcCounts[key].ms += entry.ms;
  }
  const perSecond = (ms) => ms / (restMs / 1000);
  const result = {
    config: flags.child,
    node: process.version,
    pid: process.pid,
    restMs,
    restStartNow: restStart,
    cpuMsPerS: perSecond((cpu.user + cpu.system) / 1000),
    userMsPerS: perSecond(cpu.user / 1000),
    systemMsPerS: perSecond(cpu.system / 1000),
    procStatMsPerS: perSecond(statAfter - statBefore),
    threads: Object.fromEntries(Object.entries(byName).map(([name, { ms, slices, threads }]) => [name, { msPerS: perSecond(ms), slicesPerS: slices / (restMs / 1000), threads }])),
    perThread,
    threadsGone: gone,
    gc: gcCounts,
    gcEntries: gcEntries.filter((entry) => entry.t >= 0 && entry.t <= restMs),
    heap: heapSeries,
    heapwatch: monitor && {
      before: statsBefore,
      after: statsAfter,
      readings: statsAfter.readings - statsBefore.readings,
      cleanReadings: statsAfter.cleanReadings - statsBefore.cleanReadings,
      forcedGcs: statsAfter.requestedGcs - statsBefore.requestedGcs,
      skippedGcs: statsAfter.skippedGcs - statsBefore.skippedGcs,
      suspects: monitor.suspects().length,
      ticks: ticks.filter((tick) => tick.t >= 0),
      readingsDetail: readings.filter((reading) => reading.t >= 0),
      metrics,
    },
    eld: eld && { mean: eld.mean / 1e6, count: eld.count },
  };
  if (cpuProfile) {
    const file = join(flags.out ? dirname(flags.out) : '/tmp', `at-rest-${flags.child}-${process.pid}.cpuprofile`);
    writeFileSync(file, JSON.stringify(cpuProfile));
    result.cpuProfile = file;
    result.profileSummary = summariseProfile(cpuProfile);
  }
  monitor?.stop?.();
  watch?.stop();
  process.stdout.write(`\n${RESULT_MARK}${JSON.stringify(result)}\n`);
  // prom-client's collectors and the sampler keep nothing alive that must be waited for.
  setTimeout(() => process.exit(0), 100).unref();
}

/**
 * Main-thread time by who is running: heapwatch's dist/, prom-client, other JavaScript, V8's
 * (garbage collector), (program) (native work outside JavaScript: timers, I/O polling) and (idle).
 */
function summariseProfile(profile) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const groups = {};
  const functions = {};
  for (let i = 0; i < profile.samples.length; i++) {
    const us = profile.timeDeltas[i + 1] ?? 0;
    let group = 'other JavaScript';
    const leaf = byId.get(profile.samples[i]);
    const leafName = leaf.callFrame.functionName;
    if (['(garbage collector)', '(idle)', '(program)', '(root)'].includes(leafName)) group = leafName;
    else {
      for (let at = profile.samples[i]; at !== undefined; at = parentOf.get(at)) {
        const { url } = byId.get(at).callFrame;
        if (url.includes('/dist/') || url.includes('heapwatch-at-rest')) {
          group = 'heapwatch';
          break;
        }
        if (url.includes('prom-client')) {
          group = 'prom-client';
          break;
        }
        if (url.includes('at-rest.mjs')) {
          group = 'harness';
          break;
        }
      }
    }
    groups[group] = (groups[group] ?? 0) + us / 1000;
    if (group !== '(idle)') {
      const key = `${group}: ${leafName || '(anonymous)'} ${leaf.callFrame.url.split('/').slice(-2).join('/')}:${leaf.callFrame.lineNumber + 1}`;
      functions[key] = (functions[key] ?? 0) + us / 1000;
    }
  }
  const top = Object.entries(functions)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 15)
    .map(([key, ms]) => ({ fn: key, ms: Number(ms.toFixed(2)) }));
  return { groupsMs: Object.fromEntries(Object.entries(groups).map(([key, ms]) => [key, Number(ms.toFixed(2))])), top };
}

// ---------------------------------------------------------------------------------------------
// The driver: prepares the variants, runs the children, summarises.

function variantRoot() {
  return '/tmp/heapwatch-at-rest';
}

function prepareVariant(variant, baseDist) {
  const patches = VARIANTS[variant];
  if (!patches) throw new Error(`Unknown variant "${variant}": one of ${Object.keys(VARIANTS).join(', ')}`);
  const dir = join(variantRoot(), variant);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  cpSync(baseDist, join(dir, 'dist'), { recursive: true });
  // ESM (the package's "type": "module") and the same node_modules, so prom-client and
  // @datadog/pprof resolve to the very instances the app uses.
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `heapwatch-at-rest-${variant}`, type: 'module' }));
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  for (const [file, text, replacement] of patches) {
    const path = join(dir, 'dist', file);
    const source = readFileSync(path, 'utf8');
    const count = source.split(text).length - 1;
    if (count !== 1) throw new Error(`Variant ${variant}: "${text}" occurs ${count} times in ${file} (expected once)`);
    writeFileSync(path, source.replace(text, replacement));
  }
  return dir;
}

function spawnChild(flags, config, slot) {
  const nodeFlags = flags['node-flags'] ? flags['node-flags'].split(' ').filter(Boolean) : [];
  const childArgs = [
    ...nodeFlags,
    fileURLToPath(import.meta.url),
    `--child=${config}`,
    `--seconds=${flags.seconds}`,
    `--requests=${flags.requests}`,
    `--observe-gc=${flags['observe-gc']}`,
    `--instrument=${flags.instrument}`,
    `--profile-rest=${flags['profile-rest']}`,
    `--http=${flags.http}`,
    `--heap-every=${flags['heap-every']}`,
    `--settle=${flags.settle}`,
    `--dist=${flags.dist}`,
    `--out=${flags.out}`,
  ];
  const [command, args] = flags.pin === '1' ? ['taskset', ['-c', String(slot % 2), flags.node, ...childArgs]] : [flags.node, childArgs];
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'], cwd: ROOT });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => (stdout += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const line = stdout.split('\n').find((candidate) => candidate.startsWith(RESULT_MARK));
      if (!line) {
        reject(new Error(`${config} exited with ${code} and no result; stdout tail: ${stdout.slice(-2000)}`));
        return;
      }
      const result = JSON.parse(line.slice(RESULT_MARK.length));
      if (nodeFlags.includes('--trace-gc')) result.traceGc = parseTraceGc(stdout, result);
      resolvePromise(result);
    });
  });
}

/**
 * The --trace-gc lines of the rest: `[pid:0x…]   12345 ms: Scavenge 10.2 (12.3) -> 9.8 (13.3) MB, …
 * <reason>`. V8 stamps them with its isolate's milliseconds since start, the child its rest
 * with performance.now() (from the process's time origin, a few ms earlier): good to ~0.1 s.
 */
function parseTraceGc(stdout, result) {
  const lines = [];
  const restEnd = result.heap.at(-1).t; // ms from rest start
  // The rest's start, in performance.now() time (close to the isolate's clock).
  const restStartNow = result.restStartNow;
  for (const line of stdout.split('\n')) {
    const match = /^\[\d+:0x[0-9a-f]+\]\s+(\d+) ms: (Scavenge|Mark-Compact|Minor Mark-Compact|Mark-Sweep|Mark-Compact \(reduce\)|Minor Mark-Sweep)[^,]*?([\d.]+) \(([\d.]+)\) -> ([\d.]+) \(([\d.]+)\) MB, (?:pooled: [\d.]+ MB, )?([\d.]+) \/ ([\d.]+) ms\s*(.*)$/.exec(line);
    if (!match) continue;
    const at = Number(match[1]) - restStartNow;
    if (at < 0 || at > restEnd) continue;
    const tail = match[9];
    const mu = tail.indexOf('current mu');
    const reason = (mu >= 0 ? tail.slice(tail.indexOf(')', mu) + 1) : tail).replace(/[;\s]*$/, '').trim();
    lines.push({ t: at, type: match[2], fromMB: Number(match[3]), toMB: Number(match[5]), ms: Number(match[7]), reason, line: line.trim() });
  }
  return lines;
}

function quantiles(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
  return { median, min: sorted[0], max: sorted.at(-1), n: sorted.length };
}

function cell(values, digits = 2) {
  const defined = values.filter((value) => value !== undefined && !Number.isNaN(value));
  if (defined.length === 0) return '–';
  const { median, min, max } = quantiles(defined);
  return `${median.toFixed(digits)} [${min.toFixed(digits)}–${max.toFixed(digits)}]`;
}

function summarise(results, flags) {
  const byConfig = new Map();
  for (const result of results) {
    if (!byConfig.has(result.config)) byConfig.set(result.config, []);
    byConfig.get(result.config).push(result);
  }
  const lines = [];
  lines.push(`Node ${results[0]?.node}, rest ${flags.seconds} s${Number(flags.settle) > 0 ? ` (from ${flags.settle} s after the load)` : ''} after ${flags.requests} /json requests (${flags.http === '1' ? 'HTTP on 127.0.0.1' : 'injected in-process'}), ` +
    `${flags.pin === '1' ? 'each process pinned to one core' : 'unpinned'}, gc observer ${flags['observe-gc'] === '1' ? 'on' : 'off'}; median [min–max] over n processes.`);
  lines.push('');
  lines.push('| configuration | n | CPU ms/s (cpuUsage) | /proc stat ms/s | main ms/s | V8 workers ms/s | other threads ms/s | main wakeups/s | minor GCs | major GCs | GC entries ms (wall) | forced GCs | readings | clean readings | tick ms | used heap end MB |');
  lines.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const [config, runs] of byConfig) {
    const thread = (run, name) => run.threads[name]?.msPerS ?? 0;
    const others = (run) => Object.entries(run.threads).filter(([name]) => name !== 'main' && name !== 'V8Worker').reduce((sum, [, value]) => sum + value.msPerS, 0);
    const gcN = (run, kind) => (run.gc[kind]?.n ?? 0);
    const tickMs = runs.flatMap((run) => run.heapwatch?.ticks.map((tick) => tick.ms) ?? []);
    lines.push(
      `| ${config} | ${runs.length} | ${cell(runs.map((run) => run.cpuMsPerS))} | ${cell(runs.map((run) => run.procStatMsPerS))} | ${cell(runs.map((run) => thread(run, 'main')))} | ${cell(runs.map((run) => thread(run, 'V8Worker')))} | ${cell(runs.map(others))} | ` +
        `${cell(runs.map((run) => run.threads.main?.slicesPerS), 1)} | ${cell(runs.map((run) => gcN(run, 'minor') + gcN(run, 'minor(forced)')), 0)} | ${cell(runs.map((run) => gcN(run, 'major')), 0)} | ${cell(runs.map((run) => run.gcEntries.reduce((sum, entry) => sum + entry.ms, 0)), 1)} | ` +
        `${runs[0].heapwatch ? cell(runs.map((run) => run.heapwatch.forcedGcs), 0) : '–'} | ${runs[0].heapwatch ? cell(runs.map((run) => run.heapwatch.readings), 0) : '–'} | ` +
        `${runs[0].heapwatch ? cell(runs.map((run) => run.heapwatch.cleanReadings), 0) : '–'} | ${tickMs.length ? cell(tickMs) : '–'} | ${cell(runs.map((run) => run.heap.at(-1).usedMB), 1)} |`,
    );
  }
  return lines.join('\n');
}

async function runDriver(flags) {
  const configs = flags.configs.split(',').filter(Boolean);
  const runs = Number(flags.runs);
  const parallel = Math.max(1, Number(flags.parallel));
  const baseDist = flags.dist || join(ROOT, 'dist');
  for (const variant of new Set(configs.map((config) => config.split('@')[1]).filter(Boolean))) prepareVariant(variant, baseDist);
  // Interleaved: run 1 of every configuration, then run 2 of every one… so that a drift of the
  // machine's load spreads over all of them.
  const queue = [];
  for (let run = 0; run < runs; run++) for (const config of configs) queue.push(config);
  const results = [];
  let slot = 0;
  const worker = async (mySlot) => {
    while (queue.length) {
      const config = queue.shift();
      const result = await spawnChild(flags, config, mySlot);
      results.push(result);
      process.stderr.write(`${config}: ${result.cpuMsPerS.toFixed(2)} ms/s (main ${(result.threads.main?.msPerS ?? 0).toFixed(2)}, V8 workers ${(result.threads.V8Worker?.msPerS ?? 0).toFixed(2)})` +
        `${result.heapwatch ? `, readings ${result.heapwatch.readings}, forced GCs ${result.heapwatch.forcedGcs}` : ''}, gc ${JSON.stringify(Object.fromEntries(Object.entries(result.gc).map(([k, v]) => [k, v.n])))}\n`);
    }
  };
  // Staggered starts, so that the loads of two processes seldom overlap.
  const workers = [];
  for (let i = 0; i < parallel; i++) {
    workers.push(worker(slot++));
    await new Promise((resolvePromise) => setTimeout(resolvePromise, Math.min(10_000, (Number(flags.seconds) * 1000) / parallel)));
  }
  await Promise.all(workers);
  const ordered = configs.flatMap((config) => results.filter((result) => result.config === config));
  console.log(summarise(ordered, flags));
  if (flags.out) {
    writeFileSync(flags.out, JSON.stringify({ flags, results: ordered }, null, 1));
    console.log(`\nRaw results: ${flags.out}`);
  }
}

const flags = parseArgs(process.argv.slice(2));
if (flags.child) await runChild(flags);
else await runDriver(flags);
