// The cost of the route in the verdict (docs/frameworks.md): an Express app with N routes, each
// handler its own function, one of them leaking; after the leak is suspected, the main-thread time
// of monitor.routesOf(key) the first time (every handler's position read through the inspector)
// and on each later reading (positions cached: one pass over the site's stacks).
//   npm run build && node bench/route-attribution.mjs [--routes=2000]
import express from 'express';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { heapwatch } from '../dist/index.js';

const ROUTES = Number(process.argv.find((a) => a.startsWith('--routes='))?.split('=')[1] ?? 2000);
// A module of N handlers, each a function of its own in a real file, as an application's are.
const file = join(mkdtempSync(join(tmpdir(), 'heapwatch-routes-')), 'handlers.mjs');
const lines = ['export const kept = [];'];
for (let i = 0; i < ROUTES; i++) {
  const leak = i === 0 ? 'kept.push({ id: req.params.id, lines: new Array(1000).fill(req.params.id) }); ' : '';
  lines.push(`export function route${i}(req, res) { ${leak}res.end('ok'); }`);
}
writeFileSync(file, lines.join('\n'));
const handlers = await import(pathToFileURL(file).href);
const app = express();
const watch = heapwatch({ logger: false, intervalMs: 200, windowMs: 4000, growthThresholdBytes: 1024 * 1024, samplingIntervalBytes: 32 * 1024 });
app.use(watch);
for (let i = 0; i < ROUTES; i++) app.get(`/r${i}/:id`, handlers[`route${i}`]);
const server = app.listen(0, '127.0.0.1', async () => {
  const base = `http://127.0.0.1:${server.address().port}`;
  let loading = true;
  (async () => {
    for (let n = 0; loading; n++) {
      await (await fetch(`${base}/r${n % 3 === 0 ? 0 : n % ROUTES}/${n}`)).arrayBuffer();
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  const ticks = [];
  let verdictTick;
  let suspected = false;
  // A tick's 'reading' event comes after its verdicts: the first one after the verdict is its tick.
  watch.monitor.on('reading', ({ durationMs }) => {
    if (suspected && verdictTick === undefined) verdictTick = durationMs;
    else ticks.push(durationMs);
  });
  const report = await new Promise((resolve) => {
    const listener = (suspect) => {
      if (suspect.site.file !== file) return;
      suspected = true;
      watch.monitor.off('leak-suspected', listener);
      resolve(suspect);
    };
    watch.monitor.on('leak-suspected', listener);
  });
  await new Promise((resolve) => watch.monitor.once('reading', resolve));
  const before = ticks.slice(-10).sort((a, b) => a - b);
  const timings = [];
  for (let i = 0; i < 6; i++) {
    await new Promise((resolve) => watch.monitor.once('reading', resolve));
    const start = performance.now();
    const shares = watch.monitor.routesOf(report.key);
    timings.push(performance.now() - start);
    if (i === 5) console.log(`${ROUTES} routes, site ${report.site.functionName}: ${JSON.stringify(shares?.slice(0, 2))}`);
  }
  // The verdict's own call was the first, cold one (timed by the tick: see the reading times).
  console.log(`the verdict's tick (its routes read cold): ${verdictTick.toFixed(1)} ms; ticks before it: median ${before[before.length >> 1]?.toFixed(1)} ms; readings spaced to ${watch.monitor.stats().readingIntervalMs} ms`);
  console.log(`verdict: ${JSON.stringify(report.routes?.slice(0, 2))}; routesOf after each later reading (ms, positions cached): ${timings.map((t) => t.toFixed(2)).join(' ')}`);
  loading = false;
  watch.stop();
  server.close();
});
