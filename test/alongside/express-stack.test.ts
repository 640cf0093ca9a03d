import assert from 'node:assert/strict';
import { request } from 'node:http';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import compression from 'compression';
import express from 'express';
import express4 from 'express4';
import helmet from 'helmet';
import { Registry } from 'prom-client';
import { heapwatch } from '../../src/index.js';
import { listen } from '../helpers.js';

const quiet = { logger: false, intervalMs: 200, windowMs: 4000 } as const;

/** A GET that asks for gzip and returns the raw body (fetch would decompress it out of sight). */
function getRaw(url: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    request(url, { headers: { 'accept-encoding': 'gzip' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    })
      .on('error', reject)
      .end();
  });
}

for (const [name, createApp] of [
  ['Express 5', express],
  ['Express 4', express4 as unknown as typeof express],
] as const) {
  test(`${name}: mounted under a path prefix, heapwatch serves its pages there and nowhere else`, async (t) => {
    const watch = heapwatch({ ...quiet, registry: new Registry(), debug: true });
    // Live objects allocated while the sampler runs, so that the heap page has a site to list at
    // once (at 512 KiB the test's own allocations alone sometimes held no sample yet).
    const keptSinceStart = Array.from({ length: 50_000 }, (_, i) => ({ i, label: `order-${i}` }));
    const app = createApp();
    app.use('/ops', watch);
    app.get('/ops/ready', (_req, res) => {
      res.send('ready');
    });
    const server = await listen(app);
    t.after(() => (watch.stop(), server.close()));

    const metrics = await fetch(`${server.base}/ops/metrics`);
    assert.equal(metrics.status, 200);
    assert.match(await metrics.text(), /^# TYPE heapwatch_site_live_bytes gauge$/m);
    assert.equal((await fetch(`${server.base}/metrics`)).status, 404, 'not at the root');
    const heap = await fetch(`${server.base}/ops/debug/heap?top=1`);
    assert.equal(heap.status, 200);
    assert.match(await heap.text(), /^\[ Top 1 site statistics/m);
    assert.equal(keptSinceStart.length, 50_000);
    assert.equal(await (await fetch(`${server.base}/ops/ready`)).text(), 'ready', "the app's routes under the prefix still answer");
  });
}

test('behind helmet and compression: the metrics page carries their headers and arrives gzipped and whole', async (t) => {
  const watch = heapwatch({ ...quiet, registry: new Registry() });
  const app = express();
  app.use(helmet());
  app.use(compression({ threshold: 0 }));
  app.use(watch);
  const server = await listen(app);
  t.after(() => (watch.stop(), server.close()));

  const response = await getRaw(`${server.base}/metrics`);
  assert.equal(response.status, 200);
  assert.equal(response.headers['content-encoding'], 'gzip');
  assert.equal(response.headers['x-content-type-options'], 'nosniff');
  assert.ok(response.headers['content-security-policy'], "helmet's policy is on heapwatch's answer too");
  const page = gunzipSync(response.body).toString('utf8');
  assert.match(page, /^# TYPE heapwatch_site_live_bytes gauge$/m);
  assert.match(page, /^heapwatch_sampling_interval_bytes 524288$/m);
});

test('in front of helmet and compression: heapwatch answers its page itself, the app’s routes still get both', async (t) => {
  const watch = heapwatch({ ...quiet, registry: new Registry() });
  const app = express();
  app.use(watch);
  app.use(helmet());
  app.use(compression({ threshold: 0 }));
  app.get('/hello', (_req, res) => {
    res.send('hello '.repeat(100));
  });
  const server = await listen(app);
  t.after(() => (watch.stop(), server.close()));

  const metrics = await getRaw(`${server.base}/metrics`);
  assert.equal(metrics.status, 200);
  assert.equal(metrics.headers['content-encoding'], undefined);
  assert.match(metrics.body.toString('utf8'), /^# TYPE heapwatch_site_live_bytes gauge$/m);
  const hello = await getRaw(`${server.base}/hello`);
  assert.equal(hello.headers['content-encoding'], 'gzip');
  assert.equal(hello.headers['x-content-type-options'], 'nosniff');
  assert.equal(gunzipSync(hello.body).toString('utf8'), 'hello '.repeat(100));
});
