import assert from 'node:assert/strict';
import { once } from 'node:events';
import { afterEach, test } from 'node:test';
import { stopSampling } from '../../src/v8/sampler.js';
import { createHeapMonitor } from '../../src/monitor/monitor.js';
import type { SiteReport } from '../../src/log/site-report.js';

const NODE_MAJOR = Number(process.versions.node.split('.')[0]);
const onNode26 = NODE_MAJOR >= 26 ? false : `allocation mode needs Node 26's V8; this is Node ${process.versions.node}`;

afterEach(() => stopSampling());

/** Garbage: ~4 MB a tick, so that V8's store of collected samples passes heapwatch's bound every few seconds. */
function churn(): number {
  let total = 0;
  for (let round = 0; round < 2; round++) {
    // Kept in a batch until the round ends, so that the compiler cannot elide them.
    const batch: Array<{ id: number; values: number[] }> = [];
    for (let i = 0; i < 20_000; i++) batch.push({ id: i, values: [i, i + 1, i + 2, i + 3] });
    total += batch.length;
  }
  return total;
}

/** A cache at its steady state: RING entries of ~1 KB, each replaced after about ten ticks. */
const RING = 2_000;
const ring: number[][] = new Array<number[]>(RING);
let ringNext = 0;
function cacheEntry(value: number): number[] {
  return new Array<number>(120).fill(value);
}
function turnOver(entries: number): void {
  for (let i = 0; i < entries; i++) ring[ringNext++ % RING] = cacheEntry(i);
}

/** A leak: ~300 KB a tick kept on a linked list. */
interface Kept {
  readonly values: readonly number[];
  readonly next: Kept | undefined;
}
let leaked: Kept | undefined;
function leakSome(): void {
  for (let i = 0; i < 2_500; i++) leaked = { values: [i, i, i, i, i, i, i, i], next: leaked };
}

test(
  "Node 26: when V8's sampler starts over (allocation mode), a steady cache refilling is no leak, and a leak suspected before stays suspected",
  { skip: onNode26, timeout: 120_000 },
  async () => {
    turnOver(RING); // the cache is full before heapwatch starts
    // heapwatch sees the full cache arrive in its first readings, as after a start-over: the
    // warm-up covers those (a cache still turns over in ten ticks), and the sampler starts over
    // only after it (the 50 000 collected samples take ~30 ticks).
    const warmupMs = Math.round(performance.now()) + 5_000;
    const monitor = createHeapMonitor({
      logger: false,
      allocations: true,
      samplingIntervalBytes: 4 * 1024,
      intervalMs: 100,
      windowMs: 6_000,
      warmupMs,
      growthThresholdBytes: 256 * 1024,
      forcedGcPauseBudgetMs: 1_000,
      // Readings walk V8's store of collected samples (up to 50 000): slow here, and the test wants every tick read.
      readingBudgetMs: 1_000,
    });
    const raised: string[] = [];
    const cleared: string[] = [];
    monitor.on('leak-suspected', (report: SiteReport) => raised.push(report.site.functionName));
    monitor.on('leak-cleared', (report: SiteReport) => cleared.push(report.site.functionName));
    monitor.start();
    let cacheHeld = 0;
    let leakRaisedAtRestarts: number | undefined;
    // With inlining, the cache's entries may be charged to turnOver.
    const isCache = (name: string) => name === 'cacheEntry' || name === 'turnOver';
    try {
      for (let tick = 0; tick < 400 && (leakRaisedAtRestarts === undefined || monitor.stats().samplerRestarts < leakRaisedAtRestarts + 2); tick++) {
        churn();
        turnOver(RING / 10);
        leakSome();
        await once(monitor, 'reading');
        cacheHeld = Math.max(cacheHeld, monitor.sites().find((site) => isCache(site.site.functionName))?.liveBytes ?? 0);
        if (leakRaisedAtRestarts === undefined && raised.includes('leakSome')) leakRaisedAtRestarts = monitor.stats().samplerRestarts;
      }
      const stats = monitor.stats();
      assert.ok(leakRaisedAtRestarts !== undefined, `the leak was raised: ${raised.join(', ')} (${stats.readings} readings)`);
      assert.ok(stats.samplerRestarts >= leakRaisedAtRestarts + 2, `the sampler started over ${stats.samplerRestarts} times, ${leakRaisedAtRestarts} before the leak was raised`);
      // After each start-over the cache refilled by more than a suspicion needs over the shortest horizon.
      assert.ok(cacheHeld > 4 * 256 * 1024, `the cache held ${cacheHeld} B at most`);
      assert.deepEqual(raised.filter(isCache), [], `raised: ${raised.join(', ')}`);
      assert.ok(!cleared.includes('leakSome'), `cleared: ${cleared.join(', ')}`);
      assert.ok(monitor.suspects().some((site) => site.site.functionName === 'leakSome'), 'the leak is still suspected after the start-overs');
    } finally {
      monitor.stop();
    }
  },
);
