import assert from 'node:assert/strict';
import cluster from 'node:cluster';
import type { Worker } from 'node:cluster';
import { once } from 'node:events';
import { get } from 'node:http';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { AggregatorRegistry, register, Registry } from 'prom-client';
import { clusterMetrics, createHeapMonitor, ErrorCode, PrometheusMetric, registerPrometheusMetrics } from '../../src/index.js';
import { listen, pageSeries, promtoolCheck, repoRoot, toolAvailable } from '../helpers.js';

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
    [PrometheusMetric.siteExternalBytes]: 'sum',
    [PrometheusMetric.siteGrowthBytes]: 'sum',
    [PrometheusMetric.siteLeakSuspected]: 'max',
    [PrometheusMetric.leakSuspicionsTotal]: 'sum',
    [PrometheusMetric.siteRouteLiveBytes]: 'sum',
    [PrometheusMetric.siteAllocatedBytesTotal]: 'sum',
    [PrometheusMetric.siteAllocatedObjectsTotal]: 'sum',
    [PrometheusMetric.leakSuspects]: 'sum',
    [PrometheusMetric.logErrorsTotal]: 'sum',
    [PrometheusMetric.otelErrorsTotal]: 'sum',
    [PrometheusMetric.arrayBuffersBytes]: 'sum',
    [PrometheusMetric.memoryUnexplainedBytes]: 'sum',
    [PrometheusMetric.memoryUnexplainedGrowthBytes]: 'sum',
    [PrometheusMetric.memoryUnexplainedGrowthSuspected]: 'max',
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
    [PrometheusMetric.memoryLimitBytes]: 'max',
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

/** A worker of test/fixtures/cluster-worker.mjs, and its first message: it listens, its heapwatch() is up. */
function forkWorker(env: NodeJS.ProcessEnv): { worker: Worker; ready: Promise<void> } {
  const worker = cluster.fork(env);
  const ready = new Promise<void>((resolve) => {
    const onMessage = (message: { port?: number }): void => {
      if (message.port === undefined) return;
      worker.off('message', onMessage);
      resolve();
    };
    worker.on('message', onMessage);
  });
  return { worker, ready };
}

/** The worker's exit; unlike `once(worker, 'exit')`, not rejected by an 'error' event before it. */
const exitOf = (worker: Worker): Promise<void> => new Promise((resolve) => (worker.isDead() ? resolve() : worker.once('exit', () => resolve())));

/** The primary's page as docs/cluster.md serves it: heapwatch's clusterMetrics(), a 500 should it ever reject. */
async function primaryServer(t: { after(fn: () => void): void }): Promise<() => Promise<{ status: number; page: string }>> {
  const server = await listen(async (_req, res) => {
    try {
      const page = await clusterMetrics();
      res.writeHead(200, { 'Content-Type': register.contentType }).end(page);
    } catch (error) {
      res.writeHead(500).end(`${String(error)}\n`);
    }
  });
  t.after(() => server.close());
  return async () => {
    const response = await fetch(`${server.base}/metrics`);
    return { status: response.status, page: await response.text() };
  };
}

/** The worker's own count of readings, asked over IPC. */
function readingsOfWorker(worker: Worker): Promise<number> {
  return new Promise((resolve) => {
    const onMessage = (message: { readings?: number }): void => {
      if (message.readings === undefined) return;
      worker.off('message', onMessage);
      resolve(message.readings);
    };
    worker.on('message', onMessage);
    worker.send('readings');
  });
}

const workersOn = (page: string): string[] => pageSeries(page, PrometheusMetric.snapshotsTotal).map((series) => series.labels['worker'] ?? '').sort();

/** Fails with `describe()` unless `promise` settles within `ms`: for a page that must not wait on a dead worker. */
async function within<T>(promise: Promise<T>, ms: number, describe: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(describe)), ms)));
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Each metric family declared once, each series once, and promtool content. */
async function assertWellFormed(t: { skip(message: string): void }, page: string): Promise<void> {
  const types = page.split('\n').filter((line) => line.startsWith('# TYPE heapwatch_'));
  assert.equal(new Set(types).size, types.length, `a family declared twice:\n${types.join('\n')}`);
  const series = page.split('\n').filter((line) => line.startsWith('heapwatch_')).map((line) => line.slice(0, line.lastIndexOf(' ')));
  assert.equal(new Set(series).size, series.length, 'a series twice on the page');
  if (await toolAvailable(t, 'promtool')) assert.deepEqual(await promtoolCheck(page), { code: 0, output: '' });
}

test("a worker killed with SIGKILL and forked again by the primary's exit listener: the primary's page answers right after the kill, while the new worker starts and once it is up; the dead worker's series leave, the new worker's come", async (t) => {
  cluster.setupPrimary({ exec: `${repoRoot}/test/fixtures/cluster-worker.mjs`, silent: true });
  const scrape = await primaryServer(t);
  // The usual pattern: a worker that dies is replaced. Only this test's workers (another test's may still be exiting).
  const mine = new Set<Worker>();
  let replacement: { worker: Worker; ready: Promise<void> } | undefined;
  const refork = (worker: Worker): void => {
    if (!mine.has(worker) || replacement) return;
    replacement = forkWorker({ LEAKY: '' });
    mine.add(replacement.worker);
  };
  cluster.on('exit', refork);
  t.after(async () => {
    cluster.off('exit', refork);
    for (const worker of mine) if (!worker.isDead()) worker.process.kill('SIGKILL');
    await Promise.all([...mine].map(exitOf));
  });
  const [doomed, survivor] = [forkWorker({ LEAKY: '' }), forkWorker({ LEAKY: '' })];
  for (const { worker } of [doomed, survivor]) mine.add(worker);
  await Promise.all([doomed.ready, survivor.ready]);
  const [doomedLabel, survivorLabel] = [String(doomed.worker.id), String(survivor.worker.id)];
  let page = '';
  for (let waited = 0; waited < 60_000 && workersOn(page).length < 2; waited += 200) {
    await sleep(200);
    page = (await scrape()).page;
  }
  assert.deepEqual(workersOn(page), [doomedLabel, survivorLabel].sort());

  // The kill and the request in one tick: the dead worker is asked (its channel still looks
  // connected), and never answers. The page must not wait for it: a timeout of 10 minutes, which
  // only the worker's disconnection or exit can cut short.
  doomed.worker.process.kill('SIGKILL');
  assert.equal(doomed.worker.isConnected(), true, 'the dead worker is still connected when the page asks');
  const rightAfter = await within(clusterMetrics({ timeoutMs: 600_000 }), 60_000, 'the page waited for the killed worker');
  assert.deepEqual(workersOn(rightAfter), [survivorLabel]);

  // The replacement is forked by the exit listener; in the same tick the page asks it too, long
  // before its heapwatch() can answer (Node 20 loses that request: the page leaves the replacement
  // out after the timeout; Node 22 and later keep it, and the replacement answers once up).
  await exitOf(doomed.worker);
  assert.ok(replacement, 'the exit listener forked a replacement');
  const [duringFork, scrapedDuringFork] = await Promise.all([clusterMetrics(), scrape()]);
  assert.equal(scrapedDuringFork.status, 200, scrapedDuringFork.page);
  for (const starting of [duringFork, scrapedDuringFork.page]) {
    assert.ok(workersOn(starting).includes(survivorLabel), `the survivor's series are on the page:\n${starting}`);
    assert.ok(!workersOn(starting).includes(doomedLabel), "the dead worker's series are not");
  }

  // Once up, the replacement's series come, under a worker id of its own.
  await replacement.ready;
  const replacementLabel = String(replacement.worker.id);
  let after = { status: 0, page: '' };
  for (let waited = 0; waited < 60_000 && !workersOn(after.page).includes(replacementLabel); waited += 200) {
    after = await scrape();
    assert.equal(after.status, 200, after.page);
    await sleep(200);
  }
  assert.deepEqual(workersOn(after.page), [replacementLabel, survivorLabel].sort());
  assert.ok(pageSeries(after.page, PrometheusMetric.siteLiveBytes).every((series) => series.labels['worker'] !== doomedLabel));
  await assertWellFormed(t, after.page);
});

test("a worker that throws, restarted into its slot (NODE_APP_INSTANCE): every scrape meanwhile answers 200, and the slot's series are the new worker's alone, never summed with the dead one's", async (t) => {
  cluster.setupPrimary({ exec: `${repoRoot}/test/fixtures/cluster-worker.mjs`, silent: true });
  const scrape = await primaryServer(t);
  // docs/cluster.md's restart into the same slot.
  let restarting = true;
  const slots = new Map<string, { worker: Worker; ready: Promise<void> }>();
  const fork = (slot: string): void => {
    const forked = forkWorker({ LEAKY: '', NODE_APP_INSTANCE: slot });
    slots.set(slot, forked);
    forked.worker.on('exit', () => restarting && fork(slot));
  };
  t.after(async () => {
    restarting = false;
    for (const { worker } of slots.values()) if (!worker.isDead()) worker.process.kill('SIGKILL');
    await Promise.all([...slots.values()].map(({ worker }) => exitOf(worker)));
  });
  fork('0');
  fork('1');
  const first = slots.get('0')?.worker as Worker;
  await Promise.all([...slots.values()].map(({ ready }) => ready));
  // Long enough for the dead worker's counter to stand out, were it added to the new one's.
  let page = '';
  const readingsOf = (slot: string): number => pageSeries(page, PrometheusMetric.snapshotsTotal).find((series) => series.labels['worker'] === slot)?.value ?? 0;
  for (let waited = 0; waited < 60_000 && (readingsOf('0') < 25 || readingsOf('1') === 0); waited += 200) {
    await sleep(200);
    page = (await scrape()).page;
  }
  assert.ok(readingsOf('0') >= 25 && readingsOf('1') > 0, page);

  // A scrape as it throws; one in the tick its exit listener forks the replacement, long before the
  // replacement's heapwatch() can answer; then scrapes until the replacement is on the page.
  const statuses = new Map<number, number>();
  const count = (scraped: { status: number; page: string }): string => {
    statuses.set(scraped.status, (statuses.get(scraped.status) ?? 0) + 1);
    return scraped.page;
  };
  first.send('crash');
  const whileThrowing = scrape();
  await exitOf(first);
  const whileStarting = scrape();
  count(await whileThrowing);
  page = count(await whileStarting);
  assert.ok(workersOn(page).includes('1'), `the other slot's series are on the page:\n${page}`);
  for (let waited = 0; waited < 60_000 && readingsOf('0') === 0; waited += 200) {
    await sleep(200);
    page = count(await scrape());
  }
  // The slot's counter on the page, then the new worker's own count: never less, were the dead worker's added.
  const current = slots.get('0')?.worker as Worker;
  const readings = await readingsOfWorker(current);
  assert.ok(readingsOf('0') > 0 && readingsOf('0') <= readings, `worker="0" shows ${readingsOf('0')} readings, the new worker has had ${readings}: the dead worker's are added`);
  assert.notEqual(slots.get('0')?.worker, first, 'the slot was forked again');
  assert.equal(first.process.exitCode, 1, 'the first worker died of its exception');
  assert.deepEqual([...statuses.keys()], [200], `every scrape answered 200: ${JSON.stringify([...statuses])}`);
  assert.deepEqual(workersOn(page), ['0', '1']);
  await assertWellFormed(t, page);
});

test('clusterMetrics() checks its options at the call, naming the option; with no worker connected its page is empty', async () => {
  assert.throws(
    () => clusterMetrics({ timeoutMs: 0 }),
    (error: NodeJS.ErrnoException) => error.code === ErrorCode.INVALID_OPTION && error.message === 'Invalid option "timeoutMs": expected an integer between 1 and 3600000, received 0',
  );
  assert.throws(() => clusterMetrics({ timeout: 5 } as object), (error: NodeJS.ErrnoException) => error.code === ErrorCode.INVALID_OPTION && /"timeout"/.test(error.message));
  // This test process is the primary of the tests above: once their workers are gone, no one answers.
  for (let waited = 0; waited < 60_000 && Object.keys(cluster.workers ?? {}).length > 0; waited += 50) await sleep(50);
  assert.equal((await clusterMetrics()).trim(), '');
});
