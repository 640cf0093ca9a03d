import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { relative } from 'node:path';
import type { TestContext } from 'node:test';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { getHeapStatistics } from 'node:v8';
import express from 'express';
import { Registry } from 'prom-client';
import { heapwatch } from '../../src/express/middleware.js';
import type { HeapwatchMiddleware } from '../../src/express/middleware.js';
import type { HeapwatchOptions } from '../../src/express/options.js';
import type { HeapView } from '../../src/http/heap-view.js';
import { nextReadings, repoRoot } from '../helpers.js';

const fixtureFile = `${repoRoot}/test/fixtures/debug-leak.mjs`;
const fixture = (await import(pathToFileURL(fixtureFile).href)) as { receiptRoute: express.RequestHandler; keptReceiptCount(): number };
const fixturePath = relative(process.cwd(), fixtureFile);
/** keepReceipt holds the leak, or receiptRoute once V8 has inlined keepReceipt into it. */
const HOLDERS = ['keepReceipt', 'receiptRoute'];

const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';

/** An Express app on a loopback port with heapwatch (debug on) and the leaking route `/receipts/:id`. */
async function serve(t: TestContext, options: HeapwatchOptions = {}): Promise<{ base: string; watch: HeapwatchMiddleware }> {
  const app = express();
  const watch = heapwatch({ intervalMs: 200, windowMs: 4000, samplingIntervalBytes: 32 * 1024, logger: false, registry: new Registry(), debug: true, ...options });
  app.use(watch);
  app.get('/receipts/:id', fixture.receiptRoute);
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(async () => {
    watch.stop();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, watch };
}

let receiptIds = 0;
async function keepReceipts(base: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) await (await fetch(`${base}/receipts/${receiptIds++}`)).arrayBuffer();
}

type HeapJson = HeapView & { totalBytes: number; samplingIntervalBytes: number; reader: string; statistics: unknown[] };

test('a browser pointed at /debug/heap gets the page; curl, a JSON client and a request without Accept keep the text', async (t) => {
  const { base } = await serve(t);
  const cases: Array<[string, Record<string, string>, string]> = [
    ['/debug/heap', { accept: BROWSER_ACCEPT }, 'text/html; charset=utf-8'],
    ['/debug/heap?top=5', { accept: BROWSER_ACCEPT }, 'text/html; charset=utf-8'],
    ['/debug/heap?format=html', {}, 'text/html; charset=utf-8'],
    ['/debug/heap', { accept: '*/*' }, 'text/plain; charset=utf-8'],
    ['/debug/heap', {}, 'text/plain; charset=utf-8'],
    ['/debug/heap', { accept: 'application/json' }, 'text/plain; charset=utf-8'],
    ['/debug/heap', { accept: 'text/html;q=0.5, text/plain' }, 'text/plain; charset=utf-8'],
    // A grouping or a delta asks for text: a browser gets text for them, as before.
    ['/debug/heap?groupBy=file', { accept: BROWSER_ACCEPT }, 'text/plain; charset=utf-8'],
    ['/debug/heap?format=text', { accept: BROWSER_ACCEPT }, 'text/plain; charset=utf-8'],
    ['/debug/heap?format=json', { accept: BROWSER_ACCEPT }, 'application/json; charset=utf-8'],
  ];
  for (const [path, headers, type] of cases) {
    const response = await fetch(`${base}${path}`, { headers });
    await response.arrayBuffer();
    assert.equal(response.status, 200, path);
    assert.equal(response.headers.get('content-type'), type, `${path} with ${JSON.stringify(headers)}`);
    assert.equal(response.headers.get('vary'), 'Accept', path);
  }
  const head = await fetch(`${base}/debug/heap`, { method: 'HEAD', headers: { accept: BROWSER_ACCEPT } });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.equal(await head.text(), '');
});

test('the page is one small self-contained document: its one script and one style sheet inline, allowed by hash, nothing else loadable', async (t) => {
  const { base } = await serve(t);
  const response = await fetch(`${base}/debug/heap?format=html`);
  const body = await response.text();
  assert.equal(response.headers.get('cache-control'), 'no-store');
  assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(response.headers.get('referrer-policy'), 'no-referrer');
  // Small enough to send at every request: docs/heap-page.md states its size.
  assert.ok(Buffer.byteLength(body) < 32 * 1024, `${Buffer.byteLength(body)} bytes`);

  const scripts = [...body.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
  const styles = [...body.matchAll(/<style([^>]*)>([\s\S]*?)<\/style>/g)];
  assert.equal(scripts.length, 1);
  assert.equal(styles.length, 1);
  assert.equal(scripts[0]?.[1], '', 'the script loads nothing');
  // Only the empty data: icon (which keeps the browser from asking the app for /favicon.ico).
  assert.deepEqual([...body.matchAll(/\b(?:src|href)="([^"]*)"/g)].map((match) => match[1]), ['data:,']);
  assert.doesNotMatch(body, /\sstyle="/, 'no inline style attribute');
  assert.doesNotMatch(body, /\son[a-z]+="/, 'no inline event handler');

  const hash = (text: string): string => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;
  const policy = Object.fromEntries(
    (response.headers.get('content-security-policy') ?? '').split(';').map((directive) => {
      const [name = '', ...values] = directive.trim().split(/\s+/);
      return [name, values.join(' ')];
    }),
  );
  assert.deepEqual(policy, {
    'default-src': "'none'",
    'script-src': hash(scripts[0]?.[2] ?? ''),
    'style-src': hash(styles[0]?.[2] ?? ''),
    'img-src': 'data:',
    'connect-src': "'self'",
    'base-uri': "'none'",
    'form-action': "'none'",
    'frame-ancestors': "'none'",
    'require-trusted-types-for': "'script'",
    'trusted-types': '',
  });
});

test('the page is guarded like the other debug endpoints: with a debugToken, no token no page', async (t) => {
  const token = 'p'.repeat(20);
  const { base } = await serve(t, { debugToken: token });
  const refused = await fetch(`${base}/debug/heap`, { headers: { accept: BROWSER_ACCEPT } });
  assert.equal(refused.status, 401);
  assert.doesNotMatch(await refused.text(), /<html/);
  const served = await fetch(`${base}/debug/heap`, { headers: { accept: BROWSER_ACCEPT, authorization: `Bearer ${token}` } });
  assert.equal(served.status, 200);
  assert.match(await served.text(), /^<!doctype html>/);
});

test('format=json carries what the page draws: the leaking site with its series over the window, the stacks through it, the process figures', async (t) => {
  const { base, watch } = await serve(t);
  // Receipts kept over several readings: the monitor's series of the leak rises.
  for (let round = 0; round < 6; round++) {
    await keepReceipts(base, 60);
    await nextReadings(watch.monitor);
  }
  const response = await fetch(`${base}/debug/heap?format=json&top=5&stacks=40`);
  assert.equal(response.status, 200);
  const heap = (await response.json()) as HeapJson;

  // Sites: the reading's largest first, the leak on top, with the monitor's readings of it.
  assert.ok(heap.sites.length >= 5 && heap.sites.length <= 5 + watch.monitor.suspects().length);
  const [leak] = heap.sites;
  assert.ok(leak && HOLDERS.includes(leak.function), `the leak first, not ${leak?.function} (${leak?.file}:${leak?.line})`);
  assert.equal(leak.file, fixturePath);
  assert.ok(leak.liveBytes > 0 && leak.count > 0);
  assert.equal(leak.series.bytes.length, leak.series.timestamps.length);
  assert.ok(leak.series.bytes.length >= 4, `${leak.series.bytes.length} readings in the series`);
  assert.ok((leak.series.bytes.at(-1) ?? 0) > (leak.series.bytes[0] ?? 0), `rising: ${leak.series.bytes.join(' ')}`);
  assert.ok(leak.series.timestamps.every((time, i, all) => i === 0 || time > (all[i - 1] ?? 0)), 'oldest first');
  assert.ok(leak.traceback.includes(`${leak.function} (${fixturePath}:${leak.line}:${leak.column})`), leak.traceback.join('\n'));
  const sizes = heap.sites.slice(0, 5).map((site) => site.liveBytes);
  assert.deepEqual(sizes, [...sizes].sort((a, b) => b - a), 'largest first');

  // Stacks: at most `stacks`, frames innermost first, each naming its site; the rest summed.
  assert.ok(heap.stacks.stacks.length <= 40);
  const stackBytes = heap.stacks.stacks.reduce((sum, stack) => sum + stack.size, 0);
  assert.ok(Math.abs(stackBytes + heap.stacks.otherBytes - heap.totalBytes) <= heap.stacks.stacks.length + 1, 'stacks and the rest make the total');
  const throughLeak = heap.stacks.stacks.filter((stack) => stack.site === leak.key);
  assert.ok(throughLeak.length > 0, 'the leak has stacks');
  for (const stack of throughLeak) {
    const names = stack.frames.map((index) => heap.stacks.frames[index]?.function);
    assert.ok(names.includes(leak.function), names.join(' < '));
  }
  // One entry per distinct frame.
  const frameKeys = heap.stacks.frames.map((frame) => `${frame.file}:${frame.line}:${frame.column}:${frame.function}`);
  assert.equal(new Set(frameKeys).size, frameKeys.length);

  // The process figures, beside the sampled ones.
  assert.equal(heap.process.heapLimitBytes, getHeapStatistics().heap_size_limit);
  assert.ok(heap.process.heapUsedBytes > 0 && heap.process.heapUsedBytes < heap.process.heapLimitBytes);
  assert.ok(heap.process.arrayBuffersBytes <= heap.process.externalBytes);
  assert.ok(heap.process.rssBytes > heap.process.heapUsedBytes);
  assert.deepEqual(heap.monitor, { intervalMs: 200, windowMs: 4000, growthThresholdBytes: 2 * 1024 * 1024, readings: heap.monitor.readings });
  assert.ok(heap.monitor.readings >= 6);
});
