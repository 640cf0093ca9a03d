import assert from 'node:assert/strict';
import { test } from 'node:test';
import express from 'express';
import type { RequestHandler } from 'express';
import promBundle from 'express-prom-bundle';
import { register } from 'prom-client';
import { heapwatch } from '../../src/index.js';
import { listen, promtoolCheck, toolAvailable } from '../helpers.js';

const quiet = { logger: false, intervalMs: 200, windowMs: 4000 } as const;

/** What `promtool check metrics` says of prom-client's own standard gauges, when the application registers them itself. */
const PROM_CLIENT_OWN_COMPLAINTS = [
  'nodejs_active_handles_total non-counter metrics should not have "_total" suffix',
  'nodejs_active_requests_total non-counter metrics should not have "_total" suffix',
  'nodejs_active_resources_total non-counter metrics should not have "_total" suffix',
];

function repeatedTypeLines(page: string): string[] {
  const names = [...page.matchAll(/^# TYPE (\S+) /gm)].map((match) => match[1] as string);
  return names.filter((name, index) => names.indexOf(name) !== index);
}

/**
 * An app on prom-client's global registry with heapwatch and another metrics middleware mounted
 * in the given order, and one route of its own; returns the /metrics page after one request.
 */
async function pageOf(order: 'heapwatch first' | 'heapwatch second', other: () => RequestHandler): Promise<string> {
  register.clear();
  const app = express();
  let watch: ReturnType<typeof heapwatch>;
  if (order === 'heapwatch first') {
    app.use((watch = heapwatch(quiet)));
    app.use(other());
  } else {
    app.use(other());
    app.use((watch = heapwatch(quiet)));
  }
  app.get('/hello', (_req, res) => {
    res.send('hello');
  });
  const server = await listen(app);
  try {
    assert.equal(await (await fetch(`${server.base}/hello`)).text(), 'hello');
    const response = await fetch(`${server.base}/metrics`);
    assert.equal(response.status, 200);
    return await response.text();
  } finally {
    watch.stop();
    server.close();
  }
}

for (const order of ['heapwatch first', 'heapwatch second'] as const) {
  test(`express-prom-bundle with its own default metrics, ${order}: the app starts, one page with both, each metric declared once`, async (t) => {
    const page = await pageOf(order, () => promBundle({ includeMethod: true, promClient: { collectDefaultMetrics: {} } }));
    assert.deepEqual(repeatedTypeLines(page), []);
    assert.match(page, /^# TYPE heapwatch_site_live_bytes gauge$/m);
    assert.match(page, /^http_request_duration_seconds_count\{status_code="200",method="GET"\} 1$/m, "the bundle's histogram counted /hello");
    assert.match(page, /^process_cpu_user_seconds_total \d/m);
    if (!(await toolAvailable(t, 'promtool'))) return;
    const check = await promtoolCheck(page);
    const complaints = check.output.trim().split('\n').sort();
    assert.deepEqual(complaints, PROM_CLIENT_OWN_COMPLAINTS, 'promtool finds nothing but prom-client’s own three gauges, which the app asked for');
  });

  test(`express-prom-bundle leaving the standard metrics to heapwatch, ${order}: one page that promtool accepts`, async (t) => {
    const page = await pageOf(order, () => promBundle({ includeMethod: true }));
    assert.deepEqual(repeatedTypeLines(page), []);
    assert.match(page, /^# TYPE heapwatch_site_live_bytes gauge$/m);
    assert.match(page, /^http_request_duration_seconds_count\{status_code="200",method="GET"\} 1$/m);
    assert.match(page, /^nodejs_heap_size_used_bytes \d/m);
    if (!(await toolAvailable(t, 'promtool'))) return;
    const check = await promtoolCheck(page);
    assert.deepEqual(check, { code: 0, output: '' }, `promtool check metrics complained:\n${check.output}`);
  });
}

test("the app's own /metrics route on the same registry, with metricsPath: false: the app's route serves heapwatch's metrics", async () => {
  register.clear();
  const watch = heapwatch({ ...quiet, metricsPath: false });
  const app = express();
  app.use(watch);
  app.get('/metrics', async (_req, res) => {
    res.set('Content-Type', register.contentType).set('X-Served-By', 'app').send(await register.metrics());
  });
  const server = await listen(app);
  try {
    const response = await fetch(`${server.base}/metrics`);
    assert.equal(response.headers.get('x-served-by'), 'app');
    const page = await response.text();
    assert.deepEqual(repeatedTypeLines(page), []);
    assert.match(page, /^# TYPE heapwatch_site_live_bytes gauge$/m);
    assert.match(page, /^nodejs_heap_size_used_bytes \d/m);
  } finally {
    watch.stop();
    server.close();
  }
});

test("the app's own /metrics route mounted after heapwatch(): heapwatch answers first, with the same registry's page", async () => {
  register.clear();
  const watch = heapwatch(quiet);
  const app = express();
  app.use(watch);
  let appRouteCalled = false;
  app.get('/metrics', async (_req, res) => {
    appRouteCalled = true;
    res.set('Content-Type', register.contentType).send(await register.metrics());
  });
  const server = await listen(app);
  try {
    const page = await (await fetch(`${server.base}/metrics`)).text();
    assert.equal(appRouteCalled, false);
    assert.deepEqual(repeatedTypeLines(page), []);
    assert.match(page, /^# TYPE heapwatch_site_live_bytes gauge$/m);
  } finally {
    watch.stop();
    server.close();
  }
});
