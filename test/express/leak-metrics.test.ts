import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import express from 'express';
import { Registry } from 'prom-client';
import { heapwatch } from '../../src/index.js';
import { promtoolCheck, repoRoot, toolAvailable } from '../helpers.js';

const fixture = 'test/fixtures/leaky-orders.mjs';
const { orderRoute } = (await import(pathToFileURL(`${repoRoot}/${fixture}`).href)) as {
  orderRoute: express.RequestHandler;
};

/** 1-based line where `name` is declared in the fixture. */
function lineOf(name: string): number {
  return readFileSync(`${repoRoot}/${fixture}`, 'utf8').split('\n').findIndex((line) => line.includes(`function ${name}(`)) + 1;
}

/** `heapwatch_site_leak_suspected{…} 1` lines of a Prometheus page, as label maps. */
function suspectedSites(page: string): Array<Record<string, string>> {
  return page
    .split('\n')
    .filter((line) => line.startsWith('heapwatch_site_leak_suspected{') && line.endsWith('} 1'))
    .map((line) => Object.fromEntries([...line.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1] as string, m[2] as string])));
}

test('an Express app with app.use(heapwatch()) and a real leak shows the leaking site as suspected on /metrics, on a page promtool accepts', async (t) => {
  const registry = new Registry();
  const app = express();
  const middleware = heapwatch({
    registry,
    logger: false,
    intervalMs: 200,
    windowMs: 4000,
    growthThresholdBytes: 1024 * 1024,
    samplingIntervalBytes: 32 * 1024,
  });
  app.use(middleware);
  app.get('/orders/:id', orderRoute);
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  t.after(() => {
    middleware.stop();
    server.close();
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  // ~100 requests a second, each leaking ~8 KB: ~0.8 MB/s, against a 1 MiB threshold on a 4 s window.
  let loading = true;
  let requests = 0;
  const load = (async () => {
    while (loading) {
      const response = await fetch(`${base}/orders/${requests++}`);
      assert.equal(response.status, 200);
      await response.arrayBuffer();
      await sleep(10);
    }
  })();

  let page = '';
  let suspected: Array<Record<string, string>> = [];
  for (let waited = 0; waited < 60_000 && suspected.length === 0; waited += 500) {
    await sleep(500);
    const response = await fetch(`${base}/metrics`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    page = await response.text();
    suspected = suspectedSites(page);
  }
  loading = false;
  await load;

  // V8 may inline rememberOrderView into orderRoute; then the route is the frame that allocates.
  const expected = [
    { function: 'rememberOrderView', file: fixture, line: String(lineOf('rememberOrderView')) },
    { function: 'orderRoute', file: fixture, line: String(lineOf('orderRoute')) },
  ];
  assert.ok(suspected.length > 0, `no site suspected after ${requests} requests; page:\n${page}`);
  assert.ok(
    suspected.some((labels) => expected.some((site) => site.function === labels['function'] && site.file === labels['file'] && site.line === labels['line'])),
    `suspected ${JSON.stringify(suspected)}, expected one of ${JSON.stringify(expected)}`,
  );
  // The page also carries the growth that made the site a suspect, and Node's default metrics.
  assert.match(page, /^heapwatch_site_growth_bytes\{function="(rememberOrderView|orderRoute)",file="test\/fixtures\/leaky-orders\.mjs",line="\d+"\} [1-9]\d{6,}$/m);
  assert.match(page, /^heapwatch_leak_suspicions_total\{function="(rememberOrderView|orderRoute)",[^}]*\} 1$/m);
  assert.match(page, /^process_cpu_user_seconds_total /m);

  if (!(await toolAvailable(t, 'promtool'))) return;
  const check = await promtoolCheck(page);
  assert.deepEqual(check, { code: 0, output: '' }, `promtool check metrics complained:\n${check.output}`);
});
