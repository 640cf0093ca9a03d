import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import express from 'express';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { heapwatch } from '../../src/index.js';
import type { HeapwatchOptions, SiteReport } from '../../src/index.js';
import { listen, repoRoot } from '../helpers.js';

const warnings: string[] = [];
process.on('warning', (warning) => warnings.push(`${warning.name} ${warning.message}`));

class CollectingReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/** A pino logger into a string. */
function memoryLog() {
  let text = '';
  const logger = pino(new Writable({ write: (chunk: Buffer, _encoding, done) => ((text += chunk.toString()), done()) }));
  return { logger, text: () => text };
}

/** An app with heapwatch, a leaking route /orders/:id, and a 404 of its own. */
async function serve(t: import('node:test').TestContext, options: HeapwatchOptions) {
  const watch = heapwatch({ registry: new Registry(), intervalMs: 200, windowMs: 4000, growthThresholdBytes: 512 * 1024, samplingIntervalBytes: 16 * 1024, ...options });
  const kept: string[] = [];
  const app = express();
  app.use(watch);
  app.get('/orders/:id', (req, res) => {
    // Keeps request input itself: its strings are in the heap heapwatch reads.
    for (let k = 0; k < 500; k++) kept.push(`${req.params.id}|${req.url}|${req.headers['user-agent'] ?? ''}|${kept.length}`.padEnd(200, 'x'));
    res.send('ok');
  });
  app.use((_req, res) => {
    res.status(404).type('text/plain').send('app: not found\n');
  });
  const server = await listen(app);
  t.after(() => (watch.stop(), server.close()));
  return { watch, base: server.base };
}

test('debug endpoints are off by default: without `debug`, /debug/heap and /debug/pprof/heap reach the app (its 404)', async (t) => {
  const { base } = await serve(t, { logger: false });
  for (const path of ['/debug/heap', '/debug/heap?format=json', '/debug/heap?format=html', '/debug/pprof/heap', '/debug/pprof/allocs']) {
    const response = await fetch(`${base}${path}`);
    assert.equal(response.status, 404, path);
    assert.equal(await response.text(), 'app: not found\n', path);
  }
});

test('the token is compared as SHA-256 digests with crypto.timingSafeEqual: equal lengths whatever is presented, so no early exit tells how much of it matched', () => {
  // The comparison's timing is not measured (tests never assert speed): the code is held to the construction instead.
  const guard = readFileSync(`${repoRoot}/src/http/guard.ts`, 'utf8');
  assert.match(guard, /timingSafeEqual\(digest\(presented\), digest\(token\)\)/);
  assert.match(guard, /createHash\('sha256'\)\.update\(value\)\.digest\(\)/);
  assert.doesNotMatch(guard, /presented\s*===\s*token|token\s*===\s*presented|presented\.length/, 'no plain or length comparison');
});

test('near misses of the token are refused, and the token never appears in a log record, a warning, an answer or an error message', async (t) => {
  const token = `tok${randomBytes(12).toString('hex')}`;
  const log = memoryLog();
  const { base, watch } = await serve(t, { logger: log.logger, debug: true, debugToken: token });
  const nearMisses = [token.slice(0, -1), `${token}x`, token.toUpperCase(), ` ${token}x`, `${token.slice(1)}t`, token.slice(0, 8), `${token}${token}`];
  for (const presented of nearMisses) {
    for (const path of ['/debug/heap', '/debug/pprof/heap']) {
      const response = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${presented}` } });
      assert.equal(response.status, 401, presented);
      const body = await response.text();
      assert.equal(body, 'heapwatch: the debug endpoints need "Authorization: Bearer <debugToken>"\n', 'one fixed line: no path, no function, no token');
    }
  }
  const served = await fetch(`${base}/debug/heap?format=json`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(served.status, 200);
  assert.ok(!(await served.text()).includes(token));
  // A leak record, so that the log has records to look into.
  const suspected = new Promise<SiteReport>((resolve) => watch.monitor.once('leak-suspected', resolve));
  for (let i = 0; i < 400 && watch.monitor.stats().suspicionsRaised === 0; i++) {
    await fetch(`${base}/orders/${i}`, { headers: { authorization: `Bearer ${token}` } });
    await sleep(50);
  }
  await suspected;
  assert.match(log.text(), /leak-suspected/);
  const page = await (await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();
  for (const [where, text] of [['log', log.text()], ['/metrics', page], ['warnings', warnings.join('\n')]] as const) {
    assert.ok(!text.includes(token), `the token is not in the ${where}`);
    assert.ok(!text.includes(token.slice(3, 15)), `no part of the token is in the ${where}`);
  }
  // Refused tokens are not echoed either.
  for (const bad of [`short${token.slice(0, 6)}`, `${token} with spaces`, `${token}\n`]) {
    assert.throws(
      () => heapwatch({ debug: true, debugToken: bad }),
      (error: Error & { code?: string }) => error.code === 'HEAPWATCH_ERR_INVALID_OPTION' && /debugToken/.test(error.message) && !error.message.includes(token.slice(0, 6)),
    );
  }
});

test('without the token, /debug/heap and /debug/pprof/heap reveal nothing: no path, no function name, in any format, through a proxy or not', async (t) => {
  const token = `tok${randomBytes(12).toString('hex')}`;
  const { base } = await serve(t, { logger: false, debug: true, debugToken: token });
  for (let i = 0; i < 20; i++) await fetch(`${base}/orders/${i}`);
  for (const path of ['/debug/heap', '/debug/heap?format=json', '/debug/heap?format=html', '/debug/heap?groupBy=traceback', '/debug/heap?seconds=1', '/debug/pprof/heap', '/debug/pprof/heap?seconds=1', '/debug/pprof/allocs', '/debug/pprof/allocs?seconds=1']) {
    for (const headers of [{}, { accept: 'text/html' }, { 'x-forwarded-for': '127.0.0.1' }, { authorization: 'Basic Zm9vOmJhcg==' }]) {
      const response = await fetch(`${base}${path}`, { headers });
      assert.equal(response.status, 401, `${path} ${JSON.stringify(headers)}`);
      const body = await response.text();
      assert.equal(body, 'heapwatch: the debug endpoints need "Authorization: Bearer <debugToken>"\n', `${path}: the fixed refusal, nothing else`);
      assert.doesNotMatch(body, /\.m?[jt]s\b|node_modules|\/work|orders|serve|\(anonymous\)/);
    }
  }
});

test('request input (path, query, headers, method) never reaches a log record, a metric name or label, an OpenTelemetry attribute, or the heap page', async (t) => {
  const marker = `mk${randomBytes(6).toString('hex')}`;
  const reader = new CollectingReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  t.after(() => meterProvider.shutdown());
  const log = memoryLog();
  const { base, watch } = await serve(t, { logger: log.logger, meterProvider, debug: true });
  const hostile = (i: number) => ({
    path: `/orders/${marker}-${i}?${marker}q=${marker}v&format=${marker}&top=${marker}`,
    headers: { 'user-agent': `${marker}-agent`, [`x-${marker}`]: marker, cookie: `${marker}=${marker}`, referer: `http://${marker}.example/` },
  });
  for (let i = 0; i < 400 && watch.monitor.stats().suspicionsRaised === 0; i++) {
    const { path, headers } = hostile(i);
    assert.equal((await fetch(`${base}${path}`, { headers })).status, 200);
    // heapwatch's own paths, with hostile queries and headers.
    if (i % 10 === 0) {
      await fetch(`${base}/metrics?${marker}=${marker}`, { headers });
      await fetch(`${base}/debug/heap?${marker}=1&groupBy=${marker}`, { headers });
      await fetch(`${base}/debug/${marker}`, { headers, method: 'POST' });
    }
    await sleep(50);
  }
  assert.ok(watch.monitor.stats().suspicionsRaised >= 1, 'the leak holding the markers was suspected');
  const page = await (await fetch(`${base}/metrics`)).text();
  const heapPage = await (await fetch(`${base}/debug/heap?format=json&top=1000`)).text();
  const heapText = await (await fetch(`${base}/debug/heap?groupBy=traceback&top=1000`)).text();
  const exported = JSON.stringify((await reader.collect()).resourceMetrics);
  assert.match(exported, /heapwatch\.site\.live/, 'the OpenTelemetry export holds the sites');
  assert.match(log.text(), /leak-suspected/, 'the log holds the leak record');
  for (const [where, text] of [['log', log.text()], ['/metrics', page], ['OpenTelemetry export', exported], ['heap page data', heapPage], ['heap text', heapText], ['warnings', warnings.join('\n')]] as const) {
    assert.ok(!text.includes(marker), `no request input in the ${where}`);
  }
});
