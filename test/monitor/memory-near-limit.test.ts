import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { pino } from 'pino';
import { LeakLog } from '../../src/log/leak-log.js';
import { MemoryLimitWatch } from '../../src/monitor/memory-near-limit.js';
import type { MemoryFigures } from '../../src/monitor/memory-near-limit.js';
import { createMemoryCgroup } from '../cgroup.js';
import { promtoolCheck, repoRoot, toolAvailable } from '../helpers.js';

const MiB = 1024 * 1024;
const LIMIT_BYTES = 300 * MiB;

interface Record {
  readonly level: number;
  readonly time: number;
  readonly msg: string;
  readonly heapwatch: { event: string } & { [field: string]: unknown };
}

test('a service leaking Buffers in a 300 MiB cgroup leaves a memory-near-limit record with the leaking function before the OOM killer ends it, and served the limit on /metrics', async (t) => {
  const cgroup = createMemoryCgroup(`heapwatch-test-${process.pid}`, LIMIT_BYTES);
  if (typeof cgroup === 'string') return t.skip(cgroup);
  const child = spawn('sh', ['-c', `echo $$ > ${cgroup.procsFile} && exec "${process.execPath}" test/fixtures/container-leak.mjs`], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as string | null, at: Date.now() }));
  try {
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const started = await Promise.race([
      new Promise<RegExpExecArray>((resolve) => child.stderr.on('data', () => {
        const match = /container-leak: port (\d+) constrainedMemory (\d+)/.exec(stderr);
        if (match) resolve(match);
      })),
      exited.then(() => assert.fail(`the child ended before listening:\n${stderr}`)),
    ]);
    const base = `http://127.0.0.1:${started[1]}`;

    // The limit, on the page Prometheus scrapes, as libuv reads it too (this cgroup has no soft limit).
    const page = await (await fetch(`${base}/metrics`)).text();
    const served = /^heapwatch_memory_limit_bytes (\d+)$/m.exec(page)?.[1];
    assert.equal(Number(served), LIMIT_BYTES, page.split('\n').filter((line) => line.includes('memory_limit')).join('\n'));
    assert.equal(Number(started[2]), LIMIT_BYTES, 'process.constrainedMemory() in the child');
    if (await toolAvailable(t, 'promtool')) assert.deepEqual(await promtoolCheck(page), { code: 0, output: '' });

    await fetch(`${base}/leak`, { method: 'POST' });
    const deadline = setTimeout(() => child.kill('SIGTERM'), 120_000);
    const death = await exited.finally(() => clearTimeout(deadline));
    assert.equal(death.signal, 'SIGKILL', `the OOM killer's signal, not ${death.signal ?? `exit code ${death.code}`} (SIGTERM: not killed in 120 s)\n${stderr.slice(-2000)}`);
    const oomKills = cgroup.oomKills();
    if (oomKills !== undefined) assert.equal(oomKills, 1, 'the kernel says its OOM killer ended the child');

    const records = stdout.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record);
    const nearLimit = records.filter((record) => record.heapwatch.event === 'memory-near-limit');
    assert.equal(nearLimit.length, 1, `one record:\n${records.map((record) => record.heapwatch.event).join('\n')}`);
    const [record] = nearLimit;
    assert.ok(record);
    assert.equal(record.level, 50, 'level error');
    const fields = record.heapwatch as unknown as {
      rssBytes: number;
      memoryLimitBytes: number;
      fraction: number;
      heapUsedBytes: number;
      arrayBuffersBytes: number;
      externalBytes: number;
      growing: Array<{ statistic: string; traceback: string[] }>;
    };
    assert.equal(fields.memoryLimitBytes, LIMIT_BYTES);
    assert.equal(fields.fraction, 0.9);
    assert.ok(fields.rssBytes >= 0.9 * LIMIT_BYTES && fields.rssBytes < LIMIT_BYTES, `RSS ${fields.rssBytes}`);
    // The leak is outside V8's heap, in the kept Buffers: several times the heap itself (the rest of
    // RSS is code, V8's young generation, the load thread's isolate, malloc's own).
    assert.ok(fields.arrayBuffersBytes > 4 * fields.heapUsedBytes, `array buffers ${fields.arrayBuffersBytes}, V8 heap ${fields.heapUsedBytes}, RSS ${fields.rssBytes}`);
    assert.ok(fields.arrayBuffersBytes <= fields.externalBytes);
    assert.ok(fields.heapUsedBytes < fields.rssBytes);
    // The function that keeps the orders (or the route it was inlined into) grew most.
    const [first] = fields.growing;
    assert.ok(first, `growing sites in ${JSON.stringify(record)}`);
    assert.match(first.statistic, /^test\/fixtures\/container-leak\.mjs:\d+: size=/, fields.growing.map((diff) => diff.statistic).join('\n'));
    // Its innermost frames may be Node's own (Buffer.alloc's FastBuffer, when V8 did not inline it): the site is the first of the service's.
    assert.match(first.traceback.find((line) => !line.endsWith('(<builtin>)') && !line.includes(' (node:')) ?? '', /^(keepOrder|placeOrder) \(test\/fixtures\/container-leak\.mjs:\d+:\d+\)$/, first.traceback.join('\n'));
    assert.match(record.msg, /^heapwatch: memory near the container's limit, RSS [\d.]+ MiB of 300 MiB \(V8 heap [\d.]+ MiB, outside it [\d.]+ MiB, of which array buffers [\d.]+ MiB\); growing most: (keepOrder|placeOrder) /);
    const leadMs = death.at - record.time;
    assert.ok(leadMs > 0, `written ${leadMs} ms before the kill`);
    t.diagnostic(`record at RSS ${(fields.rssBytes / MiB).toFixed(1)} MiB of ${LIMIT_BYTES / MiB} MiB (array buffers ${(fields.arrayBuffersBytes / MiB).toFixed(1)} MiB, V8 heap ${(fields.heapUsedBytes / MiB).toFixed(1)} MiB), ${leadMs} ms before the SIGKILL (cgroup v${cgroup.version}); growing most: ${first.statistic}`);
  } finally {
    // A failure before the kill leaves the child running: ended here, so that its cgroup can go.
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    await cgroup.remove();
  }
});

/** RSS and a limit the test sets, for the rule alone; the log is a real pino logger into an array. */
function watchWith(figures: MemoryFigures): { watch: MemoryLimitWatch; events: string[]; messages: string[] } {
  const events: string[] = [];
  const messages: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      const record = JSON.parse(chunk.toString()) as Record;
      events.push(record.heapwatch.event);
      messages.push(record.msg);
      done();
    },
  });
  const source = { sites: () => [], suspects: () => [], seriesOf: () => undefined, samplingIntervalBytes: () => 512 * 1024, readNow: () => false };
  const watch = new MemoryLimitWatch(source, new LeakLog(pino(stream)), { topSites: 10, memoryNearLimitFraction: 0.9 }, figures);
  return { watch, events, messages };
}

test('one record per crossing: RSS must fall a tenth of the limit below the threshold before another is written', () => {
  let rss = 100 * MiB;
  const { watch, events, messages } = watchWith({ rssBytes: () => rss, limitBytes: () => 1000 * MiB });
  const at = (rssMiB: number, now: number): number => {
    rss = rssMiB * MiB;
    watch.check(now);
    return events.length;
  };
  assert.equal(at(899, 0), 0, 'under 90 %');
  assert.equal(at(900, 1000), 1, 'at 90 %');
  assert.equal(at(990, 2000), 1, 'still above: no second record');
  assert.equal(at(850, 3000), 1, 'back under 90 %, but not under 80 %');
  assert.equal(at(950, 4000), 1);
  assert.equal(at(799, 5000), 1, 'under 80 %: armed again');
  assert.equal(at(920, 6000), 2, 'the second crossing');
  assert.deepEqual(events, ['memory-near-limit', 'memory-near-limit']);
  assert.match(messages[0] ?? '', /RSS 900 MiB of 1000 MiB .*; no site grew$/);
});

test('no limit, no comparison; the limit is read again every 10 s (a container resized in place)', () => {
  let limit: number | undefined;
  let limitReads = 0;
  let rssReads = 0;
  const { watch, events } = watchWith({
    rssBytes: () => (rssReads++, 500 * MiB),
    limitBytes: () => (limitReads++, limit),
  });
  watch.check(0);
  watch.check(5000);
  assert.deepEqual([limitReads, rssReads, events.length], [1, 0, 0], 'RSS is not read without a limit');
  limit = 512 * MiB;
  watch.check(9999);
  assert.equal(events.length, 0, 'the limit read at 0 still holds');
  watch.check(10_000);
  assert.deepEqual([limitReads, events.length], [2, 1], 'read again: 500 MiB of 512 MiB');
});

test('started, the watch compares every second under a limit, and without one wakes only every 10 s to read the limit again', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  let limit: number | undefined;
  let limitReads = 0;
  let rssReads = 0;
  const { watch } = watchWith({ rssBytes: () => (rssReads++, 100 * MiB), limitBytes: () => (limitReads++, limit) });
  watch.start();
  t.after(() => watch.stop());
  const seconds = (count: number) => {
    for (let i = 0; i < count; i++) t.mock.timers.tick(1000);
  };
  seconds(30);
  assert.deepEqual([limitReads, rssReads], [3, 0], 'no limit: three reads of it in 30 s, at 1, 11 and 21 s, and no RSS');
  limit = 1000 * MiB;
  seconds(10);
  seconds(5);
  assert.ok(rssReads >= 5, `under a limit, RSS every second: ${rssReads} reads in the 5 s after it was found`);
  watch.stop();
  const before = rssReads;
  seconds(10);
  assert.equal(rssReads, before, 'stopped: no more comparisons');
});

test('a failing reading of the figures is logged once and never thrown', () => {
  const { watch, events } = watchWith({
    rssBytes: () => {
      throw new Error('no /proc');
    },
    limitBytes: () => 512 * MiB,
  });
  assert.doesNotThrow(() => {
    watch.check(0);
    watch.check(1000);
  });
  assert.deepEqual(events, ['memory-check-failed']);
});
