import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CleanReadings } from '../../src/monitor/clean-readings.js';
import { FORCED_GC_PAUSE_BUDGET_MS, ForcedGcPause } from '../../src/monitor/forced-gc-pause.js';
import { resolveMonitorOptions } from '../../src/monitor/options.js';
import { usedHeapBytes } from '../../src/v8/gc-events.js';
import { allocateWhile } from '../helpers.js';

const options = resolveMonitorOptions({ intervalMs: 10, windowMs: 36_000, logger: false });
const source = { readNow: () => undefined, isProtected: () => false, readingIntervalMs: () => 10 };

/**
 * Simulated ticks 100 ms apart while a site rises over a 60 ms horizon, after one that only notes
 * it (a site must rise at two ticks in a row); waits for V8's GC task.
 */
async function rising(clean: CleanReadings, ticks: number, start = 1_000_000): Promise<void> {
  clean.wantedHorizonMs = 60;
  if (!(clean as unknown as { wantedBefore: boolean }).wantedBefore) clean.requestGcIfNeeded(start - 50, 'native', true);
  for (let i = 0, now = start; i < ticks; i++, now += 100) {
    clean.requestGcIfNeeded(now, 'native', true);
    // The GC waits for the process to allocate (allocation-gate.ts), then runs from V8's task.
    await allocateWhile(() => (clean as unknown as { gcInFlight: boolean }).gcInFlight);
  }
}

test('the pause budget is 100 ms: forced GCs below 100 MB of used heap, none above', () => {
  assert.equal(FORCED_GC_PAUSE_BUDGET_MS, 100);
  const pause = new ForcedGcPause();
  assert.equal(pause.fits(100e6), true);
  assert.equal(pause.fits(100e6 + 1), false);
  assert.equal(pause.expectedPauseMs(1.2e9), 1200);
});

test("a forced GC's pause is measured from V8's own GC entries", async () => {
  const pause = new ForcedGcPause(Number.MAX_SAFE_INTEGER);
  const clean = new CleanReadings(options, source, pause);
  assert.equal(pause.lastPauseMs, 0);
  await rising(clean, 1);
  assert.equal(clean.requestedGcs, 1);
  assert.equal(clean.skippedGcs, 0);
  assert.ok(pause.lastPauseMs > 0, 'the GC that ran was measured');
});

test("the test process's own heap fits the budget", () => {
  // The detection tests confirm rises with forced GCs: their heaps must stay under the budget.
  assert.ok(new ForcedGcPause().fits(usedHeapBytes()), `${usedHeapBytes()} bytes`);
});

test('a forced GC whose expected pause exceeds the budget is not asked for, and is counted skipped once per spacing', async () => {
  // A budget of 0 ms: any heap is too large. The GC is V8's real one, never asked for here.
  const clean = new CleanReadings(options, source, new ForcedGcPause(0));
  await rising(clean, 10);
  assert.equal(clean.requestedGcs, 0, 'no full GC asked of V8');
  // Ticks 100 ms apart and a spacing of max(interval, horizon / 6) = 10 ms: each tick would have asked.
  assert.equal(clean.skippedGcs, 10);
  clean.wantedHorizonMs = undefined;
  clean.requestGcIfNeeded(2_000_000, 'native', true);
  assert.equal(clean.skippedGcs, 10, 'nothing rises: nothing skipped either');
});

test('forcedGcPauseBudgetMs sets the budget: 0 forces no GC, and a large one lets a large heap have its forced GC', async () => {
  const never = new CleanReadings(resolveMonitorOptions({ intervalMs: 10, windowMs: 36_000, logger: false, forcedGcPauseBudgetMs: 0 }), source);
  await rising(never, 3);
  assert.equal(never.requestedGcs, 0);
  assert.equal(never.skippedGcs, 3);
  // A budget that fits this process's heap at 1 ms per MB, whatever its size today.
  const budgetMs = Math.ceil(usedHeapBytes() / 1e6) + 100;
  const large = new CleanReadings(resolveMonitorOptions({ intervalMs: 10, windowMs: 36_000, logger: false, forcedGcPauseBudgetMs: budgetMs }), source);
  assert.equal(large.pause.budgetMs, budgetMs);
  await rising(large, 1);
  assert.equal(large.requestedGcs, 1);
});

test('skipping leaves the burst of forced GCs intact for when the heap is small again', async () => {
  const pause = new ForcedGcPause(0);
  const clean = new CleanReadings(options, source, pause);
  await rising(clean, 8);
  assert.equal(clean.skippedGcs, 8);
  // The same process with the heap back under budget: a fresh budget object stands for it.
  pause.budgetMs = Number.MAX_SAFE_INTEGER;
  await rising(clean, 6, 1_000_800);
  assert.equal(clean.requestedGcs, 6, 'six in a row: no token was spent on a skipped GC');
});
