import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { metrics } from '@opentelemetry/api';
import { AggregationTemporality, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import type { CollectionResult } from '@opentelemetry/sdk-metrics';
import { Registry } from 'prom-client';
import { heapwatch, OtelInstrument } from '../../src/index.js';
import { containerMemoryLimitBytes } from '../../src/monitor/container-limit.js';
import { nextReadings, repoRoot } from '../helpers.js';
import { receivedMetricNames, startReceiver } from '../otlp-receiver.js';

/** A reader the test collects from itself. */
class CollectingReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

/** The names of meter `heapwatch`'s instruments that have points in a collection. */
function heapwatchInstruments(result: CollectionResult): string[] {
  const scope = result.resourceMetrics.scopeMetrics.find((scopeMetrics) => scopeMetrics.scope.name === 'heapwatch');
  return (scope?.metrics ?? []).filter((metric) => metric.dataPoints.length > 0).map((metric) => metric.descriptor.name).sort();
}

/**
 * Every instrument with points: the container's memory limit has one only under a limit (the
 * children here run in this process's cgroup), and the routes of suspects none without a suspect.
 */
const everyInstrument = Object.values(OtelInstrument)
  .filter((name) => name !== OtelInstrument.siteRouteLive)
  // Points only in allocation mode (`allocations: true`, Node 26), off here.
  .filter((name) => name !== OtelInstrument.siteAllocated && name !== OtelInstrument.siteAllocatedObjects)
  .filter((name) => name !== OtelInstrument.memoryLimit || containerMemoryLimitBytes() !== undefined)
  .sort();

/** Kept alive for the whole file, so that every reading has sites to report (~3 MB). */
const retained = Array.from({ length: 50_000 }, (_, i) => ({ i, label: `order-${i}` }));
const options = { logger: false, intervalMs: 200, windowMs: 4000, samplingIntervalBytes: 32 * 1024 } as const;

/** A MeterProvider whose reader has delta temporality: a collection holds only what was observed since the last. */
function deltaProvider(): { provider: MeterProvider; reader: CollectingReader } {
  const reader = new CollectingReader({ aggregationTemporalitySelector: () => AggregationTemporality.DELTA });
  return { provider: new MeterProvider({ readers: [reader] }), reader };
}

test('an SDK registered globally after heapwatch() gets the instruments at the next reading, and a replacement takes them over', async (t) => {
  const watch = heapwatch({ ...options, registry: new Registry() });
  const first = deltaProvider();
  const second = deltaProvider();
  t.after(async () => {
    watch.stop();
    metrics.disable();
    await Promise.all([first.provider.shutdown(), second.provider.shutdown()]);
  });
  await nextReadings(watch.monitor, 1);

  // The order of an app that builds its Express app, then starts its SDK in main.
  assert.ok(metrics.setGlobalMeterProvider(first.provider), 'the SDK is the global provider');
  assert.deepEqual(heapwatchInstruments(await first.reader.collect()), [], 'nothing yet: heapwatch looks at its next reading');
  await nextReadings(watch.monitor, 2);
  assert.deepEqual(heapwatchInstruments(await first.reader.collect()), everyInstrument);

  // The SDK is shut down and another registered: the instruments move, the first sees no more.
  metrics.disable();
  metrics.setGlobalMeterProvider(second.provider);
  await nextReadings(watch.monitor, 2);
  assert.deepEqual(heapwatchInstruments(await second.reader.collect()), everyInstrument);
  // The reading that noticed the change was still recorded in the first one's histogram.
  await first.reader.collect();
  await nextReadings(watch.monitor, 2);
  assert.deepEqual(heapwatchInstruments(await first.reader.collect()), [], 'the replaced provider is no longer observed');
});

test('an SDK registered before heapwatch() gets the instruments at once', async (t) => {
  const { provider: meterProvider, reader } = deltaProvider();
  metrics.setGlobalMeterProvider(meterProvider);
  const watch = heapwatch({ ...options, registry: new Registry() });
  t.after(async () => {
    watch.stop();
    metrics.disable();
    await meterProvider.shutdown();
  });
  // Live objects allocated while the sampler runs, so that the first reading has sites to report
  // (what the module kept before was allocated before sampling started, and V8 never saw it).
  const keptSinceStart = Array.from({ length: 20_000 }, (_, i) => ({ i, label: `order-${i}` }));
  await nextReadings(watch.monitor, 1);
  assert.deepEqual(heapwatchInstruments(await reader.collect()), everyInstrument);
  assert.equal(keptSinceStart.length, 20_000);
  watch.stop();
  assert.deepEqual(heapwatchInstruments(await reader.collect()), [], 'stop() removes them');
});

test('@opentelemetry/sdk-node started with --import before the app: heapwatch instruments reach its OTLP exporter', async (t) => {
  const receiver = await startReceiver();
  const child = spawn(process.execPath, ['--import', './test/fixtures/otel-sdk-setup.mjs', 'test/fixtures/otel-app.mjs'], {
    cwd: repoRoot,
    env: { ...process.env, OTLP_METRICS_URL: receiver.url },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.after(() => {
    child.kill('SIGKILL');
    receiver.close();
  });
  const [firstLine] = (await once(child.stdout, 'data')) as [Buffer];
  assert.match(firstLine.toString(), /^port=\d+/, 'the app started');

  // Exports every 300 ms: wait until heapwatch's readings (every 200 ms) have been exported.
  const wanted = everyInstrument;
  for (let waitedMs = 0; waitedMs < 20_000; waitedMs += 100) {
    if (wanted.every((name) => receivedMetricNames(receiver.requests, 'heapwatch').has(name))) break;
    await sleep(100);
  }
  assert.deepEqual([...receivedMetricNames(receiver.requests, 'heapwatch')].sort(), wanted);
  assert.equal(retained.length, 50_000);
});
