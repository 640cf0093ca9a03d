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
  const post = (method: string, params: object = {}) => {
    let failure: Error | null = null;
    session.post(method, params, (error) => {
      failure = error;
    });
    // Thrown here: node:inspector would turn a throw inside the callback into a mere warning.
    if (failure) throw failure;
  };
  return {
    stop: () => post('HeapProfiler.stopSampling'),
    start: (samplingInterval: number) => post('HeapProfiler.startSampling', { samplingInterval }),
    close: () => session.disconnect(),
    /** The smallest sample of the profile V8 gives this client: the interval, a few bytes more. Throws when not sampling. */
    smallestSampleBytes(): number {
      let smallest = Infinity;
      let failure: Error | null = null;
      session.post('HeapProfiler.getSamplingProfile', {}, (error, result) => {
        failure = error;
        const { profile } = (result ?? { profile: { samples: [] } }) as { profile: { samples: Array<{ size: number }> } };
        for (const sample of profile.samples) smallest = Math.min(smallest, sample.size);
      });
      // Thrown here: node:inspector would turn a throw inside the callback into a mere warning.
      if (failure) throw failure;
      return smallest;
    },
  };
}

const kept: unknown[] = [];
function allocate(): void {
  for (let i = 0; i < 20000; i++) kept.push({ i, text: `item ${i}` });
}

/** Small objects of many sizes: the buckets whose counts tell which interval sampled them. */
function allocateVaried(): void {
  for (let length = 1; length <= 24; length++) {
    for (let i = 0; i < 4000; i++) kept.push(new Array(length).fill(i));
  }
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

  test(`reads at the new interval, without restarting it, a sampler another client restarted at another interval (${reader} reader)`, () => {
    startSampling({ samplingIntervalBytes: 8192, reader });
    allocate();
    takeSnapshot();
    const other = foreignClient();
    other.stop();
    other.start(131072);
    const intervals: number[] = [];
    for (let i = 0; i < 10 && intervals.at(-1) !== 131072; i++) {
      allocateVaried();
      intervals.push(takeSnapshot().samplingIntervalBytes);
    }
    assert.equal(intervals.at(-1), 131072, `heapwatch took up the other client's interval (read as ${intervals.join(', ')})`);
    assert.equal(other.smallestSampleBytes() >= 131072, true, 'the sampler still runs at the other client’s interval: heapwatch did not restart it');
    stopSampling();
    assert.ok(other.smallestSampleBytes() > 0, "stopSampling() left the other client's sampler running");
    other.close();
  });

  test(`shares a sampler another client started first: reads it at that client's interval and never stops it (${reader} reader)`, () => {
    const other = foreignClient();
    other.start(65536);
    startSampling({ samplingIntervalBytes: 8192, reader });
    const intervals: number[] = [];
    for (let i = 0; i < 10 && intervals.at(-1) !== 65536; i++) {
      allocateVaried();
      intervals.push(takeSnapshot().samplingIntervalBytes);
    }
    assert.equal(intervals.at(-1), 65536, `read at the other client's interval (read as ${intervals.join(', ')})`);
    startSampling({ samplingIntervalBytes: 8192 }); // the options asked for, not the interval shared: a no-op
    stopSampling();
    assert.ok(other.smallestSampleBytes() >= 65536, "the other client's sampler still runs, at its interval");
    other.close();
  });
}

test('the warnings for a lost and a shared sampler were each emitted once in this process, with their codes', async () => {
  // process.emitWarning delivers on the next tick.
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(
    warningCodes.filter((code) => code === 'HEAPWATCH_W_SAMPLER_LOST'),
    ['HEAPWATCH_W_SAMPLER_LOST'],
  );
  assert.deepEqual(
    warningCodes.filter((code) => code === 'HEAPWATCH_W_SAMPLER_SHARED'),
    ['HEAPWATCH_W_SAMPLER_SHARED'],
  );
});
