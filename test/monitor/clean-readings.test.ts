import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CleanReadings } from '../../src/monitor/clean-readings.js';
import { resolveMonitorOptions } from '../../src/monitor/options.js';
import { allocateWhile } from '../helpers.js';

test('asks V8 for full GCs only while a site rises, six in a row at most, then 36 per window', async () => {
  // A 36 s window refills one full GC per simulated second.
  const options = resolveMonitorOptions({ intervalMs: 10, windowMs: 36_000, logger: false });
  const clean = new CleanReadings(options, { readNow: () => undefined, isProtected: () => false, readingIntervalMs: () => 10 });
  let now = 1_000_000;
  const tick = async () => {
    clean.requestGcIfNeeded(now, 'native', true);
    // The GC waits for the process to allocate (see allocation-gate.ts): allocate, then wait for
    // it to run from a task of V8's before the next simulated tick.
    await allocateWhile(() => (clean as unknown as { gcInFlight: boolean }).gcInFlight);
    now += 100;
  };
  for (let i = 0; i < 5; i++) await tick();
  assert.equal(clean.requestedGcs, 0, 'no site rises: no GC');
  clean.wantedHorizonMs = 60;
  await tick();
  assert.equal(clean.requestedGcs, 0, 'a site that rises at one tick only (the first tick at rest after a load): no GC');
  for (let i = 0; i < 6; i++) await tick();
  assert.equal(clean.requestedGcs, 6, 'six in a row');
  await tick();
  assert.equal(clean.requestedGcs, 6, 'then the bucket is empty');
  for (let i = 0; i < 23; i++) await tick();
  // 3 simulated seconds in all: the six of the burst, and about one more per second.
  assert.ok(clean.requestedGcs >= 8 && clean.requestedGcs <= 9, `${clean.requestedGcs}`);
  const requested = clean.requestedGcs;
  clean.wantedHorizonMs = undefined;
  for (let i = 0; i < 5; i++) await tick();
  assert.equal(clean.requestedGcs, requested, 'none once no site rises');
  assert.equal(clean.taken, 0, 'no reading to take: readNow gave none');
});

test('no full GC at a tick that found V8’s sampler as it was, nor at the first that found it changed again: a process at rest has nothing new to confirm', async () => {
  const options = resolveMonitorOptions({ intervalMs: 10, windowMs: 36_000, logger: false });
  const clean = new CleanReadings(options, { readNow: () => undefined, isProtected: () => false, readingIntervalMs: () => 10 });
  let now = 1_000_000;
  const tick = async (sampled: boolean) => {
    clean.requestGcIfNeeded(now, 'native', sampled);
    await allocateWhile(() => (clean as unknown as { gcInFlight: boolean }).gcInFlight);
    now += 100;
  };
  // The load's garbage still rises over the horizon, at tick after tick, once the load has stopped.
  clean.wantedHorizonMs = 60;
  for (let i = 0; i < 5; i++) await tick(false);
  assert.equal(clean.requestedGcs, 0, 'nothing sampled since the reading before: no GC');
  await tick(true);
  assert.equal(clean.requestedGcs, 0, 'the first tick that finds the process allocating again: V8’s own major GC is due soon, no GC');
  await tick(true);
  assert.equal(clean.requestedGcs, 1, 'sampled at two ticks in a row, and the site still rises: a GC');
  await tick(false);
  await tick(true);
  assert.equal(clean.requestedGcs, 1, 'a rest between two samples: none');
});
