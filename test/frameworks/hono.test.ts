import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { Registry } from 'prom-client';
import { heapwatch } from '../../src/frameworks/hono.js';
import type { HeapwatchHonoMiddleware } from '../../src/frameworks/hono.js';
import { isSampling } from '../../src/index.js';
import { assertLeakFoundAt, leakOptions, leakyOrders } from './leak.js';

const quiet = { logger: false, intervalMs: 200, windowMs: 4000 } as const;

/** A Hono app with heapwatch first and two routes of its own, served by @hono/node-server on loopback. */
async function startApp(middleware: HeapwatchHonoMiddleware, routes?: (app: Hono) => void): Promise<{ app: Hono; base: string; seen: string[]; close(): void }> {
  const app = new Hono();
  // The app's own middleware before heapwatch: it sees heapwatch's answers as any route's.
  const seen: string[] = [];
  app.use(async (c, next) => {
    await next();
    seen.push(`${c.req.method} ${new URL(c.req.url).pathname} ${c.res.status} ${c.res.headers.get('content-type') ?? ''}`);
  });
  app.use(middleware);
  app.get('/hello', (c) => {
    c.header('x-app', 'yes');
    return c.text('hello from the app');
  });
  app.post('/metrics', (c) => c.text('the app handles POST /metrics', 201));
  routes?.(app);
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await once(server, 'listening');
  return { app, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, close: () => server.close() };
}

test('Hono on Node: serves /metrics, passes every other request on untouched, and stop() releases the monitor', async (t) => {
  const registry = new Registry();
  const middleware = heapwatch({ ...quiet, registry });
  const { base, seen, close } = await startApp(middleware);
  t.after(() => (middleware.stop(), close()));
  // @hono/node-server reports a failed write of a response on console.error; there must be none.
  const errors: unknown[][] = [];
  const consoleError = console.error;
  console.error = (...args: unknown[]) => void errors.push(args);
  t.after(() => (console.error = consoleError));

  const page = await fetch(`${base}/metrics`);
  assert.equal(page.status, 200);
  assert.equal(page.headers.get('content-type'), registry.contentType);
  const text = await page.text();
  assert.match(text, /^# TYPE heapwatch_site_live_bytes gauge$/m);
  assert.match(text, /^process_cpu_user_seconds_total /m);
  const head = await fetch(`${base}/metrics`, { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('content-type'), registry.contentType);
  assert.ok(Number(head.headers.get('content-length')) > 1000, "HEAD says the length of GET's page");
  assert.equal(await head.text(), '');
  assert.deepEqual(seen, [`GET /metrics 200 ${registry.contentType}`, `HEAD /metrics 200 ${registry.contentType}`]);
  assert.deepEqual(errors, [], 'the server wrote each answer once');

  const hello = await fetch(`${base}/hello`);
  assert.equal(hello.headers.get('x-app'), 'yes');
  assert.equal(await hello.text(), 'hello from the app');
  const post = await fetch(`${base}/metrics`, { method: 'POST' });
  assert.equal(post.status, 201);
  assert.equal(await post.text(), 'the app handles POST /metrics');
  const debug = await fetch(`${base}/debug/heap`);
  assert.equal(debug.status, 404, "off by default: Hono's 404");
  assert.doesNotMatch(await debug.text(), /heapwatch/);

  middleware.stop();
  assert.equal(middleware.monitor.running, false);
  assert.equal(isSampling(), false);
  assert.equal((await fetch(`${base}/metrics`)).status, 404, 'a stopped middleware passes /metrics on');
  assert.equal(registry.getSingleMetric('heapwatch_site_live_bytes'), undefined);
});

test('Hono on Node: the debug endpoints answer under the guard; without @hono/node-server heapwatch says what it needs', async (t) => {
  const token = 'a-token-of-24-characters';
  const middleware = heapwatch({ ...quiet, registry: new Registry(), debug: true, debugToken: token });
  const { app, base, close } = await startApp(middleware);
  t.after(() => (middleware.stop(), close()));
  const refused = await fetch(`${base}/debug/heap`);
  assert.equal(refused.status, 401);
  assert.equal(await refused.text(), 'heapwatch: the debug endpoints need "Authorization: Bearer <debugToken>"\n');
  const served = await fetch(`${base}/debug/heap?format=json&top=1`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(served.status, 200);
  assert.equal(served.headers.get('content-type'), 'application/json; charset=utf-8');
  assert.equal(((await served.json()) as { groupBy: string }).groupBy, 'site');
  const delta = await fetch(`${base}/debug/heap?seconds=1&top=1`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(delta.status, 200);
  assert.match(await delta.text(), /^\[ Top \d+ site statistics by change over the last 1 s;/);

  // app.request() runs the app without a server: there is no Node response to answer on.
  const direct = await app.request('/metrics');
  assert.equal(direct.status, 500);
  assert.match(await direct.text(), /needs an app served by @hono\/node-server/);
  assert.equal(await (await app.request('/hello')).text(), 'hello from the app', 'the app is untouched');
});

test('Hono on Node: a leak in a route is suspected at its function on /metrics', async (t) => {
  const middleware = heapwatch({ ...leakOptions, registry: new Registry() });
  const { base, close } = await startApp(middleware, (app) => app.get('/orders/:id', leakyOrders.honoOrderRoute as never));
  t.after(() => (middleware.stop(), close()));
  await assertLeakFoundAt(base, 'honoOrderRoute');
});
