import assert from 'node:assert/strict';
import { once } from 'node:events';
import { afterEach, test } from 'node:test';
import { Registry } from 'prom-client';
import { startSampling, stopSampling } from '../../src/v8/sampler.js';
import { takeSnapshot } from '../../src/take-snapshot.js';
import { createHeapMonitor } from '../../src/monitor/monitor.js';
import { registerPrometheusMetrics } from '../../src/export/prometheus.js';
import type { HeapwatchError } from '../../src/errors.js';

const NODE_MAJOR = Number(process.versions.node.split('.')[0]);
const onNode26 = NODE_MAJOR >= 26 ? false : `allocation mode needs Node 26's V8; this is Node ${process.versions.node}`;
const beforeNode26 = NODE_MAJOR < 26 ? false : 'on Node 26 allocation data is available';

afterEach(() => stopSampling());


/** A route's work that keeps nothing: every object dies before the next request. */
function churnRequest(): number {
  let length = 0;
  for (let i = 0; i < 20_000; i++) {
    const payload = { id: i, body: `payload-${i}` };
    length += payload.body.length;
  }
  return length;
}

/**
 * A route's work that keeps all it allocates, on a linked list. (Into a Map the same leak
 * survived at about 0.56, into an array at about 0.8: their tables' regrowth is garbage too, and
 * so are the temporary strings of a template literal.)
 */
interface Kept {
  readonly id: number;
  readonly values: readonly number[];
  readonly next: Kept | undefined;
}
let leaked: Kept | undefined;
function leakRequest(request: number): void {
  for (let i = 0; i < 1_000; i++) leaked = { id: i, values: [i, request, i + request], next: leaked };
}

function serve(requests: number, from = 0): void {
  for (let r = from; r < from + requests; r++) {
    churnRequest();
    leakRequest(r);
  }
}

const site = (name: string) => (stat: { site: { functionName: string } }) => stat.site.functionName === name;

test('Node 26: a churning function allocates most with survival near 0, a leaking one survives near 1 (takeSnapshot)', { skip: onNode26 }, () => {
  startSampling({ samplingIntervalBytes: 32 * 1024, allocations: true });
  const before = takeSnapshot();
  serve(100);
  const after = takeSnapshot();
  assert.equal(after.allocations, true);
  assert.equal(after.allocationsUnavailable, undefined);
  const byAllocated = after.statistics('site', 'allocated');
  assert.equal(byAllocated[0]?.site.functionName, 'churnRequest', `top allocating site: ${String(byAllocated[0])}`);
  const churn = byAllocated.find(site('churnRequest'));
  const leak = byAllocated.find(site('leakRequest'));
  assert.ok(churn?.survival !== undefined && churn.survival < 0.05, `churn survival ${churn?.survival}`);
  assert.ok(leak?.survival !== undefined && leak.survival > 0.8, `leak survival ${leak?.survival}`);
  // What each allocated between the two snapshots, most first.
  const diffs = after.compareTo(before, 'site', 'allocated');
  assert.equal(diffs[0]?.site.functionName, 'churnRequest');
  assert.ok((diffs[0]?.allocatedSizeDiff ?? 0) > 0);
  assert.match(String(churn), /allocated=.*survival=\d/);
});

test('Node 26: the monitor counts allocations per site on /metrics, counters that never fall, and survival in its reports', { skip: onNode26 }, async () => {
  const monitor = createHeapMonitor({ logger: false, allocations: true, samplingIntervalBytes: 32 * 1024, intervalMs: 50, forcedGcPauseBudgetMs: 1_000 });
  const registry = new Registry();
  const unregister = registerPrometheusMetrics(monitor, registry);
  monitor.start();
  try {
    const counted: number[] = [];
    for (let round = 0; round < 4; round++) {
      serve(30, 1_000 + round * 30);
      await once(monitor, 'reading');
      await once(monitor, 'reading');
      const metric = await registry.getSingleMetric('heapwatch_site_allocated_bytes_total')?.get();
      const churn = metric?.values.find((value) => value.labels.function === 'churnRequest');
      assert.ok(churn, `churnRequest has an allocated-bytes series: ${JSON.stringify(metric?.values.map((v) => v.labels.function))}`);
      counted.push(churn.value);
    }
    for (let i = 1; i < counted.length; i++) assert.ok((counted[i] as number) >= (counted[i - 1] as number), `counter fell: ${counted.join(', ')}`);
    assert.ok((counted.at(-1) as number) > (counted[0] as number), `counter grew under load: ${counted.join(', ')}`);
    const top = monitor.allocatingSites(3);
    assert.equal(top[0]?.site.functionName, 'churnRequest');
    const leak = monitor.sites().find((report) => report.site.functionName === 'leakRequest');
    assert.ok(leak?.survival !== undefined && leak.survival > 0.8, `leak survival ${leak?.survival}`);
    assert.ok((top.find((report) => report.site.functionName === 'churnRequest')?.survival ?? 1) < 0.05);
    assert.equal(monitor.allocationsUnavailable, undefined);
    const objects = await registry.getSingleMetric('heapwatch_site_allocated_objects_total')?.get();
    assert.ok((objects?.values.find((value) => value.labels.function === 'churnRequest')?.value ?? 0) > 0);
  } finally {
    monitor.stop();
    unregister();
  }
});

test('Node 26: past forcedGcPauseBudgetMs the monitor takes no reading in allocation mode (each would force a full GC)', { skip: onNode26 }, async () => {
  const monitor = createHeapMonitor({ logger: false, allocations: true, intervalMs: 20, forcedGcPauseBudgetMs: 0 });
  monitor.start();
  try {
    for (let i = 0; i < 3; i++) await once(monitor, 'reading');
    assert.equal(monitor.stats().readings, 0, `readings taken: ${monitor.allocationsUnavailable}, ${JSON.stringify(monitor.stats())}`);
    assert.ok(monitor.stats().skippedGcs >= 3);
  } finally {
    monitor.stop();
  }
});

test('before Node 26: allocations: true warns once and the API says plainly that allocation data needs Node 26', { skip: beforeNode26 }, async () => {
  const warnings: string[] = [];
  const onWarning = (warning: Error & { code?: string }) => warnings.push(`${warning.code}: ${warning.message}`);
  process.on('warning', onWarning);
  try {
    startSampling({ samplingIntervalBytes: 32 * 1024, allocations: true });
    serve(5, 10_000);
    const snapshot = takeSnapshot();
    await new Promise((resolve) => setImmediate(resolve));
    assert.ok(warnings.some((w) => /^HEAPWATCH_W_ALLOCATIONS_UNAVAILABLE: .*needs Node 26/.test(w)), warnings.join('\n'));
    assert.equal(snapshot.allocations, false);
    assert.match(snapshot.allocationsUnavailable ?? '', /allocation data needs Node 26 or newer: this is Node /);
    // Live memory is still read.
    assert.ok(snapshot.statistics('site').some(site('leakRequest')));
    assert.equal(snapshot.statistics('site')[0]?.allocatedSize, undefined);
    assert.throws(
      () => snapshot.statistics('site', 'allocated'),
      (error: HeapwatchError) => error.code === 'HEAPWATCH_ERR_ALLOCATIONS_UNAVAILABLE' && /needs Node 26/.test(error.message),
    );
    assert.throws(() => snapshot.compareTo(snapshot, 'site', 'allocated'), { code: 'HEAPWATCH_ERR_ALLOCATIONS_UNAVAILABLE' });
  } finally {
    process.off('warning', onWarning);
  }
});

test('before Node 26: the monitor has no allocation series and says why', { skip: beforeNode26 }, async () => {
  const monitor = createHeapMonitor({ logger: false, allocations: true, intervalMs: 20 });
  const registry = new Registry();
  const unregister = registerPrometheusMetrics(monitor, registry);
  monitor.start();
  try {
    serve(5, 20_000);
    await once(monitor, 'reading');
    assert.match(monitor.allocationsUnavailable ?? '', /needs Node 26/);
    assert.deepEqual(monitor.allocatingSites(), []);
    assert.ok(monitor.stats().readings >= 1, 'live readings go on');
    const metric = await registry.getSingleMetric('heapwatch_site_allocated_bytes_total')?.get();
    assert.deepEqual(metric?.values, []);
  } finally {
    monitor.stop();
    unregister();
  }
});
