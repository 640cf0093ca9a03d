import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { TestContext } from 'node:test';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import express from 'express';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { heapwatch } from '../../src/index.js';
import type { HeapwatchMiddleware, HeapwatchOptions, ReadingTiming } from '../../src/index.js';
import { listen, nextReadings, pageSeries } from '../helpers.js';

const warnings: Array<{ code: string; message: string }> = [];
process.on('warning', (warning: Error & { code?: string }) => warnings.push({ code: warning.code ?? '', message: warning.message }));

/** A pino logger into memory: the records, parsed. */
function memoryLogger() {
  const records: Array<Record<string, unknown> & { heapwatch?: Record<string, unknown> }> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line !== '') records.push(JSON.parse(line) as (typeof records)[number]);
      done();
    },
  });
  return { logger: pino(stream), records };
}

/**
 * An Express app with heapwatch and `route` at /work; `hammer()` sends requests to it until
 * `stop` resolves and says how many were not answered 200.
 */
async function serve(t: TestContext, options: HeapwatchOptions, route: () => void) {
  const watch: HeapwatchMiddleware = heapwatch({ registry: new Registry(), intervalMs: 100, windowMs: 2000, samplingIntervalBytes: 8192, ...options });
  const app = express();
  app.use(watch);
  app.get('/work', (_req, res) => {
    route();
    res.send('ok');
  });
  const server = await listen(app);
  t.after(() => (watch.stop(), server.close()));
  const hammer = async (until: Promise<unknown>): Promise<{ sent: number; failed: number }> => {
    let done = false;
    void until.finally(() => (done = true));
    let sent = 0;
    let failed = 0;
    while (!done) {
      const response = await fetch(`${server.base}/work`).catch(() => undefined);
      sent++;
      if (response?.status !== 200) failed++;
      await response?.text();
      await sleep(10);
    }
    return { sent, failed };
  };
  return { watch, base: server.base, hammer };
}

test('a source map that breaks mid-reading (a mapping names a source it does not list): no reading fails, the sites stay at their compiled positions, warned once, every request served', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'heapwatch-broken-map-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const script = join(dir, 'retain.js');
  // Parses as a source map, but every segment points at source #6 of a map listing one source:
  // trace-mapping answers `source: undefined`, which used to throw inside the reading's walk.
  const map = { version: 3, sources: ['retain.ts'], names: [], mappings: 'AMAA;AMAA;AMAA;AMAA;AMAA' };
  await writeFile(
    script,
    'export const kept = [];\n' +
      'export function retainThroughBrokenMap(n) {\n' +
      '  for (let i = 0; i < n; i++) kept.push({ i, text: `row ${i}` });\n' +
      '}\n' +
      `//# sourceMappingURL=data:application/json;base64,${Buffer.from(JSON.stringify(map)).toString('base64')}\n`,
  );
  const retain = (await import(pathToFileURL(script).href)) as { retainThroughBrokenMap(n: number): void };
  const { logger, records } = memoryLogger();
  const { watch, base, hammer } = await serve(t, { logger }, () => retain.retainThroughBrokenMap(2000));

  const load = hammer(nextReadings<ReadingTiming>(watch.monitor, 8));
  const { sent, failed } = await load;
  assert.ok(sent > 0);
  assert.equal(failed, 0, 'every request was served');
  const stats = watch.monitor.stats();
  assert.equal(stats.readingErrors, 0, 'no reading failed');
  assert.ok(stats.readings >= 8);
  const site = watch.monitor.sites().find((report) => report.site.functionName === 'retainThroughBrokenMap');
  assert.ok(site, 'the retaining function is a site');
  assert.deepEqual({ file: site.site.file, line: site.site.line }, { file: script, line: 2 }, 'at its compiled position');
  assert.equal(records.filter((record) => record.heapwatch?.['event'] === 'reading-failed').length, 0, 'no reading-failed record');
  const said = warnings.filter((warning) => warning.code === 'HEAPWATCH_W_SOURCE_MAP_UNREADABLE' && warning.message.includes(script));
  assert.equal(said.length, 1, 'warned once, naming the script');
  assert.match(said[0]?.message ?? '', /names a source the map does not list/);
  const page = await (await fetch(`${base}/metrics`)).text();
  assert.deepEqual(pageSeries(page, 'heapwatch_snapshot_errors_total'), [{ labels: {}, value: 0 }]);
});

test('readings that fail mid-run (DevTools stops V8’s sampler, twice): each failure counted on /metrics, logged once with its code, the next readings succeed, every request served', async (t) => {
  const { logger, records } = memoryLogger();
  const kept: string[] = [];
  const { watch, base, hammer } = await serve(t, { logger, reader: 'inspector' }, () => {
    for (let i = 0; i < 50; i++) kept.push(`item ${kept.length}`);
  });
  // Another inspector client, as DevTools' memory panel is: its stopSampling stops heapwatch's too.
  const devtools = new Session();
  devtools.connect();
  t.after(() => devtools.disconnect());
  const stopSampler = (): void => devtools.post('HeapProfiler.stopSampling');

  const faults = (async () => {
    await nextReadings(watch.monitor, 2);
    for (let round = 0; round < 2; round++) {
      stopSampler();
      // Wait for the failed reading, then for one that succeeds after it.
      let failed = false;
      while (!failed) [{ failed }] = (await nextReadings<ReadingTiming>(watch.monitor, 1)) as [ReadingTiming];
      while (failed) [{ failed }] = (await nextReadings<ReadingTiming>(watch.monitor, 1)) as [ReadingTiming];
    }
    await nextReadings(watch.monitor, 2);
  })();
  const { sent, failed } = await hammer(faults);
  assert.ok(sent > 0);
  assert.equal(failed, 0, 'every request was served');

  const stats = watch.monitor.stats();
  assert.equal(stats.readingErrors, 2, 'both failed readings counted');
  const page = await (await fetch(`${base}/metrics`)).text();
  assert.deepEqual(pageSeries(page, 'heapwatch_snapshot_errors_total'), [{ labels: {}, value: 2 }]);
  const snapshots = pageSeries(page, 'heapwatch_snapshots_total')[0]?.value ?? 0;
  assert.ok(snapshots >= 6, `readings went on (${snapshots})`);
  const failures = records.filter((record) => record.heapwatch?.['event'] === 'reading-failed');
  assert.equal(failures.length, 1, 'logged once for the one cause');
  assert.equal(failures[0]?.heapwatch?.['code'], 'HEAPWATCH_ERR_SAMPLER_LOST');
  assert.equal(failures[0]?.['level'], 50, 'at level error');
  assert.equal(watch.monitor.running, true, 'heapwatch recovered and goes on');
});
