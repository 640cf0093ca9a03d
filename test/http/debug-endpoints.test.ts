import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { TestContext } from 'node:test';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import express from 'express';
import { Registry } from 'prom-client';
import { heapwatch } from '../../src/express/middleware.js';
import type { HeapwatchOptions } from '../../src/express/options.js';
import { repoRoot, toolAvailable } from '../helpers.js';

const fixtureFile = `${repoRoot}/test/fixtures/debug-leak.mjs`;
const fixture = (await import(pathToFileURL(fixtureFile).href)) as {
  RECEIPT_BYTES: number;
  receiptRoute: express.RequestHandler;
  keptReceiptCount(): number;
};
/** The fixture as the endpoints name it: relative to the working directory. */
const fixturePath = relative(process.cwd(), fixtureFile);

const fixtureSource = readFileSync(fixtureFile, 'utf8').split('\n');
/** Where V8 places a function: the 1-based line of its declaration, and the column of its `(`. */
function declarationOf(name: string): { line: number; column: number } {
  const index = fixtureSource.findIndex((line) => line.includes(`function ${name}(`));
  assert.ok(index >= 0, `${name} is declared in the fixture`);
  return { line: index + 1, column: (fixtureSource[index] ?? '').indexOf('(') + 1 };
}

/** The functions that may hold the leak: keepReceipt, or receiptRoute once V8 has inlined keepReceipt into it. */
const HOLDERS = new Map(['keepReceipt', 'receiptRoute'].map((name) => [name, declarationOf(name)]));
/** The holders as `file:line` labels of the text output. */
const HOLDER_LABELS = [...HOLDERS.values()].map(({ line }) => `${fixturePath}:${line}`);

/** The options of every test: fast readings, a fine sampling interval, nothing logged. */
const FAST = { intervalMs: 200, windowMs: 4000, samplingIntervalBytes: 32 * 1024, logger: false } as const;

interface Served {
  readonly base: string;
  /** Emits `arrived` and `closed` with the URL of each /debug/ request, after heapwatch has taken it and after it is gone. */
  readonly debugRequests: EventEmitter;
}

/**
 * An Express 5 app on a free loopback port with heapwatch mounted (debug on unless `options` say
 * otherwise), the leaking route `/receipts/:id`, `/health`, and a 404 of its own.
 */
async function serve(t: TestContext, options: HeapwatchOptions = {}, routes: (app: express.Express) => void = () => {}): Promise<Served> {
  const app = express();
  const debugRequests = new EventEmitter();
  app.use((req, res, next) => {
    if (!req.url.startsWith('/debug/')) return next();
    const { url } = req;
    // setImmediate: the events come after heapwatch has seen the request, even if the router defers it.
    res.once('close', () => setImmediate(() => debugRequests.emit('closed', url)));
    next();
    setImmediate(() => debugRequests.emit('arrived', url));
  });
  const middleware = heapwatch({ ...FAST, registry: new Registry(), debug: true, ...options });
  app.use(middleware);
  app.get('/receipts/:id', fixture.receiptRoute);
  app.get('/health', (_req, res) => {
    res.type('text/plain').send('ok\n');
  });
  routes(app);
  app.use((req, res) => {
    res.status(404).type('text/plain').send(`app: no route for ${req.path}\n`);
  });
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(async () => {
    middleware.stop();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, debugRequests };
}

/** Resolves when the server has emitted `event` for `url`. */
function whenDebugRequest(served: Served, event: 'arrived' | 'closed', url: string): Promise<void> {
  return new Promise((resolve) => {
    const listener = (seen: string): void => {
      if (seen !== url) return;
      served.debugRequests.off(event, listener);
      resolve();
    };
    served.debugRequests.on(event, listener);
  });
}

let receiptIds = 0;
/** Sends `count` requests to the leaking route, one after another; returns the bytes they made the app keep. */
async function keepReceipts(base: string, count: number): Promise<number> {
  const before = fixture.keptReceiptCount();
  for (let i = 0; i < count; i++) {
    const response = await fetch(`${base}/receipts/${receiptIds++}`);
    assert.equal(response.status, 200);
    await response.arrayBuffer();
  }
  assert.equal(fixture.keptReceiptCount(), before + count);
  return count * fixture.RECEIPT_BYTES;
}

async function assertStillServing(base: string): Promise<void> {
  const response = await fetch(`${base}/health`);
  assert.equal(response.status, 200);
  assert.equal(await response.text(), 'ok\n');
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB'];
/** Bytes of a size as heapwatch prints it: `120 B`, `1804 KiB`, `+1.2 MiB`. */
function parseSize(text: string): number {
  const match = /^([+-]?\d+(?:\.\d+)?) (B|KiB|MiB|GiB)$/.exec(text);
  assert.ok(match, `a size: ${text}`);
  return Number(match[1]) * 1024 ** UNITS.indexOf(match[2] ?? '');
}

interface TextStatistic {
  /** `file:line`, or `file` for groupBy=file. */
  readonly label: string;
  readonly size: number;
  /** The `(+…)` after the size, for ?seconds=. */
  readonly sizeDiff: number | undefined;
  readonly count: number;
  /** The traceback's frames, for groupBy=traceback. */
  readonly frames: string[];
}

const STATISTIC_LINE = /^(?<label>.*?): size=(?<size>\S+ \S+)(?: \((?<sizeDiff>\S+ \S+)\))?, count=(?<count>\d+)(?: \([+-]\d+\))?(?:, average=\S+ \S+)?$/;

/** The heading and the statistics of /debug/heap's text output. */
function parseText(body: string): { heading: string; statistics: TextStatistic[] } {
  assert.ok(body.endsWith('\n'), 'the text ends with a newline');
  const [heading = '', ...lines] = body.slice(0, -1).split('\n');
  const statistics: TextStatistic[] = [];
  for (const line of lines) {
    if (line.startsWith('    ')) {
      const last = statistics.at(-1);
      assert.ok(last, `a frame after a statistic: ${line}`);
      last.frames.push(line.slice(4));
      continue;
    }
    const groups = STATISTIC_LINE.exec(line)?.groups;
    assert.ok(groups, `a tracemalloc line: ${line}`);
    statistics.push({
      label: groups['label'] ?? '',
      size: parseSize(groups['size'] ?? ''),
      sizeDiff: groups['sizeDiff'] === undefined ? undefined : parseSize(groups['sizeDiff']),
      count: Number(groups['count']),
      frames: [],
    });
  }
  return { heading, statistics };
}

async function getText(url: string, init: RequestInit = {}): Promise<{ heading: string; statistics: TextStatistic[] }> {
  const response = await fetch(url, init);
  assert.equal(response.status, 200, await response.clone().text());
  assert.equal(response.headers.get('content-type'), 'text/plain; charset=utf-8');
  return parseText(await response.text());
}

/** The leaking function's statistics among `statistics`: keepReceipt's line, or receiptRoute's once V8 inlined keepReceipt. */
function holdersIn(statistics: readonly TextStatistic[]): TextStatistic[] {
  return statistics.filter((statistic) => HOLDER_LABELS.includes(statistic.label));
}

interface JsonStatistic {
  readonly function: string;
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly size: number;
  readonly count: number;
}

interface JsonHeap {
  readonly groupBy: string;
  readonly timestamp: string;
  readonly samplingIntervalBytes: number;
  readonly reader: string;
  readonly totalBytes: number;
  readonly totalCount: number;
  readonly statistics: JsonStatistic[];
}

const sum = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0);

test('/debug/heap lists the leaking function’s declaration line among the top sites, holding at least half of what it kept', async (t) => {
  const { base } = await serve(t);
  const retained = await keepReceipts(base, 200);

  const { heading, statistics } = await getText(`${base}/debug/heap`);
  assert.equal(heading, '[ Top 10 site statistics by live bytes; sampled every 32.0 KiB ]');
  assert.equal(statistics.length, 10);
  const sizes = statistics.map((statistic) => statistic.size);
  assert.deepEqual(sizes, [...sizes].sort((a, b) => b - a), 'largest first');
  const holders = holdersIn(statistics);
  assert.ok(holders.length > 0, `one of ${HOLDER_LABELS.join(', ')} among:\n${statistics.map((s) => s.label).join('\n')}`);
  // Before TurboFan inlines keepReceipt into receiptRoute, keepReceipt holds the receipts; after, receiptRoute does.
  const held = sum(holders.map((holder) => holder.size));
  assert.ok(held >= retained / 2, `the leak's lines hold ${held} bytes of the ${retained} kept`);
  assert.ok(holders.every((holder) => holder.count > 0));
});

test('format=json gives the same top site as the text, with its function, file, declaration line and column, size, count, and the totals', async (t) => {
  const { base } = await serve(t);
  const retained = await keepReceipts(base, 200);

  const text = await getText(`${base}/debug/heap`);
  const response = await fetch(`${base}/debug/heap?format=json`);
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('content-type'), 'application/json; charset=utf-8');
  const heap = (await response.json()) as JsonHeap;

  assert.equal(heap.groupBy, 'site');
  assert.equal(heap.samplingIntervalBytes, 32 * 1024);
  assert.ok(['native', 'inspector'].includes(heap.reader), heap.reader);
  assert.ok(Number.isFinite(Date.parse(heap.timestamp)), heap.timestamp);
  assert.equal(heap.statistics.length, 10);

  const [top] = heap.statistics;
  assert.ok(top);
  assert.deepEqual(Object.keys(top), ['function', 'file', 'line', 'column', 'size', 'count']);
  assert.equal(`${top.file}:${top.line}`, text.statistics[0]?.label, 'the same top site as the text');
  const declared = HOLDERS.get(top.function);
  assert.ok(declared, `the top site is the leak, not ${top.function} (${top.file}:${top.line})`);
  assert.deepEqual({ file: top.file, line: top.line, column: top.column }, { file: fixturePath, ...declared });
  const held = sum(heap.statistics.filter((s) => HOLDERS.has(s.function) && s.file === fixturePath).map((s) => s.size));
  assert.ok(held >= retained / 2, `the leak's sites hold ${held} bytes of the ${retained} kept`);
  assert.ok(top.count > 0);

  // The totals cover the whole heap profile, of which the ten sites shown are a part.
  const shownBytes = sum(heap.statistics.map((s) => s.size));
  const shownCount = sum(heap.statistics.map((s) => s.count));
  assert.ok(heap.totalBytes >= shownBytes * (1 - 1e-9), `total ${heap.totalBytes} >= shown ${shownBytes}`);
  assert.ok(heap.totalCount >= shownCount * (1 - 1e-9), `total ${heap.totalCount} >= shown ${shownCount}`);
});

test('groupBy=file puts the leaking file among the top files, and groupBy=traceback prints the stack under each site', async (t) => {
  const { base } = await serve(t);
  const retained = await keepReceipts(base, 200);

  const files = await getText(`${base}/debug/heap?groupBy=file&top=5`);
  assert.equal(files.heading, '[ Top 5 file statistics by live bytes; sampled every 32.0 KiB ]');
  assert.equal(files.statistics.length, 5);
  // Both holders are in the fixture: the file holds the whole leak, inlined or not.
  const file = files.statistics.find((statistic) => statistic.label === fixturePath);
  assert.ok(file, `${fixturePath} among:\n${files.statistics.map((s) => s.label).join('\n')}`);
  assert.ok(file.size >= retained / 2, `${fixturePath} holds ${file.size} bytes of the ${retained} kept`);

  const stacks = await getText(`${base}/debug/heap?groupBy=traceback&top=20`);
  assert.equal(stacks.heading, `[ Top ${stacks.statistics.length} traceback statistics by live bytes; sampled every 32.0 KiB ]`);
  assert.ok(stacks.statistics.every((statistic) => statistic.frames.length > 0), 'every statistic has its frames');
  const leaks = holdersIn(stacks.statistics);
  assert.ok(leaks.length > 0, `a stack of the leak among:\n${stacks.statistics.map((s) => s.label).join('\n')}`);
  const route = HOLDERS.get('receiptRoute');
  for (const leak of leaks) {
    // Inlined or not, receiptRoute is on the stack, called by Express's router.
    assert.ok(leak.frames.includes(`receiptRoute (${fixturePath}:${route?.line}:${route?.column})`), leak.frames.join('\n'));
    assert.ok(
      leak.frames.some((frame) => frame.includes('node_modules/router/')),
      leak.frames.join('\n'),
    );
  }
});

test('?seconds=1 shows the growth at the leaking site while requests keep retaining memory, and refuses a second one meanwhile with 429', async (t) => {
  const served = await serve(t);
  const { base } = served;
  await keepReceipts(base, 20);

  const url = '/debug/heap?seconds=1';
  const taken = whenDebugRequest(served, 'arrived', url);
  let answered = false;
  const delta = fetch(`${base}${url}`).finally(() => {
    answered = true;
  });
  await taken;

  const refused = await fetch(`${base}${url}`);
  assert.equal(refused.status, 429);
  assert.equal(refused.headers.get('retry-after'), '1');
  assert.equal(refused.headers.get('content-type'), 'text/plain; charset=utf-8');
  assert.match(await refused.text(), /^heapwatch: another \?seconds= request is running; try again when it is done\n$/);

  let kept = 0;
  while (!answered) kept += await keepReceipts(base, 10);
  const response = await delta;
  assert.equal(response.status, 200);
  const { heading, statistics } = parseText(await response.text());
  assert.match(heading, /^\[ Top \d+ site statistics by change over the last 1 s; sampled every 32\.0 KiB \]$/);
  assert.ok(statistics.every((statistic) => statistic.sizeDiff !== undefined), 'every line has its (+…) difference');
  const holders = holdersIn(statistics);
  assert.ok(holders.length > 0, `the leak among:\n${statistics.map((s) => `${s.label} ${s.sizeDiff}`).join('\n')}`);
  const grown = sum(holders.map((holder) => holder.sizeDiff ?? 0));
  assert.ok(grown > 0, `the leak grew by ${grown} bytes while ${kept} more were kept`);
  await assertStillServing(base);
});

test('a client that gives up on ?seconds=5 frees the slot: a ?seconds=1 sent right after is served, not refused', async (t) => {
  const served = await serve(t);
  const { base } = served;
  const long = '/debug/heap?seconds=5';
  const taken = whenDebugRequest(served, 'arrived', long);
  const controller = new AbortController();
  const abandoned = fetch(`${base}${long}`, { signal: controller.signal });
  await taken;
  // While it runs, the slot is taken…
  assert.equal((await fetch(`${base}/debug/heap?seconds=1`)).status, 429);

  const gone = whenDebugRequest(served, 'closed', long);
  controller.abort();
  await assert.rejects(abandoned, { name: 'AbortError' });
  await gone;
  // …and once the server has seen the client leave, it is free again.
  const { heading } = await getText(`${base}/debug/heap?seconds=1&top=3`);
  assert.match(heading, /^\[ Top \d site statistics by change over the last 1 s; sampled every 32\.0 KiB \]$/);
  await assertStillServing(base);
});

test('bad input gets a 400 with one plain line that names the parameter', async (t) => {
  const { base } = await serve(t);
  const cases: Array<[string, RegExp]> = [
    ['/debug/heap?top=0', /^heapwatch: parameter "top" must be an integer between 1 and 1000, received "0"$/],
    ['/debug/heap?top=1001', /^heapwatch: parameter "top" must be an integer between 1 and 1000, received "1001"$/],
    ['/debug/heap?top=abc', /^heapwatch: parameter "top" must be an integer between 1 and 1000, received "abc"$/],
    ['/debug/heap?groupBy=line', /^heapwatch: parameter "groupBy" must be one of site, file, traceback, received "line"$/],
    ['/debug/heap?format=xml', /^heapwatch: parameter "format" must be one of text, json, html, received "xml"$/],
    ['/debug/heap?format=html&groupBy=file', /^heapwatch: parameter "groupBy" does not apply to format=html \(the page reads \?format=json itself; only "top" and "stacks" pass to it\)$/],
    ['/debug/heap?format=html&seconds=5', /^heapwatch: parameter "seconds" does not apply to format=html/],
    ['/debug/heap?stacks=5001', /^heapwatch: parameter "stacks" must be an integer between 0 and 5000, received "5001"$/],
    ['/debug/heap?seconds=0', /^heapwatch: parameter "seconds" must be an integer between 1 and 600, received "0"$/],
    ['/debug/heap?seconds=601', /^heapwatch: parameter "seconds" must be an integer between 1 and 600, received "601"$/],
    ['/debug/heap?top=1&top=2', /^heapwatch: parameter "top" given more than once$/],
    ['/debug/heap?nope=1', /^heapwatch: unknown parameter "nope": expected only groupBy, top, format, seconds, stacks$/],
    ['/debug/pprof/heap?x=1', /^heapwatch: unknown parameter "x": expected no parameters$/],
  ];
  for (const [path, message] of cases) {
    const response = await fetch(`${base}${path}`);
    assert.equal(response.status, 400, path);
    assert.equal(response.headers.get('content-type'), 'text/plain; charset=utf-8', path);
    assert.equal(response.headers.get('x-content-type-options'), 'nosniff', path);
    assert.equal(response.headers.get('cache-control'), 'no-store', path);
    const body = await response.text();
    assert.ok(body.endsWith('\n') && body.indexOf('\n') === body.length - 1, `one line: ${JSON.stringify(body)}`);
    assert.match(body.trimEnd(), message, path);
  }
  await assertStillServing(base);
});

test('with a debugToken, only a request bearing that token is served; the others get 401 and a WWW-Authenticate challenge', async (t) => {
  const token = 'a'.repeat(24);
  const { base } = await serve(t, { debugToken: token });
  const heap = `${base}/debug/heap`;

  for (const authorization of [undefined, `Bearer ${'b'.repeat(24)}`, `Basic ${token}`, 'Bearer ']) {
    const response = await fetch(heap, authorization === undefined ? {} : { headers: { authorization } });
    assert.equal(response.status, 401, String(authorization));
    assert.equal(response.headers.get('www-authenticate'), 'Bearer realm="heapwatch"');
    assert.equal(response.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.equal(await response.text(), 'heapwatch: the debug endpoints need "Authorization: Bearer <debugToken>"\n');
  }
  const refusedPprof = await fetch(`${base}/debug/pprof/heap`);
  assert.equal(refusedPprof.status, 401);

  // The scheme is case-insensitive.
  assert.equal((await fetch(heap, { headers: { authorization: `bearer ${token}` } })).status, 200);

  const headers = { authorization: `Bearer ${token}` };
  const served = await fetch(heap, { headers });
  assert.equal(served.status, 200);
  assert.equal(served.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(served.headers.get('cache-control'), 'no-store');
  // A sampler that has just started may hold fewer than ten sites.
  const { heading, statistics } = parseText(await served.text());
  assert.equal(heading, `[ Top ${statistics.length} site statistics by live bytes; sampled every 32.0 KiB ]`);
  const pprof = await fetch(`${base}/debug/pprof/heap`, { headers });
  assert.equal(pprof.status, 200);
  assert.deepEqual([...new Uint8Array(await pprof.arrayBuffer()).subarray(0, 2)], [0x1f, 0x8b], 'gzip magic');
});

test('without a debugToken, a loopback request is served, but not one that came through a proxy (403)', async (t) => {
  const { base } = await serve(t);
  for (const headers of [
    { 'x-forwarded-for': '203.0.113.5' },
    { forwarded: 'for=203.0.113.5' },
    { 'x-real-ip': '203.0.113.5' },
    { 'x-forwarded-host': 'shop.example' },
    { via: '1.1 nginx' },
  ]) {
    for (const path of ['/debug/heap', '/debug/pprof/heap']) {
      const response = await fetch(`${base}${path}`, { headers });
      assert.equal(response.status, 403, `${path} ${JSON.stringify(headers)}`);
      assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(response.headers.get('cache-control'), 'no-store');
      assert.equal(
        await response.text(),
        'heapwatch: without a debugToken the debug endpoints serve loopback clients only, not through a proxy\n',
      );
    }
  }
  const heap = await fetch(`${base}/debug/heap?top=1`);
  assert.equal(heap.status, 200);
  assert.equal(heap.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(heap.headers.get('cache-control'), 'no-store');
  const { heading, statistics } = parseText(await heap.text());
  assert.ok(statistics.length <= 1, 'top=1');
  assert.equal(heading, `[ Top ${statistics.length} site statistics by live bytes; sampled every 32.0 KiB ]`);

  const pprof = await fetch(`${base}/debug/pprof/heap`);
  assert.equal(pprof.status, 200);
  assert.equal(pprof.headers.get('content-type'), 'application/octet-stream');
  assert.equal(pprof.headers.get('content-disposition'), 'attachment; filename="heap.pb.gz"');
  assert.equal(pprof.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(pprof.headers.get('cache-control'), 'no-store');
});

test('with debug off (the default), /debug/heap and /debug/pprof/heap are the app’s own paths', async (t) => {
  const { base } = await serve(t, { debug: false }, (app) => {
    app.get('/debug/heap', (_req, res) => {
      res.type('text/plain').send('the app’s own /debug/heap\n');
    });
  });
  const heap = await fetch(`${base}/debug/heap?top=1`);
  assert.equal(heap.status, 200);
  assert.equal(await heap.text(), 'the app’s own /debug/heap\n');
  const pprof = await fetch(`${base}/debug/pprof/heap`);
  assert.equal(pprof.status, 404);
  assert.equal(await pprof.text(), 'app: no route for /debug/pprof/heap\n');
});

test('go tool pprof fetches /debug/pprof/heap over HTTP and puts the leaking function (or the route it is inlined into) first', async (t) => {
  if (!(await toolAvailable(t, 'go', ['version']))) return;
  const { base } = await serve(t);
  await keepReceipts(base, 200);
  const home = await mkdtemp(join(tmpdir(), 'heapwatch-debug-pprof-'));
  t.after(() => rm(home, { recursive: true, force: true }));

  // A HOME of its own, so that pprof saves the fetched profile there and not into the user's.
  const { stdout } = await promisify(execFile)('go', ['tool', 'pprof', '-top', `${base}/debug/pprof/heap`], {
    env: { ...process.env, HOME: home },
  });
  const lines = stdout.split('\n');
  assert.ok(lines.includes('Type: inuse_space'), stdout);
  const header = lines.findIndex((line) => /^\s*flat\s+flat%\s+sum%\s+cum\s+cum%\s*$/.test(line));
  assert.ok(header >= 0, stdout);
  const first = (lines[header + 1] ?? '').trim().split(/\s+/).slice(5).join(' ');
  assert.ok(HOLDERS.has(first), `first row: ${first}\n${stdout}`);
  await assertStillServing(base);
});

test('after a burst of every kind of debug request — good, bad, refused, abandoned — the app still answers its own routes', async (t) => {
  const served = await serve(t);
  const { base } = served;
  await keepReceipts(base, 20);
  const controller = new AbortController();
  const abandonedUrl = '/debug/heap?seconds=2&groupBy=traceback';
  const taken = whenDebugRequest(served, 'arrived', abandonedUrl);
  const gone = whenDebugRequest(served, 'closed', abandonedUrl);
  const abandoned = fetch(`${base}${abandonedUrl}`, { signal: controller.signal }).catch((error: unknown) => error);
  await taken;
  const burst = [
    '/debug/heap',
    '/debug/heap?groupBy=traceback&top=1000&format=json',
    '/debug/heap?groupBy=file&format=json',
    '/debug/heap?top=-1',
    '/debug/heap?seconds=1e3',
    '/debug/heap?%zz',
    '/debug/pprof/heap',
    '/debug/pprof/heap?',
  ].map(async (path) => {
    const response = await fetch(`${base}${path}`);
    await response.arrayBuffer();
    return response.status;
  });
  const head = fetch(`${base}/debug/heap`, { method: 'HEAD' });
  const statuses = await Promise.all(burst);
  assert.deepEqual(statuses, [200, 200, 200, 400, 400, 400, 200, 200]);
  assert.equal((await head).status, 200);
  controller.abort();
  assert.equal(((await abandoned) as Error).name, 'AbortError');
  await gone;

  await assertStillServing(base);
  await keepReceipts(base, 5);
  const missing = await fetch(`${base}/nowhere`);
  assert.equal(missing.status, 404);
  assert.equal(await missing.text(), 'app: no route for /nowhere\n');
});
