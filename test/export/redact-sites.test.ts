import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { relative } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import type { MetricData } from '@opentelemetry/sdk-metrics';
import express from 'express';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { heapwatch } from '../../src/index.js';
import type { SiteReport } from '../../src/index.js';
import { listen, pageSeries } from '../helpers.js';

class CollectingReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/** This file as sites name it: its TypeScript source, through the compiled file's source map. */
const thisFile = relative(process.cwd(), fileURLToPath(import.meta.url)).replace(/^\.test-build\/(.*)\.js$/, '$1.ts');
const kept: string[] = [];
/** The leak: ~100 KB a call, never released. */
function keepRedactedOrder(id: number): void {
  for (let k = 0; k < 500; k++) kept.push(`${id}-${k}-${kept.length}`.padEnd(200, 'x'));
}

/** The documented hash, computed here apart from heapwatch's code: 12 hex digits of SHA-256. */
const hash = (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, 12);

test('redactSites: a real leak shows on /metrics and in the OpenTelemetry export under stable hashes, the same label names, no function name or path; the leak record maps the hashes back', async (t) => {
  const reader = new CollectingReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  t.after(() => meterProvider.shutdown());
  const records: Array<{ heapwatch?: { event?: string; site?: { function: string; file: string; line: number; labels: { function: string; file: string } } } }> = [];
  const logger = pino(new Writable({ write: (chunk: Buffer, _encoding, done) => (records.push(JSON.parse(chunk.toString()) as (typeof records)[number]), done()) }));
  const watch = heapwatch({ redactSites: true, meterProvider, logger, registry: new Registry(), intervalMs: 200, windowMs: 4000, growthThresholdBytes: 512 * 1024, samplingIntervalBytes: 16 * 1024 });
  const suspected: SiteReport[] = [];
  watch.monitor.on('leak-suspected', (report) => suspected.push(report));
  const app = express();
  app.use(watch);
  app.get('/orders/:id', function showRedactedOrder(req, res) {
    keepRedactedOrder(Number(req.params.id));
    res.send('ok');
  });
  const server = await listen(app);
  t.after(() => (watch.stop(), server.close()));
  for (let i = 0; i < 400 && suspected.length === 0; i++) {
    assert.equal((await fetch(`${server.base}/orders/${i}`)).status, 200);
    await sleep(50);
  }
  const [report] = suspected;
  assert.ok(report, 'the leak was suspected');
  // keepRedactedOrder, or the route it was inlined into.
  assert.ok(['keepRedactedOrder', 'showRedactedOrder'].includes(report.site.functionName), report.site.functionName);
  assert.equal(relative(process.cwd(), report.site.file), thisFile);
  const expected = { function: hash(`${thisFile}\0${report.site.functionName}`), file: hash(thisFile) };

  // The log's record names the function and gives the hashes the metrics show.
  const record = records.find((r) => r.heapwatch?.event === 'leak-suspected')?.heapwatch?.site;
  assert.ok(record);
  assert.equal(record.function, report.site.functionName);
  assert.deepEqual(record.labels, expected);

  const page = await (await fetch(`${server.base}/metrics`)).text();
  const suspects = pageSeries(page, 'heapwatch_site_leak_suspected').filter((series) => series.value === 1);
  assert.deepEqual(suspects.map((series) => series.labels), [{ ...expected, line: String(report.site.line) }], 'hashed values under the same label names');
  for (const series of pageSeries(page, 'heapwatch_site_live_bytes')) {
    assert.deepEqual(Object.keys(series.labels), ['function', 'file', 'line']);
    assert.match(series.labels['function'] ?? '', /^[0-9a-f]{12}$/);
    assert.match(series.labels['file'] ?? '', /^[0-9a-f]{12}$/);
  }
  for (const name of ['keepRedactedOrder', 'showRedactedOrder', thisFile, 'node_modules', 'express']) assert.ok(!page.includes(name), `/metrics does not show ${name}`);

  const { resourceMetrics } = await reader.collect();
  const metrics = resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics) as MetricData[];
  const live = metrics.find((metric) => metric.descriptor.name === 'heapwatch.site.live');
  assert.ok(live);
  const point = live.dataPoints.find((p) => p.attributes['code.function.name'] === expected.function);
  assert.ok(point, 'the suspect is exported under its hash');
  assert.deepEqual(
    { file: point.attributes['code.file.path'], line: point.attributes['code.line.number'] },
    { file: expected.file, line: report.site.line },
  );
  // heapwatch's metrics only: the SDK's resource names the node binary's own path.
  const exported = JSON.stringify(resourceMetrics.scopeMetrics);
  for (const name of ['keepRedactedOrder', 'showRedactedOrder', thisFile, 'node_modules']) assert.ok(!exported.includes(name), `the export does not show ${name}`);
});

test('without redactSites (the default), the labels carry the function name and the path', async (t) => {
  const watch = heapwatch({ logger: false, registry: new Registry(), intervalMs: 100, windowMs: 2000 });
  const app = express();
  app.use(watch);
  const server = await listen(app);
  t.after(() => (watch.stop(), server.close()));
  for (let i = 0; i < 200 && watch.monitor.sites().length === 0; i++) {
    keepRedactedOrder(i);
    await sleep(50);
  }
  const page = await (await fetch(`${server.base}/metrics`)).text();
  const labels = pageSeries(page, 'heapwatch_site_live_bytes').map((series) => series.labels);
  assert.ok(labels.length > 0);
  assert.ok(labels.some((l) => !/^[0-9a-f]{12}$/.test(l['function'] ?? '')), 'names, not hashes');
});
