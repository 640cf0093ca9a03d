import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import Koa from 'koa';
import koa2 from 'koa2';
import { Registry } from 'prom-client';
import { heapwatch } from '../../src/frameworks/koa.js';
import type { HeapwatchKoaMiddleware } from '../../src/frameworks/koa.js';
import { isSampling } from '../../src/index.js';
import { assertLeakFoundAt, leakOptions, leakyOrders } from './leak.js';

const quiet = { logger: false, intervalMs: 200, windowMs: 4000 } as const;

/** A Koa app with heapwatch first, then the app's own middleware (a logger around everything, then its routes), on loopback. */
async function startApp(createApp: typeof Koa, middleware: HeapwatchKoaMiddleware): Promise<{ base: string; server: Server; seen: string[] }> {
  const app = new createApp();
  const seen: string[] = [];
  app.use(async (ctx, next) => {
    await next();
    seen.push(`${ctx.method} ${ctx.url}`);
  });
  app.use(middleware);
  app.use(async (ctx) => {
    if (ctx.method === 'GET' && ctx.path === '/hello') {
      ctx.set('x-app', 'yes');
      ctx.body = 'hello from the app';
    } else if (ctx.method === 'POST' && ctx.path === '/metrics') {
      ctx.status = 201;
      ctx.body = 'the app handles POST /metrics';
    }
  });
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, seen };
}

for (const [name, createApp] of [
  ['Koa 3', Koa],
  ['Koa 2', koa2 as unknown as typeof Koa],
] as const) {
  test(`${name}: serves /metrics, passes every other request on untouched, and stop() releases the monitor`, async (t) => {
    const registry = new Registry();
    const middleware = heapwatch({ ...quiet, registry });
    const { base, server, seen } = await startApp(createApp, middleware);
    t.after(() => (middleware.stop(), server.close()));

    const page = await fetch(`${base}/metrics`);
    assert.equal(page.status, 200);
    assert.equal(page.headers.get('content-type'), registry.contentType);
    assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
    const text = await page.text();
    assert.match(text, /^# TYPE heapwatch_site_live_bytes gauge$/m);
    assert.match(text, /^process_cpu_user_seconds_total /m);
    assert.deepEqual(seen, ['GET /metrics'], 'middleware before heapwatch runs around its answer, as around any route');
    const head = await fetch(`${base}/metrics?x=1`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), '');

    const hello = await fetch(`${base}/hello`);
    assert.equal(hello.headers.get('x-app'), 'yes');
    assert.equal(await hello.text(), 'hello from the app');
    const post = await fetch(`${base}/metrics`, { method: 'POST' });
    assert.equal(post.status, 201);
    assert.equal(await post.text(), 'the app handles POST /metrics');
    const debug = await fetch(`${base}/debug/heap`);
    assert.equal(debug.status, 404, "off by default: Koa's 404");
    assert.equal(await debug.text(), 'Not Found');

    middleware.stop();
    assert.equal(middleware.monitor.running, false);
    assert.equal(isSampling(), false);
    assert.equal((await fetch(`${base}/metrics`)).status, 404, 'a stopped middleware passes /metrics on');
    assert.equal(registry.getSingleMetric('heapwatch_site_live_bytes'), undefined);
  });
}

test('Koa: the debug endpoints answer loopback clients, refuse a proxied request, and negotiate text, JSON and the page', async (t) => {
  const middleware = heapwatch({ ...quiet, registry: new Registry(), debug: true });
  const { base, server } = await startApp(Koa, middleware);
  t.after(() => (middleware.stop(), server.close()));
  const text = await fetch(`${base}/debug/heap?top=2`);
  assert.equal(text.status, 200);
  assert.match(await text.text(), /^\[ Top \d+ site statistics by live bytes/);
  const json = await fetch(`${base}/debug/heap`, { headers: { accept: 'application/json' } });
  assert.equal(json.headers.get('content-type'), 'text/plain; charset=utf-8', 'without format=json, a script keeps its text');
  await json.arrayBuffer();
  const page = await fetch(`${base}/debug/heap`, { headers: { accept: 'text/html' } });
  assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
  await page.arrayBuffer();
  const proxied = await fetch(`${base}/debug/pprof/heap`, { headers: { forwarded: 'for=203.0.113.7' } });
  assert.equal(proxied.status, 403);
  await proxied.arrayBuffer();
});

test('Koa: a leak in a route is suspected at its function on /metrics', async (t) => {
  const middleware = heapwatch({ ...leakOptions, registry: new Registry() });
  const app = new Koa();
  app.use(middleware);
  app.use(async (ctx, next) => (ctx.path.startsWith('/orders/') ? leakyOrders.koaOrderRoute(ctx) : next()));
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => (middleware.stop(), server.close()));
  await assertLeakFoundAt(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, 'koaOrderRoute');
});
