import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { pageSeries, repoRoot } from '../helpers.js';

/** The order service of the Express tests, with a route for each framework; every view leaks ~8 KB. */
export const fixture = 'test/fixtures/leaky-orders.mjs';
export const leakyOrders = (await import(pathToFileURL(`${repoRoot}/${fixture}`).href)) as {
  fastifyOrderRoute(request: { params: { id: string } }): Promise<unknown>;
  koaOrderRoute(ctx: { path: string; body?: unknown }): void;
  honoOrderRoute(c: unknown): Response;
};

/** Options under which ~100 leaking requests a second are suspected within seconds. */
export const leakOptions = {
  logger: false,
  intervalMs: 200,
  windowMs: 4000,
  growthThresholdBytes: 1024 * 1024,
  samplingIntervalBytes: 32 * 1024,
} as const;

function lineOf(name: string): string {
  return String(readFileSync(`${repoRoot}/${fixture}`, 'utf8').split('\n').findIndex((line) => line.includes(`function ${name}(`)) + 1);
}

/**
 * Sends `GET base/orders/<n>` about 100 times a second until `base/metrics` shows a suspected site,
 * then checks that the site is the fixture's leak: rememberOrderView, or `route` when V8 inlined
 * the one into the other. Fails after a minute without a suspect.
 */
export async function assertLeakFoundAt(base: string, route: string): Promise<void> {
  let loading = true;
  let requests = 0;
  const load = (async () => {
    while (loading) {
      const response = await fetch(`${base}/orders/${requests++}`);
      assert.equal(response.status, 200);
      await response.arrayBuffer();
      await sleep(10);
    }
  })();
  let page = '';
  let suspected: Array<Record<string, string>> = [];
  try {
    for (let waited = 0; waited < 60_000 && suspected.length === 0; waited += 500) {
      await sleep(500);
      const response = await fetch(`${base}/metrics`);
      assert.equal(response.status, 200);
      page = await response.text();
      suspected = pageSeries(page, 'heapwatch_site_leak_suspected').filter((series) => series.value === 1).map((series) => series.labels);
    }
  } finally {
    loading = false;
    await load;
  }
  const expected = [`rememberOrderView ${fixture}:${lineOf('rememberOrderView')}`, `${route} ${fixture}:${lineOf(route)}`];
  const found = suspected.map((labels) => `${labels['function']} ${labels['file']}:${labels['line']}`);
  assert.ok(found.length > 0, `no site suspected after ${requests} requests; page:\n${page}`);
  assert.ok(
    found.some((site) => expected.includes(site)),
    `suspected ${found.join(', ')}; expected one of ${expected.join(', ')}`,
  );
}
