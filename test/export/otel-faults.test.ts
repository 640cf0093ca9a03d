import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import type { BatchObservableCallback, Meter, MeterProvider } from '@opentelemetry/api';
import { MeterProvider as SdkMeterProvider, MetricReader, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import type { PushMetricExporter } from '@opentelemetry/sdk-metrics';
import express from 'express';
import { Registry } from 'prom-client';
import { heapwatch } from '../../src/index.js';
import type { ReadingTiming } from '../../src/index.js';
import { listen, nextReadings, pageSeries } from '../helpers.js';
import { keepRequesting } from '../load.js';

const warnings: string[] = [];
process.on('warning', (warning: Error & { code?: string }) => warnings.push(warning.code ?? ''));

/** A reader the test collects from when it wants. */
class CollectingReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/** An app with heapwatch on `meterProvider`; its /metrics page and a route /hello. */
async function serve(t: TestContext, meterProvider: MeterProvider) {
  const registry = new Registry();
  const watch = heapwatch({ meterProvider, registry, logger: false, intervalMs: 100, windowMs: 2000, samplingIntervalBytes: 16 * 1024 });
  const app = express();
  app.use(watch);
  app.get('/hello', (_req, res) => {
    res.send('hello');
  });
  const server = await listen(app);
  t.after(() => (watch.stop(), server.close()));
  const otelErrors = async (): Promise<number> => {
    const page = await (await fetch(`${server.base}/metrics`)).text();
    return pageSeries(page, 'heapwatch_otel_errors_total')[0]?.value ?? Number.NaN;
  };
  return { watch, base: server.base, otelErrors };
}

/** Readings while requests go on: every request must be answered 200, and no reading may fail. */
async function readingsUnderLoad(base: string, monitor: Parameters<typeof nextReadings>[0], count: number): Promise<void> {
  const readings = nextReadings<ReadingTiming>(monitor as never, count);
  const { sent, failed } = await keepRequesting(`${base}/hello`, readings);
  assert.ok(sent > 0);
  assert.equal(failed, 0, 'every request was served');
  assert.deepEqual((await readings).filter((timing) => timing.failed), [], 'no reading failed');
}

test('a MeterProvider whose getMeter() throws: heapwatch() still starts, the app serves every request, Prometheus is served, the fault is counted and warned once', async (t) => {
  const broken: MeterProvider = {
    getMeter(): Meter {
      throw new Error('meter provider torn down');
    },
  };
  const before = warnings.filter((code) => code === 'HEAPWATCH_W_OTEL_FAILED').length;
  const { watch, base, otelErrors } = await serve(t, broken);
  await readingsUnderLoad(base, watch.monitor, 3);
  assert.equal(await otelErrors(), 1, 'counted once: heapwatch tried once');
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(warnings.filter((code) => code === 'HEAPWATCH_W_OTEL_FAILED').length - before, 1, 'warned once, with its code');
  assert.ok(watch.monitor.stats().readings >= 3);
});

test("a real SDK MeterProvider whose meter throws inside heapwatch's batch callback: every collection goes on, each failed callback is counted, the app serves every request", async (t) => {
  const reader = new CollectingReader();
  const sdk = new SdkMeterProvider({ readers: [reader] });
  t.after(() => sdk.shutdown());
  // A vendor wrapper around the SDK whose observe() is broken (a bad attribute hook, say).
  const wrapped: MeterProvider = {
    getMeter(name, version, options) {
      const meter = sdk.getMeter(name, version, options);
      return new Proxy(meter, {
        get(target, property, receiver) {
          if (property !== 'addBatchObservableCallback') return Reflect.get(target, property, receiver) as unknown;
          return (callback: BatchObservableCallback, observables: Parameters<Meter['addBatchObservableCallback']>[1]) =>
            target.addBatchObservableCallback(
              () =>
                callback({
                  observe() {
                    throw new Error('attribute hook failed');
                  },
                }),
              observables,
            );
        },
      });
    },
  };
  const { watch, base, otelErrors } = await serve(t, wrapped);
  const before = await otelErrors();
  const collections = (async () => {
    await nextReadings(watch.monitor, 1);
    for (let i = 0; i < 3; i++) {
      const { errors } = await reader.collect();
      assert.deepEqual(errors, [], 'the SDK saw no callback throw: heapwatch caught it');
    }
    await nextReadings(watch.monitor, 2);
  })();
  const { sent, failed } = await keepRequesting(`${base}/hello`, collections);
  await collections;
  assert.ok(sent > 0);
  assert.equal(failed, 0, 'every request was served');
  assert.equal((await otelErrors()) - before, 3, 'one count per failed callback');
  assert.equal(watch.monitor.stats().readingErrors, 0, 'readings are not affected');
});

test('a real SDK MeterProvider whose exporter throws at every export: the SDK keeps it to itself; heapwatch reads on, counts nothing of its own, the app serves every request', async (t) => {
  let exports = 0;
  const exporter: PushMetricExporter = {
    export() {
      exports++;
      throw new Error('collector unreachable');
    },
    forceFlush: async () => {},
    shutdown: async () => {},
  };
  const sdk = new SdkMeterProvider({ readers: [new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 100, exportTimeoutMillis: 50 })] });
  t.after(() => sdk.shutdown().catch(() => {}));
  const { watch, base, otelErrors } = await serve(t, sdk);
  const before = await otelErrors();
  const uncaught: unknown[] = [];
  const onUncaught = (error: unknown): number => uncaught.push(error);
  process.on('uncaughtException', onUncaught);
  t.after(() => process.off('uncaughtException', onUncaught));
  // Exports every 100 ms: wait for several of them, while readings and requests go on.
  const enoughExports = (async () => {
    while (exports < 4) await nextReadings(watch.monitor, 1);
  })();
  const { sent, failed } = await keepRequesting(`${base}/hello`, enoughExports);
  assert.ok(sent > 0);
  assert.equal(failed, 0, 'every request was served');
  assert.ok(exports >= 4, 'the exporter was called, and threw, again and again');
  assert.deepEqual(uncaught, [], 'nothing reached the process');
  assert.equal(watch.monitor.stats().readingErrors, 0);
  assert.equal((await otelErrors()) - before, 0, "the exporter's failure is the SDK's to report, not heapwatch's");
});
