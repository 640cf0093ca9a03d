import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import express from 'express';
import { Profile } from 'pprof-format';
import { Registry } from 'prom-client';
import { heapwatch } from '../../src/express/middleware.js';
import type { HeapwatchOptions } from '../../src/express/options.js';
import { pprofAllocsFromSnapshots } from '../../src/http/pprof-allocs.js';
import { Snapshot } from '../../src/snapshot/snapshot.js';
import { Traceback } from '../../src/snapshot/traceback.js';
import { toolAvailable } from '../helpers.js';

const NODE_MAJOR = Number(process.versions.node.split('.')[0]);
const onNode26 = NODE_MAJOR >= 26 ? false : `allocation mode needs Node 26's V8; this is Node ${process.versions.node}`;
const beforeNode26 = NODE_MAJOR < 26 ? false : 'on Node 26 allocation data is available';

/** A route's garbage: every object dies before the response is sent. */
function buildGarbage(): number {
  const batch: Array<{ id: number; tags: string[] }> = [];
  for (let i = 0; i < 20_000; i++) batch.push({ id: i, tags: [`t${i}`, `u${i}`] });
  return batch.length;
}

/** A route's leak: ~100 KB kept per request. */
const kept: Array<{ id: number; values: number[] }> = [];
function keepRecords(): number {
  for (let i = 0; i < 1_000; i++) kept.push({ id: i, values: [i, i, i, i, i, i, i, i] });
  return kept.length;
}

async function serve(t: TestContext, options: HeapwatchOptions): Promise<string> {
  const app = express();
  const middleware = heapwatch({ registry: new Registry(), debug: true, logger: false, samplingIntervalBytes: 32 * 1024, ...options });
  app.use(middleware);
  app.get('/work', (_req, res) => {
    res.type('text/plain').send(`${buildGarbage()} ${keepRecords()}\n`);
  });
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(async () => {
    middleware.stop();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function work(base: string, requests: number): Promise<void> {
  for (let i = 0; i < requests; i++) await (await fetch(`${base}/work`)).text();
}

/** `go tool pprof -top`: the profile's type and the function of its first row. */
async function pprofTop(home: string, ...args: string[]): Promise<{ type: string | undefined; first: string; stdout: string }> {
  const { stdout } = await promisify(execFile)('go', ['tool', 'pprof', '-top', ...args], { env: { ...process.env, HOME: home } });
  const lines = stdout.split('\n');
  const header = lines.findIndex((line) => /^\s*flat\s+flat%\s+sum%\s+cum\s+cum%\s*$/.test(line));
  assert.ok(header >= 0, stdout);
  return { type: lines.find((line) => line.startsWith('Type: ')), first: (lines[header + 1] ?? '').trim().split(/\s+/).slice(5).join(' '), stdout };
}

test('Node 26: go tool pprof reads /debug/pprof/allocs — the churning function first by alloc_space, the leaking one by inuse_space — and its ?seconds=N delta', { skip: onNode26, timeout: 60_000 }, async (t) => {
  if (!(await toolAvailable(t, 'go', ['version']))) return;
  const base = await serve(t, { allocations: true });
  await work(base, 40);
  const home = await mkdtemp(join(tmpdir(), 'heapwatch-pprof-allocs-'));
  t.after(() => rm(home, { recursive: true, force: true }));

  const allocated = await pprofTop(home, `${base}/debug/pprof/allocs`);
  assert.equal(allocated.type, 'Type: alloc_space');
  assert.equal(allocated.first, 'buildGarbage', allocated.stdout);
  const live = await pprofTop(home, '-sample_index=inuse_space', `${base}/debug/pprof/allocs`);
  assert.equal(live.type, 'Type: inuse_space');
  assert.equal(live.first, 'keepRecords', live.stdout);
  for (const type of ['alloc_objects', 'inuse_objects']) assert.equal((await pprofTop(home, `-sample_index=${type}`, `${base}/debug/pprof/allocs`)).type, `Type: ${type}`);

  // The delta: pprof asks for ?seconds=2 and waits; the app serves requests meanwhile.
  const delta = pprofTop(home, '-seconds=2', `${base}/debug/pprof/allocs`);
  const busy = (async () => {
    for (let i = 0; i < 20; i++) {
      await work(base, 1);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  await new Promise((resolve) => setTimeout(resolve, 500));
  const second = await fetch(`${base}/debug/pprof/allocs?seconds=1`);
  assert.equal(second.status, 429, 'one ?seconds= request at a time');
  assert.ok(Number(second.headers.get('retry-after')) >= 1);
  const [read] = await Promise.all([delta, busy]);
  assert.equal(read.first, 'buildGarbage', read.stdout);
  assert.match(read.stdout, /Duration: 2(\.\d+)?s/);

  // Read back: the delta counts what was allocated in the two seconds only.
  const whole = Profile.decode(gunzipSync(Buffer.from(await (await fetch(`${base}/debug/pprof/allocs`)).arrayBuffer())));
  const strings = whole.stringTable.strings;
  assert.deepEqual(whole.sampleType.map((type) => `${strings[Number(type.type)]}/${strings[Number(type.unit)]}`), ['alloc_objects/count', 'alloc_space/bytes', 'inuse_objects/count', 'inuse_space/bytes']);
  assert.equal(strings[Number(whole.defaultSampleType)], 'alloc_space');
});

test('/debug/pprof/allocs is guarded like /debug/pprof/heap and refuses a bad seconds with a plain 400', async (t) => {
  const base = await serve(t, {});
  const proxied = await fetch(`${base}/debug/pprof/allocs`, { headers: { 'x-forwarded-for': '203.0.113.5' } });
  assert.equal(proxied.status, 403);
  assert.equal(await proxied.text(), 'heapwatch: without a debugToken the debug endpoints serve loopback clients only, not through a proxy\n');
  for (const [query, message] of [
    ['?seconds=0', /^heapwatch: parameter "seconds" must be an integer between 1 and 300, received "0"$/],
    ['?seconds=301', /between 1 and 300/],
    ['?secnds=5', /^heapwatch: unknown parameter "secnds": expected only seconds$/],
  ] as const) {
    const response = await fetch(`${base}/debug/pprof/allocs${query}`);
    assert.equal(response.status, 400, query);
    assert.match((await response.text()).trim(), message);
  }
});

test('with allocations off, /debug/pprof/allocs answers 404 and says how to turn them on', async (t) => {
  const base = await serve(t, {});
  const response = await fetch(`${base}/debug/pprof/allocs?seconds=5`);
  assert.equal(response.status, 404);
  assert.equal(response.headers.get('content-type'), 'text/plain; charset=utf-8');
  const text = await response.text();
  assert.match(text, /^heapwatch: \/debug\/pprof\/allocs needs allocation data, and there is none: /);
  assert.match(text, NODE_MAJOR >= 26 ? /allocations: true/ : /needs Node 26 or newer: this is Node /);
});

test('before Node 26, with allocations: true, /debug/pprof/allocs answers 404: allocation data needs Node 26', { skip: beforeNode26 }, async (t) => {
  const base = await serve(t, { allocations: true });
  const response = await fetch(`${base}/debug/pprof/allocs`);
  assert.equal(response.status, 404);
  assert.match(await response.text(), /^heapwatch: \/debug\/pprof\/allocs needs allocation data, and there is none: allocation data needs Node 26 or newer: this is Node \d+/);
});

test('the allocs profile of a delta subtracts per stack; a stack gone since shows its live objects died', () => {
  const frame = (name: string) => ({ functionName: name, file: '/srv/app.js', line: 1, column: 1 });
  const snapshot = (timestamp: number, traces: Array<[string, number, number, number, number]>) =>
    new Snapshot({
      traces: traces.map(([name, size, count, allocatedSize, allocatedCount]) => ({ traceback: new Traceback([frame(name)]), size, count, allocatedSize, allocatedCount })),
      samplingIntervalBytes: 512,
      reader: 'native',
      timestamp,
      heapUsedBytes: 0,
      unattributed: { externalBytes: 0, arrayBuffersBytes: 0 },
      allocations: true,
      epoch: 3,
    });
  const older = snapshot(1_000, [['churn', 0, 0, 5_000, 50], ['leak', 100, 1, 100, 1], ['gone', 40, 2, 40, 2]]);
  const newer = snapshot(3_000, [['churn', 10, 1, 9_000, 90], ['leak', 300, 3, 300, 3]]);
  const profile = pprofAllocsFromSnapshots(newer, older);
  const strings = profile.stringTable.strings;
  const name = (sample: (typeof profile.sample)[number]) => strings[Number(profile.function.find((fn) => fn.id === sample.locationId[0])?.name)];
  assert.deepEqual(
    profile.sample.map((sample) => [name(sample), ...sample.value.map(Number)]),
    [
      ['churn', 40, 4_000, 1, 10],
      ['leak', 2, 200, 2, 200],
      ['gone', 0, 0, -2, -40],
    ],
  );
  assert.equal(Number(profile.durationNanos), 2_000_000_000);
  assert.deepEqual(pprofAllocsFromSnapshots(newer).sample.map((sample) => sample.value.map(Number)), [[90, 9_000, 1, 10], [3, 300, 3, 300]]);
});
