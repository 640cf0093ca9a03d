import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import fastify4 from 'fastify4';
import { Registry } from 'prom-client';
import { heapwatch } from '../../src/frameworks/fastify.js';
import type { HeapwatchOptions } from '../../src/frameworks/fastify.js';
import { isSampling } from '../../src/index.js';
import { assertLeakFoundAt, leakOptions, leakyOrders } from './leak.js';

const quiet = { logger: false, intervalMs: 200, windowMs: 4000 } as const;

/** A Fastify app with heapwatch registered and two routes of its own, listening on loopback. */
async function startApp(createApp: typeof Fastify, options: HeapwatchOptions): Promise<{ app: FastifyInstance; base: string }> {
  const app = createApp();
  await app.register(heapwatch, options);
  app.get('/hello', async (_request, reply) => {
    reply.header('x-app', 'yes');
    return 'hello from the app';
  });
  app.post('/metrics', async (_request, reply) => {
    reply.code(201);
    return 'the app handles POST /metrics';
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, base: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}` };
}

for (const [name, createApp] of [
  ['Fastify 5', Fastify],
  ['Fastify 4', fastify4 as unknown as typeof Fastify],
] as const) {
  test(`${name}: serves /metrics through Fastify's router, leaves every other route to the app, and close() releases the monitor`, async (t) => {
    const registry = new Registry();
    const { app, base } = await startApp(createApp, { ...quiet, registry });
    t.after(() => app.close());

    const page = await fetch(`${base}/metrics`);
    assert.equal(page.status, 200);
    assert.equal(page.headers.get('content-type'), registry.contentType);
    assert.equal(page.headers.get('cache-control'), 'no-store');
    const text = await page.text();
    assert.match(text, /^# TYPE heapwatch_site_live_bytes gauge$/m);
    assert.match(text, /^heapwatch_sampling_interval_bytes 524288$/m);
    assert.match(text, /^process_cpu_user_seconds_total /m);

    const head = await fetch(`${base}/metrics`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-type'), registry.contentType);
    assert.equal(await head.text(), '');

    const hello = await fetch(`${base}/hello`);
    assert.equal(hello.status, 200);
    assert.equal(hello.headers.get('x-app'), 'yes');
    assert.equal(await hello.text(), 'hello from the app');
    const post = await fetch(`${base}/metrics`, { method: 'POST' });
    assert.equal(post.status, 201, "only GET and HEAD are heapwatch's");
    assert.equal(await post.text(), 'the app handles POST /metrics');
    const debug = await fetch(`${base}/debug/heap`);
    assert.equal(debug.status, 404, "the debug endpoints are off by default: Fastify's 404");
    assert.doesNotMatch(await debug.text(), /heapwatch/);

    const { monitor } = app.heapwatch;
    assert.equal(monitor.running, true, 'fastify.heapwatch.monitor is the running monitor');
    await app.close();
    assert.equal(monitor.running, false, 'close() released the last share of the monitor');
    assert.equal(isSampling(), false);
    assert.equal(registry.getSingleMetric('heapwatch_site_live_bytes'), undefined, 'its metrics are unregistered');
  });
}

test('Fastify: the debug endpoints answer under the guard: loopback without a proxy, or the bearer token', async (t) => {
  const open = await startApp(Fastify, { ...quiet, registry: new Registry(), debug: true });
  t.after(() => open.app.close());
  const text = await fetch(`${open.base}/debug/heap?top=3`);
  assert.equal(text.status, 200);
  assert.equal(text.headers.get('content-type'), 'text/plain; charset=utf-8');
  assert.match(await text.text(), /^\[ Top \d+ site statistics by live bytes; sampled every 512 KiB \]$/m);
  const json = await fetch(`${open.base}/debug/heap?format=json&top=1`);
  assert.equal(json.headers.get('content-type'), 'application/json; charset=utf-8');
  assert.equal(((await json.json()) as { groupBy: string }).groupBy, 'site');
  const page = await fetch(`${open.base}/debug/heap`, { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
  assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8', "a browser's Accept gets the page");
  await page.arrayBuffer();
  const pprof = await fetch(`${open.base}/debug/pprof/heap`);
  assert.equal(pprof.status, 200);
  assert.equal(pprof.headers.get('content-type'), 'application/octet-stream');
  await pprof.arrayBuffer();
  const head = await fetch(`${open.base}/debug/heap`, { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(await head.text(), '');
  const bad = await fetch(`${open.base}/debug/heap?secnds=30`);
  assert.equal(bad.status, 400);
  assert.match(await bad.text(), /unknown parameter "secnds"/);
  const proxied = await fetch(`${open.base}/debug/heap`, { headers: { 'x-forwarded-for': '203.0.113.7' } });
  assert.equal(proxied.status, 403, 'a request through a proxy is refused without a token');
  assert.equal(await proxied.text(), 'heapwatch: without a debugToken the debug endpoints serve loopback clients only, not through a proxy\n');
  await open.app.close();

  const token = 'a-token-of-24-characters';
  const guarded = await startApp(Fastify, { ...quiet, registry: new Registry(), debug: true, debugToken: token });
  t.after(() => guarded.app.close());
  const refused = await fetch(`${guarded.base}/debug/pprof/heap`);
  assert.equal(refused.status, 401);
  assert.equal(refused.headers.get('www-authenticate'), 'Bearer realm="heapwatch"');
  await refused.arrayBuffer();
  const served = await fetch(`${guarded.base}/debug/heap?top=1`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(served.status, 200);
  await served.arrayBuffer();
});

test("Fastify: heapwatch's routes live in the context that registered it: its prefix, its hooks and headers, not a sibling's", async (t) => {
  const app = Fastify();
  t.after(() => app.close());
  // The application's own hook, in the root context: every route of the app gets its header, heapwatch's too.
  app.addHook('onRequest', async (_request, reply) => {
    reply.header('x-request-id', 'r-1');
  });
  await app.register(
    async (internal) => {
      // Authentication for everything in this context.
      internal.addHook('onRequest', async (request, reply) => {
        if (request.headers['x-internal'] !== 'yes') return reply.code(401).send('internal only');
        return undefined;
      });
      await internal.register(heapwatch, { ...quiet, registry: new Registry() });
      internal.get('/ping', async () => 'pong');
    },
    { prefix: '/internal' },
  );
  await app.register(async (sibling) => {
    sibling.addHook('onRequest', async (_request, reply) => {
      reply.header('x-sibling', 'yes');
    });
    sibling.get('/public', async () => 'public');
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;

  const refused = await fetch(`${base}/internal/metrics`);
  assert.equal(refused.status, 401, "the context's authentication hook guards heapwatch's route too");
  assert.equal(await refused.text(), 'internal only');
  const page = await fetch(`${base}/internal/metrics`, { headers: { 'x-internal': 'yes' } });
  assert.equal(page.status, 200);
  assert.match(await page.text(), /^heapwatch_sampling_interval_bytes /m);
  assert.equal(page.headers.get('x-request-id'), 'r-1', "a header an enclosing hook set on the reply is on heapwatch's answer");
  assert.equal(page.headers.get('x-sibling'), null, "a sibling context's hook does not reach heapwatch's route");
  assert.equal((await fetch(`${base}/metrics`)).status, 404, 'the routes moved with the prefix');
  assert.equal(app.hasDecorator('heapwatch'), false, 'the decoration stays in the context that registered heapwatch');

  const prefixed = Fastify();
  t.after(() => prefixed.close());
  await prefixed.register(heapwatch, { ...quiet, registry: new Registry(), prefix: '/ops' });
  await prefixed.listen({ port: 0, host: '127.0.0.1' });
  const opsBase = `http://127.0.0.1:${(prefixed.server.address() as AddressInfo).port}`;
  assert.equal((await fetch(`${opsBase}/ops/metrics`)).status, 200, "register's own prefix moves heapwatch's routes");
  assert.equal((await fetch(`${opsBase}/metrics`)).status, 404);
  assert.equal(prefixed.heapwatch.monitor.running, true, 'and the decoration is where it was registered');
});

test('Fastify: two apps share the process-wide monitor, which stops with the last close(); bad options reject register() and start nothing', async () => {
  const first = Fastify();
  const second = Fastify();
  await first.register(heapwatch, { ...quiet, registry: new Registry() });
  await second.register(heapwatch, { ...quiet, registry: new Registry() });
  assert.equal(second.heapwatch.monitor, first.heapwatch.monitor);
  await first.close();
  assert.equal(second.heapwatch.monitor.running, true);
  await second.close();
  assert.equal(second.heapwatch.monitor.running, false);
  assert.equal(isSampling(), false);

  const twice = Fastify();
  await twice.register(heapwatch, { ...quiet, registry: new Registry() });
  await assert.rejects(async () => twice.register(heapwatch, { ...quiet, registry: new Registry() }), { code: 'FST_ERR_DEC_ALREADY_PRESENT' });
  await twice.close().catch(() => {});
  assert.equal(isSampling(), false, 'the refused second registration released its share too');

  const bad = Fastify();
  await assert.rejects(async () => bad.register(heapwatch, { intervalMs: 0 }), { code: 'HEAPWATCH_ERR_INVALID_OPTION', message: /Invalid option "intervalMs"/ });
  await assert.rejects(async () => Fastify().register(heapwatch, { metricPath: '/m' } as HeapwatchOptions), {
    code: 'HEAPWATCH_ERR_INVALID_OPTION',
    message: /Unknown option "metricPath"/,
  });
  assert.equal(isSampling(), false);
});

test('Fastify: a leak in a route is suspected at its function on /metrics', async (t) => {
  const app = Fastify();
  t.after(() => app.close());
  await app.register(heapwatch, { ...leakOptions, registry: new Registry() });
  app.get('/orders/:id', leakyOrders.fastifyOrderRoute as never);
  await app.listen({ port: 0, host: '127.0.0.1' });
  await assertLeakFoundAt(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, 'fastifyOrderRoute');
});
