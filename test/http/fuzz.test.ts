import assert from 'node:assert/strict';
import { request } from 'node:http';
import { test } from 'node:test';
import express from 'express';
import fc from 'fast-check';
import { Registry } from 'prom-client';
import { heapwatch } from '../../src/index.js';
import { listen } from '../helpers.js';

/** No answer of heapwatch's is larger than this: `top` is capped at 1000 groups. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;
/** A socket still open after this long is hung (this is a liveness bound, not a speed check). */
const HUNG_AFTER_MS = 20_000;

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
}

/** One raw request through node:http, which lets through methods and paths fetch would refuse. */
function send(base: string, method: string, path: string, headers: Record<string, string>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { method, headers, timeout: HUNG_AFTER_MS }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) req.destroy(new Error(`answer larger than ${MAX_BODY_BYTES} bytes`));
        else chunks.push(chunk);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${HUNG_AFTER_MS} ms: hung socket`)));
    req.on('error', reject);
    req.end();
  });
}

const heapwatchPaths = ['/metrics', '/debug/heap', '/debug/pprof/heap', '/debug/pprof/allocs'];
const parameterNames = ['groupBy', 'top', 'format', 'seconds', 'limit', 'debug', '__proto__', 'constructor', 'top[]', ''];

/** Query values: numbers at and past the bounds, injections, encodings, long and odd strings. */
const value = fc.oneof(
  fc.constantFrom('site', 'file', 'traceback', 'text', 'json', 'html', '0', '1', '1000', '1001', '-1', '1e3', '0x10', '99999999999', 'NaN', ''),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.constantFrom('%00', '%ZZ', '%E2%80%AE', '..%2F..%2Fetc%2Fpasswd', '<script>alert(1)</script>', '${7*7}', "' OR 1=1 --", 'a'.repeat(5000)),
);

const query = fc
  .array(fc.tuple(fc.oneof(fc.constantFrom(...parameterNames), fc.string({ maxLength: 12 })), value), { maxLength: 5 })
  // A valid ?seconds=N request waits N seconds by design: only 1 s of it here.
  .filter((pairs) => pairs.every(([name, raw]) => name !== 'seconds' || !/^\d{1,9}$/.test(raw) || Number(raw) <= 1 || Number(raw) > 600))
  .map((pairs) => {
    const params = new URLSearchParams();
    for (const [name, raw] of pairs) params.append(name, raw);
    const text = params.toString();
    return text === '' ? '' : `?${text}`;
  });

const path = fc.oneof(
  fc.constantFrom(...heapwatchPaths),
  fc.constantFrom(...heapwatchPaths).map((known) => `${known}/`),
  fc.constantFrom(...heapwatchPaths).map((known) => known.toUpperCase()),
  fc.constantFrom('/debug/', '/debug', '/debug/heap/../pprof/heap', '//metrics', '/metrics%00', '/debug/%2e%2e/heap', '/'),
  fc.webPath().map((random) => (random.startsWith('/') ? random : `/${random}`)),
);

const method = fc.constantFrom('GET', 'GET', 'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'PROPFIND', 'TRACE');

/** Header values node:http accepts (no control characters), hostile in content. */
const headerValue = fc.oneof(fc.string({ maxLength: 60 }).filter((s) => !/[\0-\x1f\x7f]/.test(s) && /^[\x20-\x7e]*$/.test(s)), fc.constantFrom('Bearer ', 'Bearer x', 'bearer    ', 'Basic Zm9vOmJhcg==', '127.0.0.1', 'for=127.0.0.1', 'text/html', '*/*'));
const headers = fc.dictionary(fc.constantFrom('authorization', 'x-forwarded-for', 'forwarded', 'x-real-ip', 'via', 'accept', 'accept-encoding', 'x-custom'), headerValue, { maxKeys: 4 });

for (const withToken of [false, true]) {
  test(`fuzzed requests (methods, paths, query strings, headers${withToken ? ', with a debug token' : ''}): always a 2xx or 4xx, heapwatch's refusals one plain line, never a 5xx, an oversized answer or a hung socket`, async (t) => {
    const watch = heapwatch({
      logger: false,
      intervalMs: 200,
      windowMs: 4000,
      registry: new Registry(),
      debug: true,
      ...(withToken ? { debugToken: 'a-long-enough-debug-token' } : {}),
    });
    const app = express();
    app.use(watch);
    app.use((_req, res) => {
      res.status(404).type('text/plain').send('the app: not found');
    });
    const server = await listen(app);
    t.after(() => (watch.stop(), server.close()));

    await fc.assert(
      fc.asyncProperty(method, path, query, headers, async (verb, where, search, sent) => {
        const answer = await send(server.base, verb, `${where}${search}`, sent);
        assert.ok(answer.status >= 200 && answer.status < 500, `${verb} ${where}${search} answered ${answer.status}: ${answer.body.toString('utf8', 0, 200)}`);
        const fromHeapwatch = answer.headers['cache-control'] === 'no-store' && answer.headers['x-content-type-options'] === 'nosniff';
        if (fromHeapwatch && answer.status >= 400) {
          assert.match(String(answer.headers['content-type']), /^text\/plain/);
          if (verb !== 'HEAD') assert.match(answer.body.toString('utf8'), /^heapwatch: [^\n]+\n$/, 'one plain line');
        }
      }),
      { numRuns: 250, seed: 20261128 },
    );
    assert.equal(watch.monitor.running, true, 'heapwatch still runs');
  });
}
