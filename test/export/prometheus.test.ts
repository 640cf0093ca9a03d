import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { Registry } from 'prom-client';
import { createHeapMonitor, registerPrometheusMetrics } from '../../src/index.js';
import type { HeapMonitor } from '../../src/index.js';
import { nextReadings, repoRoot } from '../helpers.js';

const fixture = 'test/fixtures/retainers.mjs';
const retainers = (await import(pathToFileURL(`${repoRoot}/${fixture}`).href)) as Record<
  'retainLargest' | 'retainMiddle' | 'retainSmallest' | 'retainTwins',
  () => void
> & { release(name: string): void };

const source = readFileSync(`${repoRoot}/${fixture}`, 'utf8').split('\n');
const lineOf = (text: string): number => source.findIndex((line) => line.includes(text)) + 1;

/** The series of one metric on a Prometheus page: labels → value. */
function seriesOf(page: string, metric: string): Map<string, number> {
  const series = new Map<string, number>();
  for (const line of page.split('\n')) {
    if (!line.startsWith(`${metric}{`)) continue;
    const close = line.lastIndexOf('} ');
    series.set(line.slice(metric.length + 1, close), Number(line.slice(close + 2)));
  }
  return series;
}

/** A monitor on the inspector reader, whose forced GC before each read makes released memory vanish at the next reading. */
function startMonitor(topSites: number): HeapMonitor {
  return createHeapMonitor({
    reader: 'inspector',
    intervalMs: 250,
    windowMs: 1000,
    samplingIntervalBytes: 16 * 1024,
    topSites,
    logger: false,
  }).start();
}

const labels = (fn: string, line: number): string => `function="${fn}",file="${fixture}",line="${line}"`;

test('only the topSites largest sites carry labels, with the monitor’s figures, and a site that leaves the top loses its series', async (t) => {
  const monitor = startMonitor(2);
  const registry = new Registry();
  const unregister = registerPrometheusMetrics(monitor, registry);
  t.after(() => {
    unregister();
    monitor.stop();
    for (const name of ['largest', 'middle', 'smallest']) retainers.release(name);
  });
  retainers.retainLargest();
  retainers.retainMiddle();
  retainers.retainSmallest();
  await nextReadings(monitor);

  const page = await registry.metrics();
  // No reading can run between the page and this: only microtasks ran since.
  const [first, second] = monitor.sites();
  const live = seriesOf(page, 'heapwatch_site_live_bytes');
  assert.deepEqual(
    live,
    new Map([
      [labels('retainLargest', lineOf('function retainLargest')), first?.liveBytes],
      [labels('retainMiddle', lineOf('function retainMiddle')), second?.liveBytes],
    ]),
  );
  assert.deepEqual([...seriesOf(page, 'heapwatch_site_live_objects').values()], [first?.count, second?.count]);
  // Outside V8's heap, apart: the sites' shares of ArrayBuffer memory, as the monitor reports them.
  assert.deepEqual([...seriesOf(page, 'heapwatch_site_external_bytes').values()], [first?.externalBytes, second?.externalBytes]);
  assert.deepEqual([...seriesOf(page, 'heapwatch_site_leak_suspected').values()], [0, 0]);
  assert.deepEqual([...seriesOf(page, 'heapwatch_leak_suspicions_total').values()], [0, 0]);
  assert.match(page, new RegExp(`^heapwatch_sites_tracked ${monitor.stats().trackedSites}$`, 'm'));
  assert.match(page, new RegExp(`^heapwatch_sampled_live_bytes ${monitor.stats().sampledLiveBytes}$`, 'm'));

  retainers.release('largest');
  await nextReadings(monitor, 2);
  const after = seriesOf(await registry.metrics(), 'heapwatch_site_live_bytes');
  assert.deepEqual(
    [...after.keys()],
    [labels('retainMiddle', lineOf('function retainMiddle')), labels('retainSmallest', lineOf('function retainSmallest'))],
  );
});

test('sites that share function, file and line but not column are one series, with their sum', async (t) => {
  const monitor = startMonitor(10);
  const registry = new Registry();
  const unregister = registerPrometheusMetrics(monitor, registry);
  t.after(() => {
    unregister();
    monitor.stop();
    retainers.release('twins');
  });
  retainers.retainTwins();
  await nextReadings(monitor);

  const page = await registry.metrics();
  const twinLine = lineOf('export const twins');
  const twins = monitor.sites().filter((report) => report.site.file.endsWith(fixture) && report.site.line === twinLine);
  assert.equal(new Set(twins.map((report) => report.site.column)).size, 2, 'V8 sees two sites');
  const series = [...seriesOf(page, 'heapwatch_site_live_bytes')].filter(([key]) => key.includes(`line="${twinLine}"`));
  assert.deepEqual(series, [[labels('twin', twinLine), twins.reduce((sum, report) => sum + report.liveBytes, 0)]]);
});

test('registering twice on one registry is refused; the returned function removes every metric', () => {
  const monitor = createHeapMonitor({ logger: false });
  const registry = new Registry();
  const unregister = registerPrometheusMetrics(monitor, registry);
  assert.throws(() => registerPrometheusMetrics(monitor, registry), { code: 'HEAPWATCH_ERR_INVALID_OPTION' });
  assert.ok(registry.getMetricsAsArray().length > 10);
  unregister();
  assert.deepEqual(registry.getMetricsAsArray(), []);
  assert.equal(monitor.listenerCount('reading'), 0);
});

test('heapwatch_array_buffers_bytes carries the Buffer contents outside the heap, which no site is charged for', async (t) => {
  const registry = new Registry();
  const unregister = registerPrometheusMetrics(createHeapMonitor({ logger: false }), registry);
  t.after(unregister);
  const valueOf = async (): Promise<number> => {
    const line = (await registry.metrics()).split('\n').find((row) => row.startsWith('heapwatch_array_buffers_bytes '));
    assert.ok(line, 'the page has heapwatch_array_buffers_bytes');
    return Number(line.slice(line.indexOf(' ') + 1));
  };
  const before = await valueOf();
  const held = Buffer.alloc(32 * 1024 * 1024, 1);
  const after = await valueOf();
  assert.ok(after - before >= held.length, `grew by ${after - before} bytes with a ${held.length}-byte Buffer alive`);
  assert.ok(after <= process.memoryUsage().external, 'part of the external memory');
});
