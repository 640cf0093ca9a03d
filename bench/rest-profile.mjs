// Where heapwatch's CPU goes in a process at rest after a load: one process, `app.use(heapwatch())`
// (or the bare app), --requests of /json injected, then --rest-seconds without a request, with a
// CPU profile of the rest (the inspector's, sampling every --profile-us) and the CPU of every
// thread from /proc. bench/cross-process.mjs measures the cost at rest beside the peer; this says
// what in heapwatch makes it.
//
//   node bench/rest-profile.mjs [--config=heapwatch|bare] [--requests=3000] [--rest-seconds=120] [--profile-us=250]
import { Session } from 'node:inspector/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import express from 'express';
import { parseFlags } from './lib/cli.mjs';
import { inject } from './lib/inject.mjs';
import { threadCpu } from './lib/proc-cpu.mjs';
import { addBenchRoutes } from './lib/routes.mjs';

const flags = parseFlags(process.argv.slice(2), { config: 'heapwatch', requests: '3000', 'rest-seconds': '120', 'profile-us': '250' });
const app = express();
let watch;
if (flags.config === 'heapwatch') {
  const { heapwatch } = await import('heapwatch');
  watch = heapwatch();
  app.use(watch);
}
addBenchRoutes(app);
for (let i = 0; i < Number(flags.requests); i++) await inject(app, '/json');


await sleep(2000);
// --profile-us=0: no profile, the CPU alone (the profiler's own sampling costs the main thread ~20 ms/s).
const profiling = Number(flags['profile-us']) > 0;
const session = new Session();
if (profiling) {
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: Number(flags['profile-us']) });
}
const before = watch?.monitor.stats();
const cpuBefore = threadCpu();
if (profiling) await session.post('Profiler.start');
const restMs = Number(flags['rest-seconds']) * 1000;
await sleep(restMs);
const { profile } = profiling ? await session.post('Profiler.stop') : { profile: { nodes: [], samples: [], timeDeltas: [] } };
const cpuAfter = threadCpu();
const after = watch?.monitor.stats();

// Self time per function, over the rest, without the idle and the profiler's own program node.
const self = new Map();
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const dt = new Map();
profile.samples.forEach((id, i) => dt.set(id, (dt.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
for (const [id, us] of dt) {
  const { callFrame } = byId.get(id);
  const key = `${callFrame.functionName || '(anonymous)'} ${callFrame.url.replace(/^.*\/(node_modules|dist)\//, '$1/')}:${callFrame.lineNumber + 1}`;
  self.set(key, (self.get(key) ?? 0) + us);
}
const seconds = restMs / 1000;
console.log(`${process.version} ${flags.config}: at rest ${seconds} s after ${flags.requests} /json`);
const msPerSecond = (kind) => ((cpuAfter[kind] - cpuBefore[kind]) / 1e6 / seconds).toFixed(3);
console.log(`main thread ${msPerSecond('main')} ms/s, V8's workers ${msPerSecond('v8Workers')} ms/s, other threads ${msPerSecond('other')} ms/s (the inspector's profiler thread among them)`);
if (before && after) {
  console.log(`readings ${after.readings - before.readings} (unchanged ${after.unchangedReadings - before.unchangedReadings}), clean ${after.cleanReadings - before.cleanReadings}, forced GCs ${after.requestedGcs - before.requestedGcs}, last tick ${after.lastTickMs.toFixed(2)} ms, sites ${after.trackedSites}`);
}
if (profiling) console.log('self time over the rest (ms), top 25:');
for (const [key, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`${(us / 1000).toFixed(1).padStart(8)}  ${key}`);
process.exit(0);
