import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { metrics } from '@opentelemetry/api';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import {
  AggregationTemporality,
  DataPointType,
  MeterProvider,
  MetricReader,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import type { CollectionResult, MetricData } from '@opentelemetry/sdk-metrics';
import express from 'express';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { SNAPSHOT_DURATION_BUCKETS_SECONDS } from '../../src/export/duration-buckets.js';
import { observeWithOpenTelemetry, OtelInstrument } from '../../src/export/otel.js';
import { containerMemoryLimitBytes } from '../../src/monitor/container-limit.js';
import { heapwatch } from '../../src/index.js';
import type { SiteReport } from '../../src/log/site-report.js';
import { createHeapMonitor } from '../../src/monitor/monitor.js';
import type { HeapMonitor } from '../../src/monitor/monitor.js';
import type { ReadingTiming } from '../../src/monitor/stats.js';
import { nextReadings, repoRoot } from '../helpers.js';
import { decodeAttributes, decodeValue, startReceiver } from '../otlp-receiver.js';
import type { OtlpNumberPoint } from '../otlp-receiver.js';

const fixtureFile = `${repoRoot}/test/fixtures/otel-retainer.mjs`;
const { retainInvoices, releaseInvoices } = (await import(pathToFileURL(fixtureFile).href)) as {
  retainInvoices: (n: number) => number;
  releaseInvoices: () => void;
};

/** Where V8 says retainInvoices is declared: 1-based line, and 1-based column of its `(`. */
const declaration = (() => {
  const lines = readFileSync(fixtureFile, 'utf8').split('\n');
  const index = lines.findIndex((line) => line.includes('function retainInvoices('));
  assert.ok(index >= 0, 'the fixture declares retainInvoices');
  return { line: index + 1, column: (lines[index] as string).indexOf('(') + 1 };
})();

/** The four `code.*` attributes the retaining site must carry. */
const retainerAttributes = {
  'code.function.name': 'retainInvoices',
  'code.file.path': fixtureFile,
  'code.line.number': declaration.line,
  'code.column.number': declaration.column,
};

/** Short live options: one reading at start(), then none for a minute, so figures hold still. */
const stillOptions = { intervalMs: 60_000, windowMs: 240_000, samplingIntervalBytes: 32 * 1024, logger: false } as const;

/** Retained objects: ~20k invoices of ~250 bytes, about 5 MB, far above everything else sampled. */
const INVOICES = 20_000;

/** A reader the test collects from itself, as an application's pull exporter would. */
class CollectingReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

/** The instruments of meter `heapwatch` in one collection, by name. */
function heapwatchInstruments(result: CollectionResult): Map<string, MetricData> {
  assert.deepEqual(result.errors, [], 'the collection had no errors');
  const scopes = result.resourceMetrics.scopeMetrics.filter((scope) => scope.scope.name === 'heapwatch');
  return new Map(scopes.flatMap((scope) => scope.metrics).map((metric) => [metric.descriptor.name, metric]));
}

/** The value of `name`'s point for the site with these attributes. */
function pointValue(instruments: Map<string, MetricData>, name: string, attributes: object): unknown {
  const points = (instruments.get(name)?.dataPoints ?? []) as Array<{ attributes: object; value: unknown }>;
  const matching = points.filter((point) => isDeepStrictEqual(point.attributes, attributes));
  assert.equal(matching.length, 1, `one ${name} point for ${JSON.stringify(attributes)}`);
  return matching[0]?.value;
}

/** The retaining site as the monitor reports it, checked against the fixture's source. */
function retainingSite(monitor: HeapMonitor): SiteReport {
  const site = monitor.sites().find((report) => report.site.functionName === 'retainInvoices');
  assert.ok(site, `retainInvoices is a tracked site (sites: ${monitor.sites().map((s) => s.site.functionName).join(', ')})`);
  assert.deepEqual({ ...site.site }, { functionName: 'retainInvoices', file: fixtureFile, ...declaration });
  assert.ok(site.liveBytes > 1024 * 1024, `${site.liveBytes} live bytes retained`);
  return site;
}

/** The five per-site figures of a site, as the monitor gives them. */
function figuresOf(monitor: HeapMonitor, site: SiteReport) {
  return {
    [OtelInstrument.siteLive]: site.liveBytes,
    [OtelInstrument.siteLiveObjects]: site.count,
    [OtelInstrument.siteExternal]: site.externalBytes,
    [OtelInstrument.siteGrowth]: site.growthBytes,
    [OtelInstrument.siteLeakSuspected]: site.suspected ? 1 : 0,
    [OtelInstrument.leakSuspicions]: monitor.suspicionsRaisedAt(site.key),
  };
}

/** Starts `monitor`, retains invoices while it samples, and waits for its one reading. */
async function retainAndRead(monitor: HeapMonitor): Promise<ReadingTiming> {
  const reading = nextReadings<ReadingTiming>(monitor);
  monitor.start();
  // Synchronously, before the first tick: sampled now, read at the tick.
  retainInvoices(INVOICES);
  const [timing] = (await reading) as [ReadingTiming];
  assert.equal(timing.failed, false, 'the reading succeeded');
  return timing;
}

test('the figures of the retaining site reach an SDK reader exactly as monitor.sites() gives them, with the code.* attributes of its declaration, in one collection', async (t) => {
  const reader = new CollectingReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  const monitor = createHeapMonitor({ ...stillOptions, topSites: 3 });
  const unobserve = observeWithOpenTelemetry(monitor, meterProvider);
  t.after(async () => {
    unobserve();
    monitor.stop();
    releaseInvoices();
    await meterProvider.shutdown();
  });

  const timing = await retainAndRead(monitor);
  // One collection, nothing read in between: the monitor's next tick is a minute away.
  const instruments = heapwatchInstruments(await reader.collect());
  const site = retainingSite(monitor);
  const stats = monitor.stats();

  // Every instrument, with its unit and kind, arrived from the one collection.
  assert.deepEqual(
    Object.fromEntries([...instruments].map(([name, metric]) => [name, [metric.descriptor.unit, metric.dataPointType]])),
    {
      [OtelInstrument.siteLive]: ['By', DataPointType.GAUGE],
      [OtelInstrument.siteLiveObjects]: ['{object}', DataPointType.GAUGE],
      [OtelInstrument.siteExternal]: ['By', DataPointType.GAUGE],
      [OtelInstrument.siteGrowth]: ['By', DataPointType.GAUGE],
      [OtelInstrument.siteLeakSuspected]: ['{suspect}', DataPointType.GAUGE],
      [OtelInstrument.leakSuspicions]: ['{suspicion}', DataPointType.SUM],
      [OtelInstrument.leakSuspects]: ['{site}', DataPointType.GAUGE],
      [OtelInstrument.sampledLive]: ['By', DataPointType.GAUGE],
      [OtelInstrument.sitesTracked]: ['{site}', DataPointType.GAUGE],
      [OtelInstrument.sitesDropped]: ['{site}', DataPointType.GAUGE],
      [OtelInstrument.snapshots]: ['{reading}', DataPointType.SUM],
      [OtelInstrument.snapshotErrors]: ['{error}', DataPointType.SUM],
      [OtelInstrument.logErrors]: ['{record}', DataPointType.SUM],
      [OtelInstrument.samplingInterval]: ['By', DataPointType.GAUGE],
      [OtelInstrument.memoryUnexplained]: ['By', DataPointType.GAUGE],
      [OtelInstrument.memoryUnexplainedGrowth]: ['By', DataPointType.GAUGE],
      [OtelInstrument.memoryUnexplainedGrowthSuspected]: ['{suspect}', DataPointType.GAUGE],
      [OtelInstrument.snapshotDuration]: ['s', DataPointType.HISTOGRAM],
    },
  );
  // The process's memory no site explains, as the monitor read it at the same tick.
  const unexplained = monitor.unexplainedMemory();
  assert.ok(unexplained, 'read at the first tick');
  assert.equal(instruments.get(OtelInstrument.memoryUnexplained)?.dataPoints[0]?.value, Math.max(0, unexplained.unexplainedBytes));
  assert.equal(instruments.get(OtelInstrument.memoryUnexplainedGrowth)?.dataPoints[0]?.value, unexplained.growthBytes);
  assert.equal(instruments.get(OtelInstrument.memoryUnexplainedGrowthSuspected)?.dataPoints[0]?.value, 0);
  for (const name of [OtelInstrument.leakSuspicions, OtelInstrument.snapshots, OtelInstrument.snapshotErrors, OtelInstrument.logErrors]) {
    const metric = instruments.get(name);
    assert.ok(metric?.dataPointType === DataPointType.SUM && metric.isMonotonic, `${name} is a monotonic counter`);
  }

  // The retaining site's five figures are the monitor's, at the same reading.
  for (const [name, expected] of Object.entries(figuresOf(monitor, site))) {
    assert.equal(pointValue(instruments, name, retainerAttributes), expected, name);
  }

  // Per-site points exist for the labelled sites only: the 3 largest and every suspect.
  const labelled = monitor.sites().filter((report, rank) => rank < 3 || report.suspected);
  const attributesOf = (report: SiteReport) => ({
    'code.function.name': report.site.functionName,
    'code.file.path': report.site.file,
    'code.line.number': report.site.line,
    'code.column.number': report.site.column,
  });
  for (const name of [OtelInstrument.siteLive, OtelInstrument.siteLiveObjects, OtelInstrument.siteGrowth, OtelInstrument.siteLeakSuspected, OtelInstrument.leakSuspicions]) {
    const points = instruments.get(name)?.dataPoints ?? [];
    assert.ok(points.length <= 3 + monitor.suspects().length, `${name}: ${points.length} points`);
    assert.deepEqual(
      points.map((point) => point.attributes),
      labelled.map(attributesOf),
      `${name} has a point for each labelled site, largest first`,
    );
  }

  // The process-wide figures.
  const single = (name: string): unknown => {
    const points = instruments.get(name)?.dataPoints ?? [];
    assert.equal(points.length, 1, `${name} has one point`);
    assert.deepEqual(points[0]?.attributes, {}, `${name} has no attributes`);
    return points[0]?.value;
  };
  assert.equal(single(OtelInstrument.leakSuspects), monitor.suspects().length);
  assert.equal(single(OtelInstrument.sampledLive), monitor.stats().sampledLiveBytes);
  assert.ok((monitor.stats().sampledLiveBytes) >= site.liveBytes);
  assert.equal(single(OtelInstrument.sitesTracked), stats.trackedSites);
  assert.equal(single(OtelInstrument.sitesDropped), stats.droppedSites);
  assert.equal(single(OtelInstrument.snapshots), stats.readings);
  assert.equal(single(OtelInstrument.snapshotErrors), 0);
  assert.equal(single(OtelInstrument.logErrors), 0);
  assert.equal(single(OtelInstrument.samplingInterval), 32 * 1024);

  // The duration histogram holds the one reading, in seconds, in heapwatch's buckets.
  const duration = single(OtelInstrument.snapshotDuration) as { count: number; sum: number; buckets: { boundaries: number[] } };
  assert.equal(duration.count, 1);
  assert.equal(duration.sum, timing.durationMs / 1000);
  assert.deepEqual(duration.buckets.boundaries, [...SNAPSHOT_DURATION_BUCKETS_SECONDS]);
});

test('the same figures and attributes reach an OTLP/HTTP receiver through the OTLP exporter', async (t) => {
  const receiver = await startReceiver();
  const meterProvider = new MeterProvider({
    readers: [
      new PeriodicExportingMetricReader({
        exporter: new OTLPMetricExporter({ url: receiver.url }),
        exportIntervalMillis: 60_000,
      }),
    ],
  });
  const monitor = createHeapMonitor({ ...stillOptions, topSites: 3 });
  const unobserve = observeWithOpenTelemetry(monitor, meterProvider);
  t.after(async () => {
    unobserve();
    monitor.stop();
    releaseInvoices();
    await meterProvider.shutdown();
    receiver.close();
  });

  await retainAndRead(monitor);
  await meterProvider.forceFlush();
  const site = retainingSite(monitor);

  assert.equal(receiver.requests.length, 1, 'one export');
  const [request] = receiver.requests;
  assert.match(request?.headers['content-type'] ?? '', /^application\/json/);
  const exported = new Map(
    (request?.body.resourceMetrics ?? [])
      .flatMap((resource) => resource.scopeMetrics)
      .filter((scope) => scope.scope.name === 'heapwatch')
      .flatMap((scope) => scope.metrics)
      .map((metric) => [metric.name, metric]),
  );
  assert.equal(exported.get(OtelInstrument.siteLive)?.unit, 'By');
  assert.equal(exported.get(OtelInstrument.leakSuspicions)?.sum?.isMonotonic, true);

  for (const [name, expected] of Object.entries(figuresOf(monitor, site))) {
    const metric = exported.get(name);
    const points = metric?.gauge?.dataPoints ?? metric?.sum?.dataPoints ?? [];
    const matching = points.filter((point) => decodeAttributes(point.attributes)['code.function.name'] === 'retainInvoices');
    assert.equal(matching.length, 1, `one ${name} point for retainInvoices`);
    assert.deepEqual(decodeAttributes(matching[0]?.attributes), retainerAttributes, `${name}'s attributes`);
    assert.equal(decodeValue(matching[0] as OtlpNumberPoint), expected, name);
  }
});

test('through app.use(heapwatch({ meterProvider })), a collection holds the instruments, and after stop() none of them', async (t) => {
  // Delta temporality: the JS SDK (2.12) keeps re-exporting the last cumulative value of every
  // attribute set an observable ever reported, even once its callback is gone
  // (open-telemetry/opentelemetry-js#4096), so only a delta reader can show that nothing is observed.
  const reader = new CollectingReader({ aggregationTemporalitySelector: () => AggregationTemporality.DELTA });
  const meterProvider = new MeterProvider({ readers: [reader] });
  const middleware = heapwatch({ meterProvider, registry: new Registry(), logger: false, intervalMs: 60_000, samplingIntervalBytes: 32 * 1024 });
  const { monitor } = middleware;
  const reading = once(monitor, 'reading');
  retainInvoices(INVOICES);
  const app = express();
  app.use(middleware);
  app.get('/invoices', (_req, res) => {
    res.json({ retained: retainInvoices(0) });
  });
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(async () => {
    middleware.stop();
    releaseInvoices();
    server.closeAllConnections();
    server.close();
    await meterProvider.shutdown();
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  await reading;

  // Requests other than /metrics pass through to the app.
  const response = await fetch(`${base}/invoices`);
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { retained: INVOICES });

  const instruments = heapwatchInstruments(await reader.collect());
  // Every instrument but the routes of suspects (points only while a site is suspected) and the
  // container's memory limit (a point only where the process runs under one), and the allocation
  // counters (points only in allocation mode, off here).
  const limited = containerMemoryLimitBytes() !== undefined;
  const allocationMode = new Set<string>([OtelInstrument.siteAllocated, OtelInstrument.siteAllocatedObjects]);
  const observed = Object.values(OtelInstrument).filter(
    (name) => name !== OtelInstrument.siteRouteLive && !allocationMode.has(name) && (limited || name !== OtelInstrument.memoryLimit),
  );
  assert.deepEqual([...instruments.keys()].sort(), observed.sort());
  if (limited) assert.equal(instruments.get(OtelInstrument.memoryLimit)?.dataPoints[0]?.value, containerMemoryLimitBytes());
  const site = retainingSite(monitor);
  assert.equal(pointValue(instruments, OtelInstrument.siteLive, retainerAttributes), site.liveBytes);
  assert.equal(instruments.get(OtelInstrument.sitesTracked)?.dataPoints[0]?.value, monitor.stats().trackedSites);

  middleware.stop();
  assert.equal(monitor.running, false, 'the last heapwatch() stopped the monitor');
  assert.equal(monitor.listenerCount('reading'), 0, "no exporter still listens to the monitor's readings");
  const after = heapwatchInstruments(await reader.collect());
  const points = [...after].flatMap(([name, metric]) => metric.dataPoints.map(() => name));
  assert.deepEqual(points, [], 'no heapwatch points after stop()');
});

test('without an SDK, on the API no-op global provider, observing works silently and the returned function can be called twice', async (t) => {
  const records: Array<{ msg: string; heapwatch?: { event?: string } }> = [];
  const logger = pino(
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        records.push(JSON.parse(chunk.toString()) as (typeof records)[number]);
        done();
      },
    }),
  );
  const monitor = createHeapMonitor({ ...stillOptions, logger });
  t.after(() => {
    monitor.stop();
    releaseInvoices();
  });
  const unobserve = observeWithOpenTelemetry(monitor, metrics.getMeterProvider());
  assert.equal(monitor.listenerCount('reading'), 1, 'the duration histogram listens to readings');

  await retainAndRead(monitor);
  assert.equal(monitor.stats().readingErrors, 0);
  assert.deepEqual(records, [], 'the no-op histogram took the reading without a listener failure');

  unobserve();
  unobserve();
  assert.equal(monitor.listenerCount('reading'), 0);
});
