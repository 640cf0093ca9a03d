// Replays recorded memory figures (bench/unexplained-memory/workload.mjs's output, one JSON line a
// second) through heapwatch's process-level verdict, as the monitor would have judged them:
//   npm run pretest && node bench/unexplained-memory/replay.mjs <dir-of-jsonl> [windowS] [thresholdMiB...]
// For each recording and threshold: whether the verdict was raised, when, and the largest growth
// and the series' own wander seen over the window.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UnexplainedMemoryWatch, unexplainedBytes } from '../../.test-build/src/monitor/unexplained-memory.js';

const MiB = 1024 * 1024;
const [dir = 'bench/results', windowArg = '30', ...thresholds] = process.argv.slice(2);
const windowMs = Number(windowArg) * 1000;
const thresholdsMiB = thresholds.length > 0 ? thresholds.map(Number) : [8, 16, 32];
const figuresOf = (row) => ({ rssBytes: row.rss, heapPhysicalBytes: row.phys, v8MallocedBytes: row.malloced, externalBytes: row.external, arrayBuffersBytes: row.ab });

console.log(
  `window ${windowMs / 1000} s, 1 s readings, no warm-up; native = RSS − V8 heap resident − V8 malloc − ArrayBuffers, and the ArrayBuffer memory judged as if no site held any (no sites here)`,
);
for (const file of readdirSync(dir).filter((name) => name.endsWith('.jsonl')).sort()) {
  const rows = readFileSync(join(dir, file), 'utf8').trim().split('\n').filter(Boolean).map((line) => JSON.parse(line));
  const values = rows.map((row) => unexplainedBytes(figuresOf(row)));
  const cells = [];
  for (const thresholdMiB of thresholdsMiB) {
    let row;
    const watch = new UnexplainedMemoryWatch(
      { intervalMs: 1000, windowMs, windowSlots: windowMs / 1000 + 1, unexplainedGrowthThresholdBytes: thresholdMiB * MiB, warmupEndsAt: 0 },
      () => figuresOf(row),
    );
    let raisedAt;
    let kind;
    let cleared = 0;
    let maxGrowth = Number.NEGATIVE_INFINITY;
    let maxNoise = 0;
    for (row of rows) {
      const change = watch.observe(row.t * 1000);
      if (change === 'raised' && raisedAt === undefined) [raisedAt, kind] = [row.t, watch.current().kind];
      if (change === 'cleared') cleared++;
      const now = watch.current();
      if (now.horizonMs >= windowMs - 1000) {
        maxGrowth = Math.max(maxGrowth, now.growthBytes);
        maxNoise = Math.max(maxNoise, now.noiseBytes);
      }
    }
    cells.push(`${String(thresholdMiB).padStart(2)} MiB: ${raisedAt === undefined ? 'quiet' : `raised (${kind}) at ${raisedAt.toFixed(0)} s`}${cleared ? `, cleared ${cleared}×` : ''}`);
    if (thresholdMiB === thresholdsMiB[0]) cells.unshift(`growth/window ≤ ${Number.isFinite(maxGrowth) ? (maxGrowth / MiB).toFixed(1) : "n/a"} MiB, wander ≤ ${(maxNoise / MiB).toFixed(1)} MiB, range ${(Math.min(...values) / MiB).toFixed(0)}..${(Math.max(...values) / MiB).toFixed(0)} MiB`);
  }
  console.log(`${file.replace(/\.jsonl$/, '').padEnd(26)} ${cells.join(' | ')}`);
}
