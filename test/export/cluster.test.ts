import assert from 'node:assert/strict';
import cluster from 'node:cluster';
import type { Worker } from 'node:cluster';
import { once } from 'node:events';
import { get } from 'node:http';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { AggregatorRegistry, Registry } from 'prom-client';
import { createHeapMonitor, PrometheusMetric, registerPrometheusMetrics } from '../../src/index.js';
import { pageSeries, promtoolCheck, repoRoot, toolAvailable } from '../helpers.js';

const fixture = 'test/fixtures/leaky-orders.mjs';
const lineOf = (name: string): string =>
  String(readFileSync(`${repoRoot}/${fixture}`, 'utf8').split('\n').findIndex((line) => line.includes(`function ${name}(`)) + 1);

/** One request on a connection of its own: the primary hands connections to the workers in turn. */
function request(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path, agent: false }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    }).on('error', reject);
  });
}

test("each metric names how a cluster's primary aggregates it: sums of counts and bytes, the largest of limits and settings", async () => {
  const registry = new Registry();
  const unregister = registerPrometheusMetrics(createHeapMonitor({ logger: false }), registry);
  const aggregators = Object.fromEntries((await registry.getMetricsAsJSON()).map((metric) => [metric.name, metric.aggregator]));
  unregister();
  // docs/cluster.md says the same, row by row.
  const documented = Object.fromEntries(
    [...readFileSync(`${repoRoot}/docs/cluster.md`, 'utf8').matchAll(/^\| `(heapwatch_\w+)` \| `(\w+)` \|/gm)].map((m) => [m[1], m[2]]),
  );
  assert.deepEqual(documented, aggregators);
  assert.deepEqual(aggregators, {
    [PrometheusMetric.siteLiveBytes]: 'sum',
    [PrometheusMetric.siteLiveObjects]: 'sum',
    [PrometheusMetric.siteGrowthBytes]: 'sum',
    [PrometheusMetric.siteLeakSuspected]: 'max',
    [PrometheusMetric.leakSuspicionsTotal]: 'sum',
    [PrometheusMetric.leakSuspects]: 'sum',
    [PrometheusMetric.logErrorsTotal]: 'sum',
    [PrometheusMetric.otelErrorsTotal]: 'sum',
    [PrometheusMetric.arrayBuffersBytes]: 'sum',
    [PrometheusMetric.sampledLiveBytes]: 'sum',
    [PrometheusMetric.sitesTracked]: 'sum',
    [PrometheusMetric.sitesDropped]: 'sum',
    [PrometheusMetric.snapshotsTotal]: 'sum',
    [PrometheusMetric.snapshotErrorsTotal]: 'sum',
    [PrometheusMetric.forcedGcsTotal]: 'sum',
    [PrometheusMetric.skippedGcsTotal]: 'sum',
    [PrometheusMetric.samplingIntervalBytes]: 'max',
    [PrometheusMetric.growthThresholdBytes]: 'max',
    [PrometheusMetric.windowSeconds]: 'max',
    [PrometheusMetric.heapSizeLimitBytes]: 'max',
    [PrometheusMetric.snapshotDurationSeconds]: 'sum',
  });
});

test("a cluster of two Express workers on one port, one leaking: the primary's page names the leaking function in the leaking worker only, and loses a worker's series when it dies", async (t) => {
  // The plain prom-client way: an AggregatorRegistry in the primary, nothing more in the workers
  // than app.use(heapwatch()).
  const registry = new AggregatorRegistry();
  cluster.setupPrimary({ exec: `${repoRoot}/test/fixtures/cluster-worker.mjs`, silent: true });
  const ready = async (worker: Worker): Promise<{ port: number; heapSizeLimitBytes: number }> => {
    const [message] = (await once(worker, 'message')) as [{ port: number; heapSizeLimitBytes: number }];
    return message;
  };
  const leaky = cluster.fork({ LEAKY: '1' });
  const quiet = cluster.fork({ LEAKY: '' });
  t.after(() => {
    for (const worker of [leaky, quiet]) if (!worker.isDead()) worker.process.kill('SIGKILL');
  });
  const [leakyInfo, quietInfo] = await Promise.all([ready(leaky), ready(quiet)]);
  assert.equal(leakyInfo.port, quietInfo.port, 'the workers share one port');
  const { port } = leakyInfo;
  const [leakyLabel, quietLabel] = [String(leaky.id), String(quiet.id)];

  let loading = true;
  const served = new Map<number, number>();
  const load = (async () => {
    for (let n = 0; loading; n++) {
      const status = await request(port, `/orders/${n}`);
      served.set(status, (served.get(status) ?? 0) + 1);
      await sleep(2);
    }
  })();

  let page = '';
  let suspected: Array<{ labels: Record<string, string>; value: number }> = [];
  for (let waited = 0; waited < 90_000 && suspected.length === 0; waited += 500) {
    await sleep(500);
    page = await registry.clusterMetrics();
    suspected = pageSeries(page, PrometheusMetric.siteLeakSuspected).filter((series) => series.value === 1);
  }
  loading = false;
  await load;
  assert.deepEqual([...served.keys()], [200], 'every request was served');

  // V8 may inline rememberOrderView into orderRoute; then the route is the frame that allocates.
  const leakingSites = [`rememberOrderView:${lineOf('rememberOrderView')}`, `orderRoute:${lineOf('orderRoute')}`];
  assert.ok(suspected.length > 0, `no site suspected; page:\n${page}`);
  for (const { labels } of suspected) {
    assert.equal(labels['worker'], leakyLabel, `only the leaking worker has a suspect: ${JSON.stringify(labels)}`);
    assert.equal(labels['file'], fixture);
    assert.ok(leakingSites.includes(`${labels['function']}:${labels['line']}`), `suspected ${JSON.stringify(labels)}, expected one of ${leakingSites}`);
  }
  const quietSites = pageSeries(page, PrometheusMetric.siteLeakSuspected).filter((series) => series.labels['worker'] === quietLabel);
  assert.ok(quietSites.length > 0, "the quiet worker's sites are on the page");
  assert.ok(quietSites.every((series) => series.value === 0), "none of the quiet worker's sites is suspected");
  assert.ok(
    pageSeries(page, PrometheusMetric.siteLiveBytes).every((series) => [leakyLabel, quietLabel].includes(series.labels['worker'] ?? '')),
    'every per-site series says which worker it comes from',
  );
  // Counters stay per worker; gauges are combined by their aggregator.
  assert.deepEqual(pageSeries(page, PrometheusMetric.snapshotsTotal).map((series) => series.labels['worker']).sort(), [leakyLabel, quietLabel].sort());
  assert.deepEqual(pageSeries(page, PrometheusMetric.leakSuspects), [{ labels: {}, value: suspected.length }]);
  assert.deepEqual(pageSeries(page, PrometheusMetric.heapSizeLimitBytes), [
    { labels: {}, value: Math.max(leakyInfo.heapSizeLimitBytes, quietInfo.heapSizeLimitBytes) },
  ]);

  if (await toolAvailable(t, 'promtool')) {
    const check = await promtoolCheck(page);
    assert.deepEqual(check, { code: 0, output: '' }, `promtool check metrics complained about the aggregated page:\n${check.output}`);
  }

  // A worker that dies answers no more: its series leave the primary's page at the next scrape.
  leaky.process.kill('SIGKILL');
  await once(leaky, 'exit');
  const after = await registry.clusterMetrics();
  assert.equal(pageSeries(after, PrometheusMetric.siteLiveBytes).filter((series) => series.labels['worker'] === leakyLabel).length, 0);
  assert.ok(pageSeries(after, PrometheusMetric.siteLiveBytes).some((series) => series.labels['worker'] === quietLabel));
  assert.deepEqual(pageSeries(after, PrometheusMetric.leakSuspects), [{ labels: {}, value: 0 }]);
});
