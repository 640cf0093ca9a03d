import assert from 'node:assert/strict';
import { test } from 'node:test';
import express from 'express';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { heapwatch } from '../../src/index.js';
import { listen, promtoolCheck, toolAvailable } from '../helpers.js';

const quiet = { logger: false, intervalMs: 200, windowMs: 4000 } as const;

/** The `# TYPE` lines of a page, by metric name, counted. */
function typeLines(page: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const [, name = ''] of page.matchAll(/^# TYPE (\S+) /gm)) counts.set(name, (counts.get(name) ?? 0) + 1);
  return counts;
}

function assertOnePagePerName(page: string): void {
  const repeated = [...typeLines(page)].filter(([, count]) => count > 1);
  assert.deepEqual(repeated, [], 'no metric is declared twice on the page');
}

/** An Express app with heapwatch mounted, serving the registry's page on /metrics. */
async function serve(registry: Registry) {
  const watch = heapwatch({ ...quiet, registry });
  const app = express();
  app.use(watch);
  const server = await listen(app);
  const page = async (): Promise<string> => (await fetch(`${server.base}/metrics`)).text();
  return { watch, page, close: () => (watch.stop(), server.close()) };
}

test("heapwatch() then the app's collectDefaultMetrics(): the app starts, its metrics replace heapwatch's, one page", async (t) => {
  const registry = new Registry();
  const { watch, page, close } = await serve(registry);
  t.after(close);
  const heapwatchsGauge = registry.getSingleMetric('nodejs_heap_size_used_bytes');
  assert.ok(heapwatchsGauge, 'heapwatch registered the standard metrics');

  // The crash of issue 16: "A metric with the name process_cpu_user_seconds_total has already been registered."
  assert.doesNotThrow(() => collectDefaultMetrics({ register: registry }));
  const appsGauge = registry.getSingleMetric('nodejs_heap_size_used_bytes');
  assert.ok(appsGauge && appsGauge !== heapwatchsGauge, "the application's metric is the one registered now");

  const text = await page();
  assertOnePagePerName(text);
  assert.match(text, /^process_cpu_user_seconds_total \d/m);
  assert.match(text, /^heapwatch_sampling_interval_bytes 524288$/m);
  // The application asked for the whole set: the gauges heapwatch leaves out are the app's to keep.
  assert.match(text, /^nodejs_active_handles_total \d/m);

  // Other names keep prom-client's protection against registering twice.
  new Gauge({ name: 'app_queue_depth', help: 'Jobs waiting.', registers: [registry] });
  assert.throws(() => new Gauge({ name: 'app_queue_depth', help: 'Jobs waiting.', registers: [registry] }), /already been registered/);

  watch.stop();
  assert.equal(registry.getSingleMetric('nodejs_heap_size_used_bytes'), appsGauge, "stop() leaves the application's metrics alone");
  assert.equal(registry.getSingleMetric('heapwatch_site_live_bytes'), undefined);
  assert.equal(Object.hasOwn(registry, 'registerMetric'), false, "stop() gives the registry its own registerMetric back");
});

test("the app's collectDefaultMetrics() then heapwatch(): heapwatch adds none, one page", async (t) => {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const appsGauge = registry.getSingleMetric('nodejs_heap_size_used_bytes');
  const { watch, page, close } = await serve(registry);
  t.after(close);
  assert.equal(registry.getSingleMetric('nodejs_heap_size_used_bytes'), appsGauge);
  const text = await page();
  assertOnePagePerName(text);
  assert.match(text, /^# TYPE heapwatch_site_live_bytes gauge$/m);
  watch.stop();
  assert.equal(registry.getSingleMetric('nodejs_heap_size_used_bytes'), appsGauge);
});

test('a registry that already holds some of the standard metrics gets the others, without an error', async (t) => {
  const registry = new Registry();
  const own = new Gauge({ name: 'nodejs_eventloop_lag_seconds', help: "The app's own lag gauge.", registers: [registry] });
  const { page, close } = await serve(registry);
  t.after(close);
  assert.equal(registry.getSingleMetric('nodejs_eventloop_lag_seconds'), own, "the application's metric stays");
  const text = await page();
  assertOnePagePerName(text);
  assert.match(text, /^nodejs_heap_size_used_bytes \d/m, 'the missing standard metrics were added');

  if (!(await toolAvailable(t, 'promtool'))) return;
  own.set(0.001);
  const check = await promtoolCheck(await page());
  assert.deepEqual(check, { code: 0, output: '' }, `promtool check metrics complained:\n${check.output}`);
});

test('heapwatch() alone registers the standard metrics without the three gauges promtool rejects, and promtool accepts the page', async (t) => {
  const registry = new Registry();
  const { page, close } = await serve(registry);
  t.after(close);
  const text = await page();
  assert.match(text, /^nodejs_heap_size_used_bytes \d/m);
  assert.doesNotMatch(text, /^nodejs_active_handles_total/m);
  if (!(await toolAvailable(t, 'promtool'))) return;
  const check = await promtoolCheck(text);
  assert.deepEqual(check, { code: 0, output: '' }, `promtool check metrics complained:\n${check.output}`);
});

test("two registries, or heapwatch started again after stop(), share one set of prom-client's collectors", async (t) => {
  const first = new Registry();
  const second = new Registry();
  const a = await serve(first);
  const b = await serve(second);
  t.after(() => (a.close(), b.close()));
  const gauge = first.getSingleMetric('nodejs_eventloop_lag_seconds');
  assert.ok(gauge);
  assert.equal(second.getSingleMetric('nodejs_eventloop_lag_seconds'), gauge, 'one event-loop monitor for both');
  a.close();
  const again = await serve(first);
  t.after(again.close);
  assert.equal(first.getSingleMetric('nodejs_eventloop_lag_seconds'), gauge, 'the same collector after a restart');
});
