import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import express from 'express';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { heapwatch } from '../../src/index.js';
import type { SiteReport } from '../../src/index.js';
import { listen } from '../helpers.js';

const warnings: string[] = [];
process.on('warning', (warning: Error & { code?: string }) => warnings.push(warning.code ?? warning.name));

/** Loggers that fail as production loggers do. */
const faultyLoggers: Record<string, () => Logger> = {
  'a destination whose write throws': () =>
    pino(
      new Writable({
        write() {
          throw new Error('disk full');
        },
      }),
    ),
  'a destination that was closed': () => {
    const stream = new Writable({ write: (_chunk, _encoding, done) => done() });
    stream.end();
    return pino(stream);
  },
  'a logMethod hook that throws': () =>
    pino({ hooks: { logMethod: () => { throw new Error('hook bug'); } } }, new Writable({ write: (_chunk, _encoding, done) => done() })),
};

for (const [fault, makeLogger] of Object.entries(faultyLoggers)) {
  test(`with ${fault}, the leak is still suspected, requests are served throughout, and the lost records are counted`, async (t) => {
    const registry = new Registry();
    // A 4 s window: long enough for the clean readings after major GCs that confirm a rise, which
    // come further apart as the leaking heap grows.
    const watch = heapwatch({ logger: makeLogger(), intervalMs: 200, windowMs: 4000, growthThresholdBytes: 512 * 1024, samplingIntervalBytes: 16 * 1024, registry });
    const suspected: SiteReport[] = [];
    watch.monitor.on('leak-suspected', (report) => suspected.push(report));
    const leak: string[] = [];
    const app = express();
    app.use(watch);
    app.get('/leak', (_req, res) => {
      // ~100 KB a request: above the threshold even when a loaded machine slows the requests down to a few a second.
      for (let k = 0; k < 500; k++) leak.push(`${leak.length}-${k}`.padEnd(200, 'x'));
      res.send('ok');
    });
    const server = await listen(app);
    t.after(() => (watch.stop(), server.close()));

    let failedRequests = 0;
    for (let i = 0; i < 400 && suspected.length === 0; i++) {
      const response = await fetch(`${server.base}/leak`).catch(() => undefined);
      if (response?.status !== 200) failedRequests++;
      await sleep(50);
    }
    assert.equal(suspected.length, 1, 'the leak was suspected, and the listener told');
    assert.equal(failedRequests, 0, 'every request was served');
    const stats = watch.monitor.stats();
    assert.ok(stats.logErrors >= 1, 'the lost record was counted');
    assert.equal(stats.readingErrors, 0, 'no reading failed because of the logger');
    const page = await (await fetch(`${server.base}/metrics`)).text();
    assert.match(page, new RegExp(`^heapwatch_log_errors_total ${stats.logErrors}$`, 'm'));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(warnings.filter((code) => code === 'HEAPWATCH_W_LOG_FAILED').length, 1, 'said once in the process');
  });
}
