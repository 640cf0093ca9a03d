import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import express from 'express';
import express4 from 'express4';
import Fastify from 'fastify';
import { pino } from 'pino';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { Registry } from 'prom-client';
import { heapwatch as fastifyHeapwatch } from '../../src/frameworks/fastify.js';
import { heapwatch } from '../../src/index.js';
import type { HeapMonitor } from '../../src/index.js';
import { repoRoot } from '../helpers.js';

const fixture = 'test/fixtures/leaky-routes.mjs';
const routes = (await import(pathToFileURL(`${repoRoot}/${fixture}`).href)) as {
  kept: unknown[];
  expressApp(app: express.Express): void;
  fastifyApp(app: ReturnType<typeof Fastify>): void;
  startBackgroundLeak(): () => void;
};

/** The `leak-suspected` record, as pino wrote it. */
interface LeakRecord {
  readonly msg: string;
  readonly heapwatch: {
    readonly event: string;
    readonly site: { readonly function: string; readonly file: string };
    readonly liveBytes: number;
    readonly routes?: ReadonlyArray<{ readonly route: string | null; readonly bytes: number; readonly share: number }>;
  };
}

/** Options under which ~100 leaking requests a second are suspected within seconds. */
const leakOptions = { intervalMs: 200, windowMs: 4000, growthThresholdBytes: 1024 * 1024, samplingIntervalBytes: 32 * 1024 } as const;

interface App {
  readonly base: string;
  readonly monitor: HeapMonitor;
  /** The real prom-client registry heapwatch's metrics joined. */
  readonly registry: Registry;
  /** A reader of the real OpenTelemetry MeterProvider heapwatch observed with. */
  readonly meterReader: CollectingReader;
  close(): Promise<void>;
}

/** A reader the test collects from itself, as an application's pull exporter would. */
class CollectingReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

/** A real MeterProvider and the reader the test collects its points with. */
function meters(): { meterProvider: MeterProvider; meterReader: CollectingReader } {
  const meterReader = new CollectingReader();
  return { meterProvider: new MeterProvider({ readers: [meterReader] }), meterReader };
}

/** A real pino logger into a stream: the records it wrote, parsed. */
function recordingLogger() {
  const records: LeakRecord[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line.trim() !== '') records.push(JSON.parse(line) as LeakRecord);
      done();
    },
  });
  return { logger: pino(stream), records };
}

async function startExpress(logger: pino.Logger, createApp = express, reader: 'auto' | 'inspector' = 'auto'): Promise<App> {
  const app = createApp();
  const registry = new Registry();
  const { meterProvider, meterReader } = meters();
  const watch = heapwatch({ ...leakOptions, reader, logger, registry, meterProvider, debug: true });
  app.use(watch);
  routes.expressApp(app);
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    monitor: watch.monitor,
    registry,
    meterReader,
    async close() {
      watch.stop();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

async function startFastify(logger: pino.Logger): Promise<App> {
  const app = Fastify();
  const registry = new Registry();
  const { meterProvider, meterReader } = meters();
  await app.register(fastifyHeapwatch, { ...leakOptions, logger, registry, meterProvider, debug: true });
  routes.fastifyApp(app);
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { base: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, monitor: app.heapwatch.monitor, registry, meterReader, close: () => app.close() };
}

/** An app started with a recording logger, closed after the test and the fixture's kept objects dropped. */
async function startedApp(t: TestContext, start: (logger: pino.Logger) => Promise<App>): Promise<{ app: App; records: LeakRecord[] }> {
  const { logger, records } = recordingLogger();
  const app = await start(logger);
  t.after(async () => {
    await app.close();
    routes.kept.length = 0;
  });
  return { app, records };
}

/**
 * Sends `paths` in turn (`:n` numbered), ~100 requests a second, until heapwatch writes a
 * `leak-suspected` record for a site of the fixture; returns it. Fails after a minute without one.
 */
async function leakUntilSuspected(app: App, records: readonly LeakRecord[], paths: readonly string[]): Promise<LeakRecord> {
  let loading = true;
  let sent = 0;
  const load = (async () => {
    while (loading) {
      const response = await fetch(`${app.base}${(paths[sent % paths.length] as string).replace(':n', String(sent))}`);
      sent++;
      assert.equal(response.status, 200);
      await response.arrayBuffer();
      await sleep(10);
    }
  })();
  const suspected = () => records.find((record) => record.heapwatch.event === 'leak-suspected' && record.heapwatch.site.file === fixture);
  try {
    for (let waited = 0; waited < 60_000 && !suspected(); waited += 200) await sleep(200);
  } finally {
    loading = false;
    await load;
  }
  const record = suspected();
  assert.ok(record, `no site of ${fixture} suspected after ${sent} requests; records: ${records.map((r) => r.msg).join('\n')}`);
  return record;
}

const frameworks = [
  { name: 'Express', start: startExpress },
  { name: 'Fastify', start: startFastify },
] as const;

for (const { name, start } of frameworks) {
  test(`${name}: the demo's leak (a handler calling a module-level function) is named GET /orders/:id for at least 90 % of its bytes, in the record, /debug/heap and its JSON`, async (t) => {
    const { app, records } = await startedApp(t, start);
    const record = await leakUntilSuspected(app, records, ['/orders/:n']);
    const shares = record.heapwatch.routes ?? [];
    t.diagnostic(`${name}: ${record.msg}`);
    assert.equal(shares[0]?.route, 'GET /orders/:id', JSON.stringify(shares));
    assert.ok((shares[0]?.share ?? 0) >= 0.9, JSON.stringify(shares));
    assert.match(record.msg, /; GET \/orders\/:id \d+ %/);

    // The same attribution where an operator looks next: the heap page's data and the text.
    const key = app.monitor.suspects().find((report) => report.site.file.endsWith(fixture))?.key;
    assert.ok(key !== undefined);
    const json = (await (await fetch(`${app.base}/debug/heap?format=json`)).json()) as { sites: Array<{ key: string; routes: Array<{ route: string | null; share: number }> | null }> };
    const site = json.sites.find((view) => view.key === key);
    assert.equal(site?.routes?.[0]?.route, 'GET /orders/:id', JSON.stringify(site));
    const text = await (await fetch(`${app.base}/debug/heap`)).text();
    assert.match(text, /\n {4}routes: GET \/orders\/:id \d+ %/, text);

    // And in the metrics, as series of their own for the suspect: Prometheus…
    const routeSeries = (await app.registry.getSingleMetric('heapwatch_site_route_live_bytes')?.get())?.values ?? [];
    const ofSite = routeSeries.filter((value) => value.labels.file === fixture && value.labels.function === record.heapwatch.site.function);
    const siteBytes = ofSite.reduce((sum, value) => sum + value.value, 0);
    const ordersBytes = ofSite.find((value) => value.labels.route === 'GET /orders/:id')?.value ?? 0;
    assert.ok(siteBytes > 0 && ordersBytes >= 0.9 * siteBytes, JSON.stringify(ofSite));
    assert.ok(routeSeries.every((value) => value.labels.route !== undefined), 'every series names its route');
    const page = await app.registry.metrics();
    assert.match(page, /heapwatch_site_route_live_bytes\{function="[^"]+",file="test\/fixtures\/leaky-routes.mjs",line="\d+",route="GET \/orders\/:id"\} \d/, page);
    // …and OpenTelemetry.
    const { resourceMetrics, errors } = await app.meterReader.collect();
    assert.deepEqual(errors, []);
    const metric = resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics).find((m) => m.descriptor.name === 'heapwatch.site.route.live');
    const points = (metric?.dataPoints ?? []).filter((point) => point.attributes['code.function.name'] === record.heapwatch.site.function);
    const orders = points.find((point) => point.attributes['heapwatch.route'] === 'GET /orders/:id');
    assert.ok(orders && (orders.value as number) >= 0.9 * points.reduce((sum, point) => sum + (point.value as number), 0), JSON.stringify(points));
    assert.equal(metric?.descriptor.unit, 'By');
  });

  test(`${name}: a leak in a callback passed to setTimeout inside a handler is attributed to that handler's route`, async (t) => {
    const { app, records } = await startedApp(t, start);
    const record = await leakUntilSuspected(app, records, ['/later/:n']);
    const shares = record.heapwatch.routes ?? [];
    t.diagnostic(`${name}: ${record.msg}`);
    assert.equal(record.heapwatch.site.function, '(anonymous)', 'the site is the callback itself');
    assert.equal(shares[0]?.route, 'GET /later/:id', JSON.stringify(shares));
    assert.ok((shares[0]?.share ?? 0) >= 0.9, JSON.stringify(shares));
  });

  test(`${name}: a leak in a module-level timer, outside every request, is named outside every route`, async (t) => {
    const { logger, records } = recordingLogger();
    const app = await start(logger);
    const stopLeak = routes.startBackgroundLeak();
    t.after(async () => {
      stopLeak();
      await app.close();
      routes.kept.length = 0;
    });
    // Requests keep coming to a route that keeps nothing: the app's routes are known, none leaks.
    const record = await leakUntilSuspected(app, records, ['/quiet/:n']);
    t.diagnostic(`${name}: ${record.msg}`);
    assert.equal(record.heapwatch.site.function, 'refreshCache');
    assert.deepEqual(
      record.heapwatch.routes?.map((share) => [share.route, share.share]),
      [[null, 1]],
    );
    assert.match(record.msg, /; outside every route 100 %$/);
    const routeSeries = (await app.registry.getSingleMetric('heapwatch_site_route_live_bytes')?.get())?.values ?? [];
    assert.deepEqual(
      routeSeries.filter((value) => value.labels.function === 'refreshCache').map((value) => value.labels.route),
      ['(outside every route)'],
    );
  });

  test(`${name}: one helper called by two routes names both, with their shares of its bytes`, async (t) => {
    const { app, records } = await startedApp(t, start);
    // Two searches for every suggestion: about two thirds and one third of the helper's bytes.
    const record = await leakUntilSuspected(app, records, ['/search/:n', '/search/:n', '/suggest/:n']);
    const shares = record.heapwatch.routes ?? [];
    t.diagnostic(`${name}: ${record.msg}`);
    assert.equal(record.heapwatch.site.function, 'rememberSearch');
    const share = (route: string) => shares.find((entry) => entry.route === route)?.share ?? 0;
    // Sampling noise: ~70 samples of the site give each share ±0.06 (one standard deviation).
    assert.ok(share('GET /search/:id') > 0.45 && share('GET /search/:id') < 0.9, JSON.stringify(shares));
    assert.ok(share('GET /suggest/:id') > 0.1 && share('GET /suggest/:id') < 0.55, JSON.stringify(shares));
    assert.ok(share('GET /search/:id') + share('GET /suggest/:id') >= 0.95, JSON.stringify(shares));
  });
}

test("Express 4, read through the inspector (its frames carry V8's script ids too): the demo's leak is named GET /orders/:id", async (t) => {
  const { app, records } = await startedApp(t, (logger) => startExpress(logger, express4 as unknown as typeof express, 'inspector'));
  const record = await leakUntilSuspected(app, records, ['/orders/:n']);
  const shares = record.heapwatch.routes ?? [];
  t.diagnostic(record.msg);
  assert.equal(shares[0]?.route, 'GET /orders/:id', JSON.stringify(shares));
  assert.ok((shares[0]?.share ?? 0) >= 0.9, JSON.stringify(shares));
});

test('a monitor no framework told its routes writes no routes in its record', async (t) => {
  const { logger, records } = recordingLogger();
  const { createHeapMonitor } = await import('../../src/index.js');
  const monitor = createHeapMonitor({ ...leakOptions, logger }).start();
  const stopLeak = routes.startBackgroundLeak();
  t.after(() => {
    stopLeak();
    monitor.stop();
    routes.kept.length = 0;
  });
  for (let waited = 0; waited < 60_000 && !records.some((r) => r.heapwatch.event === 'leak-suspected'); waited += 200) await sleep(200);
  const record = records.find((r) => r.heapwatch.event === 'leak-suspected');
  assert.ok(record, 'the timer leak was suspected');
  assert.equal(record.heapwatch.routes, undefined);
  assert.equal(monitor.routesOf(monitor.suspects()[0]?.key ?? ''), undefined);
  assert.match(record.msg, / live$/, 'nothing after the live bytes');
});
