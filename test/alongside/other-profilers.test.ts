import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import Pyroscope from '@pyroscope/nodejs';
import express from 'express';
import { Registry } from 'prom-client';
import { heapwatch } from '../../src/index.js';
import { listen, nextReadings } from '../helpers.js';

/** Pyroscope's own copy of @datadog/pprof (it pins another version than heapwatch's): what it reads with. */
const pyroscopesPprof = createRequire(createRequire(import.meta.url).resolve('@pyroscope/nodejs'))('@datadog/pprof') as {
  heap: { v8Profile(): unknown };
};

const warnings: string[] = [];
process.on('warning', (warning: Error & { code?: string }) => warnings.push(warning.code ?? warning.name));

const kept: unknown[] = [];
/** Retains small objects of many sizes, so that each reading tells the interval it was sampled at. */
function retainOrders(): void {
  for (let length = 1; length <= 24; length++) for (let i = 0; i < 3000; i++) kept.push(new Array(length).fill(i));
}

/** Pyroscope with heap profiling at its defaults (512 KiB), pushing to a sink on loopback. */
async function startPyroscope(): Promise<{ stop(): Promise<void> }> {
  const sink = await listen((req, res) => req.resume().on('end', () => res.end()));
  Pyroscope.init({ serverAddress: sink.base, appName: 'heapwatch-test' });
  Pyroscope.startHeapProfiling();
  return {
    async stop() {
      await Pyroscope.stopHeapProfiling();
      sink.close();
    },
  };
}

async function intervalOnMetricsPage(base: string): Promise<number> {
  const page = await (await fetch(`${base}/metrics`)).text();
  return Number(/^heapwatch_sampling_interval_bytes (\d+)$/m.exec(page)?.[1]);
}

test('Pyroscope heap profiling started first: heapwatch shares its sampler at 512 KiB, never restarts it, and leaves it running', async () => {
  const pyroscope = await startPyroscope();
  // An interval other than Pyroscope's 512 KiB (heapwatch's default too), so that the page tells
  // whose interval V8 samples at.
  const watch = heapwatch({ logger: false, intervalMs: 200, windowMs: 4000, samplingIntervalBytes: 128 * 1024, registry: new Registry() });
  const app = express();
  app.use(watch);
  const server = await listen(app);
  try {
    let interval = 0;
    for (let i = 0; i < 30 && interval !== 512 * 1024; i++) {
      retainOrders();
      await nextReadings(watch.monitor, 1);
      interval = await intervalOnMetricsPage(server.base);
    }
    assert.equal(interval, 512 * 1024, "heapwatch reads at Pyroscope's interval");
    assert.equal(watch.monitor.stats().readingErrors, 0, 'no reading failed: the sampler was never restarted under Pyroscope');
    assert.ok(watch.monitor.sites(1).length > 0, 'heapwatch reports sites from the shared samples');
    await new Promise((resolve) => setImmediate(resolve));
    assert.ok(warnings.includes('HEAPWATCH_W_SAMPLER_SHARED'), 'heapwatch said it shares the sampler');
    assert.ok(!warnings.includes('HEAPWATCH_W_SAMPLER_LOST'));
  } finally {
    watch.stop();
    server.close();
  }
  assert.doesNotThrow(() => pyroscopesPprof.heap.v8Profile(), "Pyroscope's profiler still reads after heapwatch stopped");
  await pyroscope.stop();
});

test('heapwatch first, Pyroscope second: both start, both read the one sampler at heapwatch’s interval, no reading fails', async () => {
  // An interval other than Pyroscope's 512 KiB (heapwatch's default too), so that the page tells
  // whose interval V8 samples at.
  const watch = heapwatch({ logger: false, intervalMs: 200, windowMs: 4000, samplingIntervalBytes: 128 * 1024, registry: new Registry() });
  const pyroscope = await startPyroscope();
  const app = express();
  app.use(watch);
  const server = await listen(app);
  try {
    for (let i = 0; i < 5; i++) {
      retainOrders();
      await nextReadings(watch.monitor, 1);
    }
    assert.equal(await intervalOnMetricsPage(server.base), 128 * 1024, 'V8 kept the interval of the first to start it');
    assert.equal(watch.monitor.stats().readingErrors, 0);
    assert.doesNotThrow(() => pyroscopesPprof.heap.v8Profile(), "Pyroscope's profiler reads the same sampler");
  } finally {
    await pyroscope.stop();
    server.close();
  }
  // Pyroscope's stop() stopped V8's sampler under heapwatch: heapwatch starts it again, once.
  retainOrders();
  await nextReadings(watch.monitor, 2);
  const errors = watch.monitor.stats().readingErrors;
  assert.equal(errors, 1, 'one reading found the sampler stopped');
  await nextReadings(watch.monitor, 2);
  assert.equal(watch.monitor.stats().readingErrors, errors, 'then heapwatch reads again');
  watch.stop();
});
