import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import express from 'express';
import { Registry } from 'prom-client';
import { heapwatch, isSampling } from '../../src/index.js';
import type { ReadingTiming } from '../../src/index.js';
import { listen, nextReadings, repoRoot } from '../helpers.js';

for (const reader of ['native', 'inspector'] as const) {
  test(`SIGTERM while readings come and go: the server closes, heapwatch stops, the process exits on its own with code 0 (${reader} reader)`, async () => {
    const child = spawn(process.execPath, ['test/fixtures/shutdown-child.mjs', reader], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    while (!/port=(\d+)/.test(output)) await once(child.stdout, 'data');
    const port = /port=(\d+)/.exec(output)?.[1];
    // Requests throughout, then SIGTERM in the middle of them.
    const answers = await Promise.all(Array.from({ length: 20 }, () => fetch(`http://127.0.0.1:${port}/hello`).then((response) => response.status)));
    assert.deepEqual([...new Set(answers)], [200], 'every request was served');
    const heap = await fetch(`http://127.0.0.1:${port}/debug/heap?top=1`);
    assert.equal(heap.status, 200);
    child.kill('SIGTERM');
    const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
    assert.deepEqual({ code, signal }, { code: 0, signal: null }, 'exited on its own, not killed');
    assert.ok(Number(/readings=(\d+)/.exec(output)?.[1]) > 0, 'readings were being taken when SIGTERM came');
  });
}

test('a stopped heapwatch starts again in the same process: sampling, readings and the metrics page all come back', async (t) => {
  const registry = new Registry();
  const first = heapwatch({ logger: false, intervalMs: 100, windowMs: 2000, registry });
  await nextReadings(first.monitor, 1);
  first.stop();
  assert.equal(isSampling(), false);
  assert.equal(first.monitor.running, false);
  assert.equal(registry.getSingleMetric('heapwatch_site_live_bytes'), undefined, "stop() removed heapwatch's metrics");

  const again = heapwatch({ logger: false, intervalMs: 100, windowMs: 2000, registry });
  const app = express();
  app.use(again);
  const server = await listen(app);
  t.after(() => (again.stop(), server.close()));
  assert.notEqual(again.monitor, first.monitor, 'a new monitor');
  assert.equal(isSampling(), true);
  const [timing] = await nextReadings<ReadingTiming>(again.monitor, 2);
  assert.equal(timing?.failed, false);
  const page = await (await fetch(`${server.base}/metrics`)).text();
  assert.match(page, /^heapwatch_snapshots_total [1-9]\d*$/m);
});
