import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';
import { test } from 'node:test';
import express from 'express';
import { chromium } from 'playwright-core';
import { Registry } from 'prom-client';
import { heapwatch } from '../../src/express/middleware.js';
import type { HeapView } from '../../src/http/heap-view.js';
import { toolAvailable } from '../helpers.js';

const NODE_MAJOR = Number(process.versions.node.split('.')[0]);
const ON_NODE_26 = NODE_MAJOR >= 26;
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** A route's garbage: every object dies before the response is sent. */
function churnOrders(): number {
  const batch: Array<{ id: number; tags: string[] }> = [];
  for (let i = 0; i < 20_000; i++) batch.push({ id: i, tags: [`t${i}`, `u${i}`] });
  return batch.length;
}

/** A route's leak: ~100 KB kept per request, on a linked list (no table that regrows into garbage). */
let kept: { values: number[]; next: unknown } | undefined;
function keepOrders(): void {
  for (let i = 0; i < 1_000; i++) kept = { values: [i, i, i, i, i, i, i, i], next: kept };
}

async function serve(t: TestContext): Promise<string> {
  const app = express();
  const middleware = heapwatch({ registry: new Registry(), debug: true, logger: false, allocations: true, samplingIntervalBytes: 32 * 1024 });
  app.use(middleware);
  app.get('/orders', (_req, res) => {
    keepOrders();
    res.type('text/plain').send(`${churnOrders()}\n`);
  });
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(async () => {
    middleware.stop();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  for (let i = 0; i < 40; i++) await (await fetch(`${base}/orders`)).text();
  return base;
}

const ofFunction = (name: string) => (site: { function: string }) => site.function === name;

test(`the heap page's JSON lists the top allocating sites with their survival (Node 26), else says allocation data needs Node 26`, async (t) => {
  const base = await serve(t);
  const view = (await (await fetch(`${base}/debug/heap?format=json`)).json()) as HeapView;
  if (!ON_NODE_26) {
    assert.deepEqual(view.allocations, { available: false, reason: view.allocations.available ? '' : view.allocations.reason });
    assert.match(view.allocations.available ? '' : view.allocations.reason, /^allocation data needs Node 26 or newer: this is Node \d+/);
    return;
  }
  assert.ok(view.allocations.available, JSON.stringify(view.allocations));
  const { sites } = view.allocations;
  assert.equal(sites[0]?.function, 'churnOrders', `most allocating first: ${sites.map((site) => site.function).join(', ')}`);
  assert.ok((sites.find(ofFunction('churnOrders'))?.survival ?? 1) < 0.05, JSON.stringify(sites.find(ofFunction('churnOrders'))));
  assert.ok((sites.find(ofFunction('keepOrders'))?.survival ?? 0) > 0.8, JSON.stringify(sites.find(ofFunction('keepOrders'))));
  for (let i = 1; i < sites.length; i++) assert.ok((sites[i - 1]?.allocatedBytes ?? 0) >= (sites[i]?.allocatedBytes ?? 0));
});

test('in headless Chromium the heap page shows the allocating sites with their survival (Node 26), else one line saying why there are none', async (t) => {
  if (!(await toolAvailable(t, CHROMIUM))) return;
  const base = await serve(t);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  t.after(() => browser.close());
  const page = await browser.newPage();
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') problems.push(`${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`uncaught: ${error.message}`));
  await page.goto(`${base}/debug/heap`);
  await page.waitForSelector('#sites tbody tr');
  if (!ON_NODE_26) {
    assert.equal(await page.isVisible('#allocs'), false);
    assert.match((await page.textContent('#allocs-note')) ?? '', /^No allocation data: allocation data needs Node 26 or newer: this is Node \d+/);
  } else {
    const rows = await page.$$eval('#allocs tbody tr', (rows) => rows.map((row) => [...row.querySelectorAll('td')].map((cell) => cell.textContent ?? '')));
    assert.equal(rows[0]?.[0], 'churnOrders', JSON.stringify(rows));
    assert.equal(await page.isVisible('#allocs-note'), false);
    const survival = (name: string) => Number.parseFloat(rows.find((row) => row[0] === name)?.[5] ?? 'NaN');
    assert.ok(survival('churnOrders') < 5, `churn survival ${survival('churnOrders')} %`);
    assert.ok(survival('keepOrders') > 80, `leak survival ${survival('keepOrders')} %`);
  }
  assert.deepEqual(problems, []);
});
