import assert from 'node:assert/strict';
import { once } from 'node:events';
import { cp, mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createHeapMonitor } from '../../src/monitor/monitor.js';
import { stopSampling } from '../../src/v8/sampler.js';
import type { SiteReport } from '../../src/log/site-report.js';
import { repoRoot } from '../helpers.js';

const NODE_MAJOR = Number(process.versions.node.split('.')[0]);
const onNode26 = NODE_MAJOR >= 26 ? false : `allocation mode needs Node 26's V8; this is Node ${process.versions.node}`;

/** The part of a second @datadog/pprof (dd-trace's own copy) the test drives. */
interface OtherPprof {
  heap: { start(intervalBytes: number, stackDepth: number, allocations?: boolean): void; stop(): void; profile(): unknown };
}

/**
 * A second copy of @datadog/pprof, as dd-trace brings its own: the package copied into a directory
 * of its own (its native addon loads a second time, from there), its dependencies linked.
 */
async function otherPprof(directory: string): Promise<OtherPprof> {
  const modules = join(directory, 'node_modules');
  await mkdir(join(modules, '@datadog'), { recursive: true });
  await cp(join(repoRoot, 'node_modules/@datadog/pprof'), join(modules, '@datadog/pprof'), { recursive: true });
  for (const dependency of ['node-gyp-build', 'pprof-format', 'source-map']) await symlink(join(repoRoot, 'node_modules', dependency), join(modules, dependency));
  return createRequire(join(directory, 'index.js'))('@datadog/pprof') as OtherPprof;
}

/** Garbage, ~4 MB a tick. */
function churnGarbage(): number {
  let total = 0;
  for (let round = 0; round < 2; round++) {
    const batch: Array<{ id: number; values: number[] }> = [];
    for (let i = 0; i < 20_000; i++) batch.push({ id: i, values: [i, i + 1, i + 2, i + 3] });
    total += batch.length;
  }
  return total;
}

/** A steady cache: 2 000 entries of ~1 KB, each replaced after ten ticks. */
const RING = 2_000;
const ring: number[][] = new Array<number[]>(RING);
let ringNext = 0;
function refreshCache(entries: number): void {
  for (let i = 0; i < entries; i++) ring[ringNext++ % RING] = new Array<number>(120).fill(i);
}

/** A leak, ~300 KB a tick. */
let leaked: { values: number[]; next: unknown } | undefined;
function leakSome(): void {
  for (let i = 0; i < 2_500; i++) leaked = { values: [i, i, i, i, i, i, i, i], next: leaked };
}

test(
  "Node 26, dd-trace's allocation mode started first in another copy of @datadog/pprof: heapwatch shares it, counts its garbage as garbage, and takes each of its uploads for a start-over",
  { skip: onNode26, timeout: 120_000 },
  async (t) => {
    const directory = await mkdtemp(join(tmpdir(), 'heapwatch-other-pprof-'));
    t.after(() => rm(directory, { recursive: true, force: true }));
    const other = await otherPprof(directory);
    const warnings: string[] = [];
    const onWarning = (warning: Error & { code?: string }) => warnings.push(warning.code ?? warning.name);
    process.on('warning', onWarning);
    refreshCache(RING);
    // As dd-trace starts it on Node 26: allocation mode (here at 8 KiB, so that a test sees enough samples).
    other.heap.start(8 * 1024, 64, true);
    const monitor = createHeapMonitor({
      logger: false,
      samplingIntervalBytes: 8 * 1024,
      intervalMs: 100,
      windowMs: 6_000,
      // The cache arrives in heapwatch's first readings: the warm-up covers them.
      warmupMs: Math.round(performance.now()) + 3_000,
      growthThresholdBytes: 512 * 1024,
      forcedGcPauseBudgetMs: 1_000,
      readingBudgetMs: 1_000,
    });
    const raised: string[] = [];
    monitor.on('leak-suspected', (report: SiteReport) => raised.push(report.site.functionName));
    monitor.start();
    let churnLiveMax = 0;
    try {
      for (let tick = 1; tick <= 120; tick++) {
        churnGarbage();
        refreshCache(RING / 10);
        leakSome();
        // dd-trace's upload: a profile, which starts its allocation-mode sampler over.
        if (tick % 25 === 0) other.heap.profile();
        await once(monitor, 'reading');
        churnLiveMax = Math.max(churnLiveMax, monitor.sites().find((site) => site.site.functionName === 'churnGarbage')?.liveBytes ?? 0);
      }
      await new Promise((resolve) => setImmediate(resolve));
      assert.ok(warnings.includes('HEAPWATCH_W_SAMPLER_SHARED'), warnings.join(', '));
      assert.ok(warnings.includes('HEAPWATCH_W_SAMPLER_ALLOCATION_MODE'), warnings.join(', '));
      assert.equal(monitor.allocationsUnavailable, undefined, "the other tool's allocation mode gives heapwatch allocation data");
      const top = monitor.allocatingSites(3);
      assert.equal(top[0]?.site.functionName, 'churnGarbage', top.map((site) => site.site.functionName).join(', '));
      // ~4 MB of garbage a tick, all collected: what a live reading holds of it is next to nothing.
      assert.ok(churnLiveMax < 512 * 1024, `the garbage counted live: ${churnLiveMax} B at most`);
      const { samplerRestarts } = monitor.stats();
      assert.ok(samplerRestarts >= 3, `start-overs seen: ${samplerRestarts} (4 uploads)`);
      assert.ok(!raised.includes('refreshCache'), `raised: ${raised.join(', ')}`);
      assert.ok(raised.includes('leakSome'), `raised: ${raised.join(', ')}`);
    } finally {
      process.off('warning', onWarning);
      monitor.stop();
      stopSampling();
      other.heap.stop();
    }
  },
);
