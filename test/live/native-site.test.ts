import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Registry } from 'prom-client';
import { registerPrometheusMetrics } from '../../src/export/prometheus.js';
import { createHeapMonitor } from '../../src/monitor/monitor.js';
import { listen, nextReadings } from '../helpers.js';

test('strings the HTTP parser makes in C++ are one (native) site: in sites() and in metrics, never a suspect', async () => {
  const threshold = 64 * 1024;
  const monitor = createHeapMonitor({ intervalMs: 100, windowMs: 1000, growthThresholdBytes: threshold, samplingIntervalBytes: 4096, topSites: 1000, logger: false });
  const registry = new Registry();
  const unregister = registerPrometheusMetrics(monitor, registry);
  // The server keeps every request's raw header strings: V8 allocates them for Node's HTTP parser,
  // from C++, with no JavaScript function on the stack.
  const kept: string[][] = [];
  const server = await listen((req, res) => {
    kept.push(req.rawHeaders);
    res.end('ok');
  });
  const suspected: string[] = [];
  monitor.on('leak-suspected', (report) => suspected.push(report.site.functionName));
  // The largest growth the native site showed at any reading while requests kept coming.
  let grownBytes = 0;
  monitor.on('reading', () => {
    grownBytes = Math.max(grownBytes, monitor.sites().find((report) => report.site.functionName === '(native)')?.growthBytes ?? 0);
  });
  monitor.start();
  try {
    for (let round = 0; round < 100 && grownBytes < 4 * threshold; round++) {
      const requests = Array.from({ length: 40 }, (_, i) =>
        fetch(`${server.base}/`, { headers: { 'x-trace': `${round}-${i}-`.padEnd(600, 't') } }).then((res) => res.text()),
      );
      await Promise.all(requests);
      await sleep(20);
    }
    await nextReadings(monitor, 2);
    assert.ok(grownBytes >= 4 * threshold, `it grew past twice the threshold: ${grownBytes} B`);
    const native = monitor.sites().find((report) => report.site.functionName === '(native)');
    assert.ok(native, 'the native site is tracked');
    assert.equal(native.site.file, '');
    assert.ok(native.liveBytes > 0);
    assert.ok(native.traceback.frames.every((frame) => frame.file === ''), 'its stacks have no script');
    assert.ok(!suspected.includes('(native)'), `never a suspect (suspected: ${suspected.join(', ')})`);
    const page = await registry.metrics();
    assert.match(page, /^heapwatch_site_live_bytes\{function="\(native\)",file="",line="0"\} [1-9]/m);
    assert.match(page, /^heapwatch_site_leak_suspected\{function="\(native\)",file="",line="0"\} 0$/m);
    assert.match(page, /^heapwatch_site_growth_bytes\{function="\(native\)",file="",line="0"\} /m);
    assert.ok(kept.length > 0);
  } finally {
    monitor.stop();
    unregister();
    server.close();
  }
});
