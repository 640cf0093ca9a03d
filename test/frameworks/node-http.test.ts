import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { heapwatch, isSampling } from '../../src/index.js';
import { listen } from '../helpers.js';

test('node:http without a framework: heapwatch(req, res, next) answers its paths and hands every other request to the app', async (t) => {
  const registry = new Registry();
  const watch = heapwatch({ logger: false, intervalMs: 200, windowMs: 4000, registry, debug: true });
  const app = (req: IncomingMessage, res: ServerResponse): void => {
    res.writeHead(req.url === '/hello' ? 200 : 404, { 'content-type': 'text/plain' }).end(req.url === '/hello' ? 'hello from the app' : 'app: not found');
  };
  // The recipe of docs/frameworks.md.
  const server = await listen((req, res) => watch(req, res, () => app(req, res)));
  t.after(() => (watch.stop(), server.close()));

  const page = await fetch(`${server.base}/metrics`);
  assert.equal(page.status, 200);
  assert.equal(page.headers.get('content-type'), registry.contentType);
  assert.match(await page.text(), /^# TYPE heapwatch_site_live_bytes gauge$/m);
  const heap = await fetch(`${server.base}/debug/heap?top=1`);
  assert.equal(heap.status, 200);
  assert.match(await heap.text(), /^\[ Top \d+ site statistics/);
  const proxied = await fetch(`${server.base}/debug/heap`, { headers: { via: '1.1 proxy' } });
  assert.equal(proxied.status, 403);
  await proxied.arrayBuffer();
  assert.equal(await (await fetch(`${server.base}/hello`)).text(), 'hello from the app');
  assert.equal((await fetch(`${server.base}/metrics`, { method: 'POST' })).status, 404);

  watch.stop();
  assert.equal(isSampling(), false);
  assert.equal(await (await fetch(`${server.base}/metrics`)).text(), 'app: not found', 'after stop() the app gets every request');
});
