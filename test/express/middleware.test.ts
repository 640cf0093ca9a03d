import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import express from 'express';
import express4 from 'express4';
import { Counter, register as globalRegistry, Registry } from 'prom-client';
import { heapwatch, isSampling } from '../../src/index.js';
import type { HeapwatchMiddleware, HeapwatchOptions } from '../../src/index.js';

const quiet = { logger: false, intervalMs: 200, windowMs: 4000 } as const;

/** An app with heapwatch mounted first and two routes of its own, listening on loopback. */
async function startApp(
  createApp: typeof express,
  middleware: HeapwatchMiddleware,
): Promise<{ base: string; server: Server }> {
  const app = createApp();
  app.use(middleware);
  app.get('/hello', (_req, res) => {
    res.set('X-App', 'yes').send('hello from the app');
  });
  app.post('/metrics', (_req, res) => {
    res.status(201).send('the app handles POST /metrics');
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

for (const [name, createApp] of [
  ['Express 5', express],
  ['Express 4', express4 as unknown as typeof express],
] as const) {
  test(`${name}: serves /metrics with heapwatch's metrics and passes every other request to the app untouched`, async (t) => {
    const registry = new Registry();
    const middleware = heapwatch({ ...quiet, registry });
    const { base, server } = await startApp(createApp, middleware);
    t.after(() => {
      middleware.stop();
      server.close();
    });

    const page = await fetch(`${base}/metrics`);
    assert.equal(page.status, 200);
    assert.equal(page.headers.get('content-type'), registry.contentType);
    const text = await page.text();
    assert.match(text, /^# TYPE heapwatch_site_live_bytes gauge$/m);
    assert.match(text, /^heapwatch_sampling_interval_bytes 524288$/m);
    assert.match(text, /^process_cpu_user_seconds_total /m, "prom-client's default metrics are on the page");

    const hello = await fetch(`${base}/hello`);
    assert.equal(hello.status, 200);
    assert.equal(hello.headers.get('x-app'), 'yes');
    assert.equal(await hello.text(), 'hello from the app');

    const post = await fetch(`${base}/metrics`, { method: 'POST' });
    assert.equal(post.status, 201, 'only GET and HEAD are heapwatch’s');
    assert.equal(await post.text(), 'the app handles POST /metrics');

    const debug = await fetch(`${base}/debug/heap`);
    assert.equal(debug.status, 404, 'the debug endpoints are off by default: the app answers');
    assert.doesNotMatch(await debug.text(), /heapwatch/);

    middleware.stop();
    assert.equal(middleware.monitor.running, false);
    assert.equal(isSampling(), false, "the last stop() stops V8's sampler");
    const afterStop = await fetch(`${base}/metrics`);
    assert.equal(afterStop.status, 404, 'a stopped middleware passes /metrics on');
    assert.equal(registry.getSingleMetric('heapwatch_site_live_bytes'), undefined, 'its metrics are unregistered');
  });
}

test('a second heapwatch() with the same monitor options shares the running monitor; it stops with the last stop()', (t) => {
  const first = heapwatch({ ...quiet, registry: new Registry() });
  const second = heapwatch({ ...quiet, registry: new Registry() });
  t.after(() => {
    first.stop();
    second.stop();
  });
  assert.equal(second.monitor, first.monitor);
  first.stop();
  first.stop();
  assert.equal(second.monitor.running, true, "stopping the first (twice) leaves the second's monitor running");
  second.stop();
  assert.equal(second.monitor.running, false);
  assert.equal(isSampling(), false);
});

test('a second heapwatch() with other monitor options is refused with HEAPWATCH_ERR_MONITOR_CONFLICT, naming the option', (t) => {
  const first = heapwatch({ ...quiet, registry: new Registry() });
  t.after(() => first.stop());
  assert.throws(() => heapwatch({ ...quiet, intervalMs: 500, registry: new Registry() }), {
    code: 'HEAPWATCH_ERR_MONITOR_CONFLICT',
    message: /differ in "intervalMs"/,
  });
  assert.throws(() => heapwatch({ ...quiet, exclude: ['**/node_modules/**'], registry: new Registry() }), {
    code: 'HEAPWATCH_ERR_MONITOR_CONFLICT',
    message: /differ in "exclude"/,
  });
  first.stop();
  const other = heapwatch({ ...quiet, intervalMs: 500, registry: new Registry() });
  assert.equal(other.monitor.options.intervalMs, 500, 'after stop() another monitor may start');
  other.stop();
});

test('two heapwatch() on one registry register the metrics once, and they stay until the last one stops', (t) => {
  const registry = new Registry();
  const first = heapwatch({ ...quiet, registry });
  const second = heapwatch({ ...quiet, registry });
  t.after(() => {
    first.stop();
    second.stop();
  });
  first.stop();
  assert.notEqual(registry.getSingleMetric('heapwatch_site_live_bytes'), undefined);
  second.stop();
  assert.equal(registry.getSingleMetric('heapwatch_site_live_bytes'), undefined);
});

test("the default registry is prom-client's global one, so the app's own metrics share the page", async (t) => {
  const appCounter = new Counter({ name: 'orders_placed_total', help: 'Orders placed.' });
  t.after(() => globalRegistry.removeSingleMetric('orders_placed_total'));
  const middleware = heapwatch(quiet);
  const { base, server } = await startApp(express, middleware);
  t.after(() => {
    middleware.stop();
    server.close();
    globalRegistry.clear();
  });
  appCounter.inc(3);
  const text = await (await fetch(`${base}/metrics`)).text();
  assert.match(text, /^orders_placed_total 3$/m);
  assert.match(text, /^# TYPE heapwatch_site_live_bytes gauge$/m);
});

test("Node's default metrics are registered once: not again when the app registered them, not at all when turned off", async (t) => {
  const own = new Registry();
  const { collectDefaultMetrics } = await import('prom-client');
  collectDefaultMetrics({ register: own });
  const count = own.getMetricsAsArray().length;
  const withOwn = heapwatch({ ...quiet, registry: own });
  t.after(() => withOwn.stop());
  assert.equal(own.getMetricsAsArray().filter((metric) => !metric.name.startsWith('heapwatch_')).length, count);
  withOwn.stop();

  const off = new Registry();
  const withoutDefaults = heapwatch({ ...quiet, registry: off, defaultMetrics: false });
  t.after(() => withoutDefaults.stop());
  assert.deepEqual(
    off.getMetricsAsArray().filter((metric) => !metric.name.startsWith('heapwatch_')),
    [],
  );
});

test('metricsPath moves the page, and false serves none', async (t) => {
  const moved = heapwatch({ ...quiet, registry: new Registry(), metricsPath: '/internal/metrics' });
  const { base, server } = await startApp(express, moved);
  t.after(() => {
    moved.stop();
    server.close();
  });
  assert.equal((await fetch(`${base}/internal/metrics?x=1`)).status, 200);
  assert.equal((await fetch(`${base}/metrics`)).status, 404);
  assert.equal((await fetch(`${base}/internal/metricsx`)).status, 404);
  moved.stop();
  server.close();

  const none = heapwatch({ ...quiet, registry: new Registry(), metricsPath: false });
  const second = await startApp(express, none);
  t.after(() => {
    none.stop();
    second.server.close();
  });
  assert.equal((await fetch(`${second.base}/metrics`)).status, 404);
});

test('bad options are refused at once, naming the option, what was expected and what was received', () => {
  const cases: Array<[HeapwatchOptions | unknown, RegExp]> = [
    [{ metricsPath: 'metrics' }, /Invalid option "metricsPath": expected a path starting with "\/".*received "metrics"/],
    [{ registry: {} }, /Invalid option "registry": expected a prom-client Registry, received an object/],
    [{ defaultMetrics: 'yes' }, /Invalid option "defaultMetrics": expected true or false, received "yes"/],
    [{ meterProvider: 42 }, /Invalid option "meterProvider": expected an OpenTelemetry MeterProvider.*received 42/],
    [{ debug: 1 }, /Invalid option "debug": expected true or false, received 1/],
    [{ debugToken: 123 }, /Invalid option "debugToken": expected a string of at least 16 characters without spaces, received 123/],
    [{ intervalMs: 0 }, /Invalid option "intervalMs"/],
    [{ metricPath: '/m' }, /Unknown option "metricPath" for heapwatch: expected one of .*metricsPath/],
  ];
  for (const [options, message] of cases) {
    assert.throws(() => heapwatch(options as HeapwatchOptions), { code: 'HEAPWATCH_ERR_INVALID_OPTION', message });
  }
  assert.equal(isSampling(), false, 'a refused heapwatch() starts nothing');
});

test('a debugToken that is too short is refused without echoing the secret', () => {
  assert.throws(
    () => heapwatch({ ...quiet, debug: true, debugToken: 'hunter2' }),
    (error: Error) => {
      assert.match(error.message, /received a string of 7 characters/);
      assert.doesNotMatch(error.message, /hunter2/);
      return true;
    },
  );
});

test('a registry that already holds a heapwatch metric is refused whole, and the monitor is not left running', () => {
  const registry = new Registry();
  new Counter({ name: 'heapwatch_snapshots_total', help: 'taken', registers: [registry] });
  assert.throws(() => heapwatch({ ...quiet, registry }), {
    code: 'HEAPWATCH_ERR_INVALID_OPTION',
    message: /"registry": it already holds the metric heapwatch_snapshots_total/,
  });
  assert.equal(registry.getSingleMetric('heapwatch_site_live_bytes'), undefined);
  assert.equal(isSampling(), false);
});
