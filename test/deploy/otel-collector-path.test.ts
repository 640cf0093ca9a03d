import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { DataPointType, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import type { MetricData } from '@opentelemetry/sdk-metrics';
import { parse, stringify } from 'yaml';
import { observeWithOpenTelemetry } from '../../src/export/otel.js';
import { createHeapMonitor } from '../../src/monitor/monitor.js';
import { nextReadings, repoRoot, toolAvailable } from '../helpers.js';
import { collectorLabel, collectorName } from './collector-names.js';
import { committedDashboards, panelQueries, substitute } from './dashboard-queries.js';
import { evaluate } from './prometheus-api.js';
import { freePort, inRepo, startServer, temporaryDirectory } from './servers.js';

const fixture = `${repoRoot}/test/fixtures/otel-retainer.mjs`;
const { retainInvoices, releaseInvoices } = (await import(pathToFileURL(fixture).href)) as { retainInvoices: (n: number) => number; releaseInvoices: () => void };

class CollectingReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

/**
 * heapwatch's gauges and counters of one collection, written as the Collector's prometheus
 * exporter writes them (its names, attributes as labels, the resource's service.name as `job` and
 * service.instance.id as `instance`, the scope as `otel_scope_name`). Histograms are left out.
 */
function collectorPage(metrics: MetricData[]): string {
  const lines: string[] = [];
  for (const metric of metrics) {
    if (metric.dataPointType !== DataPointType.GAUGE && metric.dataPointType !== DataPointType.SUM) continue;
    const counter = metric.dataPointType === DataPointType.SUM && metric.isMonotonic;
    const name = collectorName(metric.descriptor.name, metric.descriptor.unit, counter);
    lines.push(`# TYPE ${name} ${counter ? 'counter' : 'gauge'}`);
    for (const point of metric.dataPoints) {
      const labels = { job: 'orders', instance: 'orders-7f9c', otel_scope_name: 'heapwatch', ...Object.fromEntries(Object.entries(point.attributes).map(([key, value]) => [collectorLabel(key), String(value)])) };
      lines.push(`${name}{${Object.entries(labels).map(([key, value]) => `${key}=${JSON.stringify(value)}`).join(',')}} ${String(point.value)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

test("the Collector's page, scraped with deploy/otel-collector's job, gives the dashboards' per-site queries function, file and line, and keeps the service's job", { timeout: 120_000 }, async (t) => {
  if (!(await toolAvailable(t, 'prometheus'))) return;
  const directory = temporaryDirectory(t, 'heapwatch-otel-path');

  // Real figures: a monitor on a real retention, observed through a real MeterProvider.
  const reader = new CollectingReader();
  const provider = new MeterProvider({ readers: [reader] });
  const monitor = createHeapMonitor({ intervalMs: 1000, windowMs: 60_000, samplingIntervalBytes: 32 * 1024, logger: false });
  const stopObserving = observeWithOpenTelemetry(monitor, provider);
  t.after(async () => {
    stopObserving();
    monitor.stop();
    releaseInvoices();
    await provider.shutdown();
  });
  // Sampled only once sampling runs: retain after start(), then wait for a reading.
  monitor.start();
  retainInvoices(20_000);
  await nextReadings(monitor);
  const { resourceMetrics } = await reader.collect();
  const page = collectorPage(resourceMetrics.scopeMetrics.filter((scope) => scope.scope.name === 'heapwatch').flatMap((scope) => scope.metrics));
  assert.match(page, /^heapwatch_site_live_bytes\{[^}]*code_function_name="retainInvoices"/m);

  const collector = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(page));
  await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
  t.after(() => collector.close());

  // deploy/otel-collector/prometheus-scrape.yml with its target on loopback and a 1 s interval.
  const { scrape_configs: scrapeConfigs } = parse(readFileSync(inRepo('deploy/otel-collector/prometheus-scrape.yml'), 'utf8')) as { scrape_configs: Array<Record<string, unknown>> };
  assert.equal(scrapeConfigs.length, 1);
  const job = { ...scrapeConfigs[0], scrape_interval: '1s', static_configs: [{ targets: [`127.0.0.1:${(collector.address() as AddressInfo).port}`] }] };
  writeFileSync(`${directory}/prometheus.yml`, stringify({ global: { evaluation_interval: '1s' }, scrape_configs: [job] }));
  const url = `http://127.0.0.1:${await freePort()}`;
  const prometheus = await startServer(t, 'prometheus', [`--config.file=${directory}/prometheus.yml`, `--storage.tsdb.path=${directory}/data`, `--web.listen-address=${new URL(url).host}`], url, '/-/ready');

  let sites: Array<{ metric: Record<string, string> }> = [];
  for (const started = Date.now(); Date.now() - started < 30_000 && sites.length === 0; await sleep(500)) sites = await evaluate(prometheus.url, 'heapwatch_site_live_bytes', true);
  assert.ok(sites.length > 0, `nothing scraped:\n${prometheus.output().slice(-2000)}`);
  const line = String(readFileSync(fixture, 'utf8').split('\n').findIndex((text) => text.includes('function retainInvoices(')) + 1);
  const retained = sites.find((series) => series.metric['function'] === 'retainInvoices');
  assert.deepEqual(retained?.metric, { __name__: 'heapwatch_site_live_bytes', job: 'orders', instance: 'orders-7f9c', otel_scope_name: 'heapwatch', function: 'retainInvoices', file: fixture, line });
  for (const series of sites) assert.deepEqual(Object.keys(series.metric).filter((label) => label.startsWith('code_')), [], 'no code_* label left');

  // The allocation-sites dashboard's per-site queries, on this job and instance, find the site.
  const dashboard = committedDashboards().get('heapwatch-allocation-sites.json');
  assert.ok(dashboard);
  const perSite = panelQueries(dashboard).filter((query) => query.where.includes('Sites by growth') || query.where.includes('Live bytes per site'));
  assert.equal(perSite.length, 6);
  for (const query of perSite) {
    const result = await evaluate(prometheus.url, substitute(query.expr, { job: 'orders', instance: 'orders-7f9c' }, '4s'), query.instant);
    assert.ok(result.some((series) => series.metric['function'] === 'retainInvoices' && series.metric['line'] === line), `${query.where}: ${JSON.stringify(result)}`);
  }
});
