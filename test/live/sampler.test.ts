import assert from 'node:assert/strict';
import { Session } from 'node:inspector';
import { afterEach, test } from 'node:test';
import { ErrorCode, HeapwatchError } from '../../src/errors.js';
import { isSampling, startSampling, stopSampling } from '../../src/v8/sampler.js';
import { takeSnapshot } from '../../src/take-snapshot.js';

afterEach(() => stopSampling());

const warningCodes: string[] = [];
process.on('warning', (warning: Error & { code?: string }) => warningCodes.push(warning.code ?? ''));

const hasCode = (code: string, pattern?: RegExp) => (error: unknown) =>
  error instanceof HeapwatchError && error.code === code && (!pattern || pattern.test(error.message));

/** Another client of V8's one sampler, as DevTools or a second profiler would be. */
function foreignClient() {
  const session = new Session();
  session.connect();
  const post = (method: string, params: object = {}) =>
    session.post(method, params, (error) => {
      if (error) throw error;
    });
  return {
    stop: () => post('HeapProfiler.stopSampling'),
    start: (samplingInterval: number) => post('HeapProfiler.startSampling', { samplingInterval }),
    close: () => session.disconnect(),
  };
}

const kept: unknown[] = [];
function allocate(): void {
  for (let i = 0; i < 20000; i++) kept.push({ i, text: `item ${i}` });
}

test('samples between startSampling() and stopSampling(), like tracemalloc.start()/stop()', () => {
  assert.equal(isSampling(), false);
  assert.throws(() => takeSnapshot(), hasCode(ErrorCode.NOT_SAMPLING, /startSampling\(\)/));
  startSampling({ samplingIntervalBytes: 8192 });
  assert.equal(isSampling(), true);
  allocate();
  const snapshot = takeSnapshot();
  assert.equal(snapshot.samplingIntervalBytes, 8192);
  assert.ok(snapshot.size > 0);
  stopSampling();
  assert.equal(isSampling(), false);
  stopSampling(); // a second stop is harmless
});

test('starting again with the same options is a no-op; with others, a coded error', () => {
  startSampling({ samplingIntervalBytes: 8192, reader: 'native' });
  startSampling({ samplingIntervalBytes: 8192 });
  assert.throws(
    () => startSampling({ samplingIntervalBytes: 16384 }),
    hasCode(ErrorCode.ALREADY_SAMPLING, /samplingIntervalBytes 8192.*samplingIntervalBytes 16384/),
  );
  assert.throws(() => startSampling({ samplingIntervalBytes: 8192, reader: 'inspector' }), hasCode(ErrorCode.ALREADY_SAMPLING));
});

test('rejects bad options with a coded error that names the option and the value', () => {
  const cases: Array<[unknown, RegExp]> = [
    [{ samplingIntervalBytes: -1 }, /"samplingIntervalBytes": expected an integer between 1 and 2147483647, received -1/],
    [{ samplingIntervalBytes: 1.5 }, /"samplingIntervalBytes".*received 1\.5/],
    [{ samplingIntervalBytes: '4096' }, /"samplingIntervalBytes".*received "4096"/],
    [{ samplingIntervalBytes: Number.NaN }, /"samplingIntervalBytes".*received NaN/],
    [{ stackDepth: 0 }, /"stackDepth".*received 0/],
    [{ reader: 'fast' }, /"reader": expected one of "auto", "native", "inspector", received "fast"/],
    [{ samplingInterval: 4096 }, /Unknown option "samplingInterval".*samplingIntervalBytes/],
    ['fast', /"options": expected an options object, received "fast"/],
  ];
  for (const [options, message] of cases) {
    assert.throws(() => startSampling(options as never), hasCode(ErrorCode.INVALID_OPTION, message), String(message));
  }
  assert.equal(isSampling(), false, 'nothing was started');
});

for (const reader of ['native', 'inspector'] as const) {
  test(`notices on the next read that another client stopped the sampler (${reader} reader)`, () => {
    startSampling({ samplingIntervalBytes: 8192, reader });
    allocate();
    assert.ok(takeSnapshot().size > 0);

    const other = foreignClient();
    other.stop();
    assert.throws(() => takeSnapshot(), hasCode(ErrorCode.SAMPLER_LOST, /stopped.*restarted it at samplingIntervalBytes 8192/));
    allocate();
    const after = takeSnapshot();
    assert.equal(after.reader, reader);
    assert.ok(after.size > 0, 'sampling again after the restart');
    other.close();
  });

  test(`notices on the next read that another client restarted the sampler at another interval (${reader} reader)`, () => {
    startSampling({ samplingIntervalBytes: 8192, reader });
    allocate();
    takeSnapshot();
    const other = foreignClient();
    other.stop();
    other.start(131072);
    allocate();
    assert.throws(() => takeSnapshot(), hasCode(ErrorCode.SAMPLER_LOST, /restarted/));
    allocate();
    assert.ok(takeSnapshot().size > 0);
    other.close();
  });
}

test('the warning for a lost sampler was emitted once in this process, with its code, for all those losses', async () => {
  // process.emitWarning delivers on the next tick.
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(
    warningCodes.filter((code) => code === 'HEAPWATCH_W_SAMPLER_LOST'),
    ['HEAPWATCH_W_SAMPLER_LOST'],
  );
});
