import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import express from 'express';
import { bufferSampler } from '../../src/buffers/buffer-sampler.js';
import { bufferWrappersInstalled } from '../../src/buffers/buffer-wrappers.js';
import { heapwatch } from '../../src/express/middleware.js';
import { createHeapMonitor } from '../../src/monitor/monitor.js';
import { listen } from '../helpers.js';

const FACTORIES = ['alloc', 'allocUnsafe', 'allocUnsafeSlow', 'from', 'concat', 'copyBytesFrom'] as const;
type Factories = Record<(typeof FACTORIES)[number], (...args: unknown[]) => Buffer>;
const originals = Object.fromEntries(FACTORIES.map((name) => [name, (Buffer as unknown as Factories)[name]])) as Factories;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
setFlagsFromString('--no-expose-gc');

/** Calls that cover each factory's forms, as (factory, arguments). */
function calls(): Array<[keyof Factories, unknown[]]> {
  const arrayBuffer = new ArrayBuffer(64 * 1024);
  new Uint8Array(arrayBuffer).fill(9);
  return [
    ['alloc', [16]],
    ['alloc', [70_000, 'ab']],
    ['alloc', [20_000, 'aGk=', 'base64']],
    ['allocUnsafe', [100]],
    ['allocUnsafe', [50_000]],
    ['allocUnsafeSlow', [10]],
    ['allocUnsafeSlow', [40_000]],
    ['from', ['héllo wörld'.repeat(5000)]],
    ['from', ['68656c6c6f', 'hex']],
    ['from', [[1, 2, 3, 300]]],
    ['from', [arrayBuffer, 1024, 40_000]],
    ['from', [arrayBuffer]],
    ['from', [new Uint16Array([1, 2, 70_000])]],
    ['from', [{ length: 3, 0: 1, 1: 2, 2: 3 }]],
    ['concat', [[Buffer.from('a'), Buffer.from('bc')]]],
    ['concat', [[new Uint8Array(30_000), new Uint8Array(30_000).fill(1)], 50_000]],
    ['copyBytesFrom', [new Float64Array(10_000).fill(1.5), 2, 5000]],
  ];
}

/** Calls that throw, and what they throw. */
const THROWING: Array<[keyof Factories, unknown[]]> = [
  ['alloc', [-1]],
  ['alloc', ['12']],
  ['allocUnsafe', [2 ** 53]],
  ['allocUnsafeSlow', [{}]],
  ['from', [123]],
  ['from', [null]],
  ['concat', ['not a list']],
  ['concat', [[1, 2]]],
  ['copyBytesFrom', ['x']],
];

/** Whether Node's `Buffer.concat` calls `Buffer.allocUnsafe` (seen in its source). */
function concatCallsAllocUnsafe(): boolean {
  return /\bBuffer\.allocUnsafe\(/.test(originals.concat.toString());
}

function outcome(factory: (...args: unknown[]) => Buffer, args: unknown[], unsafe: boolean): unknown {
  try {
    const result = factory.apply(Buffer, args);
    // An unsafe Buffer's contents are whatever the memory held: its length is what is compared.
    return { type: result.constructor.name, byteLength: result.byteLength, bytes: unsafe ? undefined : createHash('sha1').update(result).digest('hex') };
  } catch (error) {
    const { name, message, code } = error as { name: string; message: string; code?: string };
    return { threw: true, name, message, code, constructor: (error as object).constructor.name };
  }
}

test("the wrapped Buffer factories return and throw what the originals do, and keep their names and lengths", () => {
  const before = [...calls(), ...THROWING].map(([name, args]) => outcome(originals[name], args, name.startsWith('allocUnsafe')));
  // Every byte sampled: each call that may be sampled is.
  bufferSampler.acquire(1);
  try {
    const wrapped = Buffer as unknown as Factories;
    for (const name of FACTORIES) {
      // Where `concat` makes its Buffer with `Buffer.allocUnsafe` (Node 20–24), that wrapper counts it.
      if (name === 'concat' && concatCallsAllocUnsafe()) assert.equal(wrapped.concat, originals.concat, 'concat left as it is');
      else assert.notEqual(wrapped[name], originals[name], `${name} is wrapped`);
      assert.equal(wrapped[name].name, originals[name].name, `${name}'s name`);
      assert.equal(wrapped[name].length, originals[name].length, `${name}'s length`);
    }
    const prepare = Error.prepareStackTrace;
    const limit = Error.stackTraceLimit;
    const after = [...calls(), ...THROWING].map(([name, args]) => outcome(wrapped[name], args, name.startsWith('allocUnsafe')));
    assert.deepEqual(after, before);
    assert.ok(before.filter((o) => (o as { threw?: boolean }).threw).length === THROWING.length, 'every throwing call threw');
    assert.equal(Error.prepareStackTrace, prepare, 'the stack trace API is left as it was');
    assert.equal(Error.stackTraceLimit, limit);
  } finally {
    bufferSampler.release();
  }
});

test('the originals are back when the last user stops, not before', () => {
  bufferSampler.acquire(1024);
  bufferSampler.acquire(1024);
  bufferSampler.release();
  assert.ok(bufferWrappersInstalled());
  assert.notEqual(Buffer.alloc, originals.alloc);
  bufferSampler.release();
  assert.ok(!bufferWrappersInstalled());
  for (const name of FACTORIES) assert.equal((Buffer as unknown as Factories)[name], originals[name], `${name} restored`);
});

test("a monitor samples Buffers at bufferSamplingIntervalBytes: V8's 512 KiB by default, whatever samplingIntervalBytes is", () => {
  const cases: Array<[Record<string, number>, number]> = [
    [{}, 524_288],
    [{ samplingIntervalBytes: 1024 }, 524_288],
    [{ samplingIntervalBytes: 1024, bufferSamplingIntervalBytes: 4 * 1024 * 1024 }, 4 * 1024 * 1024],
  ];
  for (const [options, expected] of cases) {
    const monitor = createHeapMonitor({ logger: false, bufferSampling: true, ...options }).start();
    try {
      assert.equal(bufferSampler.samplingIntervalBytes, expected, JSON.stringify(options));
    } finally {
      monitor.stop();
    }
  }
  assert.ok(!bufferWrappersInstalled());
});

test("slices of Node's pool, views of the caller's memory and empty Buffers are never sampled; a concat is sampled once", () => {
  bufferSampler.acquire(1);
  try {
    const kept: Buffer[] = [];
    const taken = bufferSampler.taken;
    const small = (Buffer.poolSize >>> 1) - 1;
    for (let i = 0; i < 500; i++) {
      kept.push(Buffer.allocUnsafe(small), Buffer.from('x'.repeat(small)), Buffer.from(new Uint8Array(small)), Buffer.concat([Buffer.alloc(small)]).subarray(0));
      kept.push(Buffer.from(new ArrayBuffer(100_000)), Buffer.alloc(0));
    }
    // The inner Buffer.alloc(small) of each concat above is sampled (alloc never pools): 500.
    assert.equal(bufferSampler.taken - taken, 500);
    const big = 64 * 1024;
    const before = bufferSampler.taken;
    kept.push(Buffer.concat([Buffer.allocUnsafeSlow(big / 2), Buffer.allocUnsafeSlow(big / 2)]));
    assert.equal(bufferSampler.taken - before, 3, 'two allocUnsafeSlow and one concat (its own allocUnsafe not again)');
  } finally {
    bufferSampler.release();
  }
});

test('the estimate of live Buffers is within its stated noise of the truth, and falls when they are collected', async () => {
  const R = 512 * 1024;
  bufferSampler.acquire(R);
  try {
    let kept: Buffer[] = [];
    const keep = () => {
      for (let i = 0; i < 4000; i++) kept.push(Buffer.alloc(16 * 1024));
    };
    keep();
    const truth = 4000 * 16 * 1024;
    const sum = (list = bufferSampler.read()) => list.reduce((a, s) => ({ bytes: a.bytes + s.bytes, variance: a.variance + s.variance }), { bytes: 0, variance: 0 });
    const live = sum();
    const sd = Math.sqrt(live.variance);
    // sqrt(B × R) for Buffers much smaller than R.
    assert.ok(Math.abs(sd - Math.sqrt(truth * R)) < 0.3 * Math.sqrt(truth * R), `noise ${sd} near sqrt(B R)`);
    assert.ok(Math.abs(live.bytes - truth) < 4 * sd, `estimate ${live.bytes} within 4 sd of ${truth}`);
    kept = kept.slice(0, 400);
    // A WeakRef read keeps its Buffer alive to the end of the job (as a reading in a timer does).
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    const after = sum();
    assert.ok(after.bytes < live.bytes / 3, `collected Buffers are let go: ${after.bytes} of ${live.bytes}`);
    assert.ok(kept.length > 0);
  } finally {
    bufferSampler.release();
  }
});

test('an Express service answers the same with heapwatch sampling its Buffers, and Buffer is as it was after stop()', async () => {
  const app = express();
  const middleware = heapwatch({ logger: false, samplingIntervalBytes: 1024, bufferSampling: true, bufferSamplingIntervalBytes: 1024 });
  app.use(middleware);
  app.get('/body', (_req, res) => {
    const parts = [Buffer.from('{"a":'), Buffer.alloc(40_000, 'z'), Buffer.from('}')];
    res.type('application/octet-stream').send(Buffer.concat(parts));
  });
  app.get('/bad', (_req, res) => {
    try {
      Buffer.alloc(-5);
      res.send('no');
    } catch (error) {
      res.status(400).send((error as Error).message);
    }
  });
  const server = await listen(app);
  try {
    assert.ok(bufferWrappersInstalled());
    const body = Buffer.from(await (await fetch(`${server.base}/body`)).arrayBuffer());
    assert.equal(body.toString(), `{"a":${'z'.repeat(40_000)}}`);
    const bad = await fetch(`${server.base}/bad`);
    assert.equal(bad.status, 400);
    assert.equal(await bad.text(), outcomeMessage(() => originals.alloc(-5)));
  } finally {
    server.close();
    middleware.stop();
  }
  assert.ok(!bufferWrappersInstalled());
  assert.equal(Buffer.alloc, originals.alloc);
});

function outcomeMessage(fn: () => unknown): string {
  try {
    fn();
    return '';
  } catch (error) {
    return (error as Error).message;
  }
}

test('a stack trace API the application made read-only costs a sample, never the Buffer', () => {
  const prepare = Object.getOwnPropertyDescriptor(Error, 'prepareStackTrace');
  Object.defineProperty(Error, 'prepareStackTrace', { value: undefined, writable: false, configurable: true });
  bufferSampler.acquire(1);
  try {
    const failed = bufferSampler.failedSamples;
    const buffer = Buffer.alloc(1024, 1);
    assert.equal(buffer.length, 1024);
    assert.equal(buffer[1023], 1);
    assert.equal(bufferSampler.failedSamples, failed + 1);
  } finally {
    bufferSampler.release();
    if (prepare) Object.defineProperty(Error, 'prepareStackTrace', prepare);
    else delete (Error as { prepareStackTrace?: unknown }).prepareStackTrace;
  }
});

test("a monitor's stats() count the Buffer sampler's samples: taken, failed, and not kept past 10 000 live ones; 0 with it off", () => {
  const off = createHeapMonitor({ logger: false }).start();
  try {
    Buffer.alloc(1024);
    const { bufferSamplesTaken, bufferSamplesDropped, bufferSamplesFailed } = off.stats();
    assert.deepEqual([bufferSamplesTaken, bufferSamplesDropped, bufferSamplesFailed], [0, 0, 0]);
  } finally {
    off.stop();
  }
  // At one byte every Buffer is sampled.
  const monitor = createHeapMonitor({ logger: false, bufferSampling: true, bufferSamplingIntervalBytes: 1 }).start();
  const kept: Buffer[] = [];
  try {
    const start = monitor.stats();
    const prepare = Object.getOwnPropertyDescriptor(Error, 'prepareStackTrace');
    Object.defineProperty(Error, 'prepareStackTrace', { value: undefined, writable: false, configurable: true });
    try {
      Buffer.alloc(16);
    } finally {
      if (prepare) Object.defineProperty(Error, 'prepareStackTrace', prepare);
      else delete (Error as { prepareStackTrace?: unknown }).prepareStackTrace;
    }
    assert.equal(monitor.stats().bufferSamplesFailed - start.bufferSamplesFailed, 1);
    // 10 005 kept: the sampler holds 10 000 live samples at most, the rest are counted dropped.
    for (let i = 0; i < 10_005; i++) kept.push(Buffer.alloc(16));
    const end = monitor.stats();
    assert.equal(end.bufferSamplesTaken - start.bufferSamplesTaken, 10_000);
    assert.equal(end.bufferSamplesDropped - start.bufferSamplesDropped, 5);
  } finally {
    monitor.stop();
  }
});
