// Where a tick's time goes in a process at rest after a load: `app.use(heapwatch())` at its
// defaults in an Express app, --requests of /json injected, then --load-seconds of 200 requests a
// second, then --periods of 10 s at rest (one tick each at the defaults). For each period: the
// main thread's and the other threads' CPU (from /proc), the ticks that repeated V8's reading
// (`unchangedReadings`) and that judged the suspects only (`quietTicks`), and the main-thread time
// of each part of each tick (ms, one figure per call). bench/cross-process.mjs measures the cost at
// rest beside the peer; this says which part of heapwatch's tick makes it.
//
// The parts are timed by wrapping the monitor's internal methods (the built package's, `dist/`):
// a probe of this version's code, not an API.
//
//   node bench/tick-parts.mjs [--requests=3000] [--load-seconds=30] [--periods=10]
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import express from 'express';
import { parseFlags } from './lib/cli.mjs';
import { inject } from './lib/inject.mjs';
import { threadCpu } from './lib/proc-cpu.mjs';
import { addBenchRoutes } from './lib/routes.mjs';

const flags = parseFlags(process.argv.slice(2), { requests: '3000', 'load-seconds': '30', periods: '10' });
const { heapwatch } = await import('heapwatch');
const app = express();
const watch = heapwatch();
app.use(watch);
addBenchRoutes(app);
const monitor = watch.monitor;

/** Main-thread time of each call of a part, per period (ms). */
const parts = new Map();
/** Wraps `owner[method]` so that each call's time is added to `label`'s list. */
function timed(owner, method, label) {
  const original = owner[method].bind(owner);
  owner[method] = (...args) => {
    const started = performance.now();
    try {
      return original(...args);
    } finally {
      if (!parts.has(label)) parts.set(label, []);
      parts.get(label).push(performance.now() - started);
    }
  };
}
const { readings, verdicts } = monitor;
timed(monitor, 'tick', 'tick');
timed(readings.reader, 'readAtTick', 'reading');
timed(readings.reader, 'read', 'of which V8 read and summed');
timed(readings.window, 'push', 'into the window');
timed(verdicts, 'judge', 'judgement');
timed(verdicts, 'judgeUnexplained', 'unexplained memory');
timed(readings.clean, 'requestGcIfNeeded', 'clean readings');

for (let i = 0; i < Number(flags.requests); i++) await inject(app, '/json');
const loadEnds = Date.now() + Number(flags['load-seconds']) * 1000;
while (Date.now() < loadEnds) {
  for (let i = 0; i < 200; i++) await inject(app, '/json');
  await sleep(1000);
}
console.log(`${process.version}: at rest after ${flags.requests} /json and ${flags['load-seconds']} s of 200 a second; ${monitor.stats().trackedSites} sites tracked`);
parts.clear();
let cpu = threadCpu();
let stats = monitor.stats();
for (let period = 0; period < Number(flags.periods); period++) {
  await sleep(10_000);
  const [cpuNow, statsNow] = [threadCpu(), monitor.stats()];
  const ms = (kind) => ((cpuNow[kind] - cpu[kind]) / 1e6).toFixed(2);
  const others = ((cpuNow.other - cpu.other + cpuNow.v8Workers - cpu.v8Workers) / 1e6).toFixed(2);
  const repeated = statsNow.unchangedReadings - stats.unchangedReadings;
  const quiet = statsNow.quietTicks - stats.quietTicks;
  console.log(`${period * 10}–${period * 10 + 10} s: main thread ${ms('main')} ms, other threads ${others} ms; ticks repeating V8's reading ${repeated}, quiet ${quiet}`);
  console.log(`  ${[...parts].map(([label, times]) => `${label} ${times.map((t) => t.toFixed(2)).join('/')}`).join('; ')}`);
  parts.clear();
  [cpu, stats] = [cpuNow, statsNow];
}
process.exit(0);
