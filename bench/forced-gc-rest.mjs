// What a forced full GC does to V8's young generation, by when it comes: right after the process
// allocated, or after it rested. One process, an Express app (the bench routes), 3 000 /json
// requests of warm-up, then phases of 32 batches of 200 requests every 310 ms (30 % busy, as
// bench/young-generation.mjs); in a GC phase, after the fifth batch the process rests REST_MS
// (default 3 000) and then the GC is asked for:
//   direct — V8's gc({ type: 'major', execution: 'async' }) at once, as heapwatch did;
//   gated  — through heapwatch's AllocationGate (src/monitor/allocation-gate.ts), which holds it
//            until the process is seen allocating (the next batch), as heapwatch does now.
// Each GC phase is followed by a control phase without one. Prints, per phase, the new space's
// size before and after the GC and V8's scavenges and major GCs over the phase (counts, which a
// loaded machine does not blur). npm run build first.
//   node bench/forced-gc-rest.mjs [rounds=2]
import { PerformanceObserver, constants } from 'node:perf_hooks';
import v8 from 'node:v8';
import express from 'express';
import { AllocationGate } from '../dist/monitor/allocation-gate.js';
import { requestFullGc } from '../dist/v8/gc-events.js';
import { inject } from './lib/inject.mjs';
import { addBenchRoutes } from './lib/routes.mjs';

const rounds = Number(process.argv[2] ?? 2);
const restMs = Number(process.env.REST_MS ?? 3000);
const app = express();
addBenchRoutes(app);
let n = 0;
const newSpaceMiB = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size / 2 ** 20;
async function batch(k) {
  for (let i = 0; i < k; i++) {
    await inject(app, `/json?i=${n++}`);
    if (i % 10 === 9) await new Promise(setImmediate);
  }
}
let scavenges = 0;
let majors = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    if (entry.detail.kind === constants.NODE_PERFORMANCE_GC_MINOR) scavenges++;
    else if (entry.detail.kind === constants.NODE_PERFORMANCE_GC_MAJOR) majors++;
  }
}).observe({ entryTypes: ['gc'] });

const gcNow = () => new Promise((resolve) => requestFullGc(() => resolve()));
const gate = new AllocationGate(() => 10_000);
let gcDone;
const ask = {
  direct: async () => {
    await gcNow();
    return newSpaceMiB();
  },
  gated: async () => {
    // The gate fires once the next batch allocates: the size is read once the GC is done.
    gcDone = new Promise((resolve) => gate.whenAllocating(() => requestFullGc(() => resolve(newSpaceMiB()))));
    return undefined;
  },
};

async function phase(label, gc) {
  scavenges = 0;
  majors = 0;
  let before;
  let after;
  for (let c = 0; c < 32; c++) {
    const start = Date.now();
    await batch(200);
    if (c === 4 && gc) {
      await new Promise((resolve) => setTimeout(resolve, restMs));
      before = newSpaceMiB();
      after = await gc();
    }
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, 310 - (Date.now() - start))));
  }
  if (gc && after === undefined) after = await gcDone;
  const sizes = gc ? `${before.toFixed(1)} → ${after.toFixed(1)} MiB` : '';
  console.log(`| ${label} | ${sizes} | ${scavenges} | ${majors} | ${newSpaceMiB().toFixed(1)} MiB |`);
}

await batch(3000);
console.log(`Node ${process.version}, rest before the GC ${restMs} ms, 6 400 requests per phase\n`);
console.log('| phase | new space at the GC | scavenges | major GCs | new space at the end |');
console.log('|---|---|---|---|---|');
for (let r = 0; r < rounds; r++) {
  for (const mode of ['direct', 'gated']) {
    await phase(mode, ask[mode]);
    await phase('control', undefined);
  }
}
process.exit(0);
