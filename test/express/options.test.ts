import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import fc from 'fast-check';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { HeapwatchError } from '../../src/errors.js';
import { heapwatch, isSampling } from '../../src/index.js';
import { HEAPWATCH_OPTION_NAMES, resolveHeapwatchOptions } from '../../src/express/options.js';
import { describeValue } from '../../src/options/validate.js';

type OptionName = (typeof HEAPWATCH_OPTION_NAMES)[number];

const quietLogger = pino(new Writable({ write: (_chunk, _encoding, done) => done() }));

/** A value each option accepts, over its whole range. */
const valid: Record<OptionName, fc.Arbitrary<unknown>> = {
  intervalMs: fc.integer({ min: 10, max: 3_600_000 }),
  windowMs: fc.integer({ min: 40, max: 86_400_000 }),
  warmupMs: fc.integer({ min: 0, max: 86_400_000 }),
  growthThresholdBytes: fc.integer({ min: 1, max: 2 ** 40 }),
  samplingIntervalBytes: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
  topSites: fc.integer({ min: 1, max: 1000 }),
  maxTrackedSites: fc.integer({ min: 1, max: 100_000 }),
  readingBudgetMs: fc.integer({ min: 1, max: 3_600_000 }),
  forcedGcPauseBudgetMs: fc.integer({ min: 0, max: 60_000 }),
  memoryNearLimitFraction: fc.double({ min: 0.5, max: 0.99, noNaN: true }),
  unexplainedGrowthThresholdBytes: fc.integer({ min: 1, max: 2 ** 40 }),
  logger: fc.constantFrom(false, quietLogger),
  include: fc.array(fc.string({ minLength: 1, maxLength: 30 }), { maxLength: 3 }),
  exclude: fc.array(fc.string({ minLength: 1, maxLength: 30 }), { maxLength: 3 }),
  reader: fc.constantFrom('auto', 'native', 'inspector'),
  allocations: fc.boolean(),
  bufferSampling: fc.boolean(),
  bufferSamplingIntervalBytes: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
  outOfMemoryProfileDir: fc.string({ minLength: 1, maxLength: 30 }).filter((dir) => dir.trim() !== ''),
  metricsPath: fc.oneof(fc.constant(false), fc.stringMatching(/^\/[a-z0-9/_.-]{0,20}$/)),
  registry: fc.constant(new Registry()),
  defaultMetrics: fc.boolean(),
  meterProvider: fc.constant(new MeterProvider()),
  debug: fc.boolean(),
  debugToken: fc.stringMatching(/^\S{16,40}$/),
  redactSites: fc.boolean(),
};

/** Values that are wrong for most options: other types, non-integers, out of every range, odd objects. */
const hostile = fc.oneof(
  fc.anything({ maxDepth: 2 }),
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, -1, 0, 0.5, 2 ** 53, '10', '', null, [], {}, () => 1, 10n, Symbol('x')),
);

/** A random subset of the options, each with a valid or a hostile value. */
const someOptions = fc.dictionary(
  fc.constantFrom(...HEAPWATCH_OPTION_NAMES),
  fc.boolean(),
  { maxKeys: 6 },
).chain((picked) => {
  const names = Object.keys(picked) as OptionName[];
  return fc.tuple(...names.map((name) => (picked[name] ? valid[name] : fc.oneof(valid[name], hostile)))).map((values) =>
    Object.fromEntries(names.map((name, i) => [name, values[i]])),
  );
});

/** The option an error is about, as its message names it. */
function namedOption(error: HeapwatchError): string | undefined {
  return /^(?:Invalid|Unknown) option "([^"]*)"/.exec(error.message)?.[1];
}

test('an option the user did not pass is never the cause of an error: each refusal names a given option and the value received', () => {
  fc.assert(
    fc.property(someOptions, (given) => {
      let error: unknown;
      try {
        resolveHeapwatchOptions(given);
      } catch (caught) {
        error = caught;
      }
      if (error === undefined) return;
      assert.ok(error instanceof HeapwatchError, `a HeapwatchError, not ${String(error)}`);
      assert.equal(error.code, 'HEAPWATCH_ERR_INVALID_OPTION');
      const name = namedOption(error);
      assert.ok(name !== undefined && name in given, `the error names an option the user passed: ${error.message}`);
      // The secret is the one value never echoed.
      if (name !== 'debugToken') assert.ok(error.message.endsWith(`received ${describeValue(given[name])}`), error.message);
    }),
    { numRuns: 2000, seed: 20261213 },
  );
});

test('options that are each valid are accepted together, whichever subset is given (a window and an interval given together must fit each other)', () => {
  const validSubset = fc
    .dictionary(fc.constantFrom(...HEAPWATCH_OPTION_NAMES), fc.constant(true), { maxKeys: 8 })
    .chain((picked) => fc.record(Object.fromEntries(Object.keys(picked).map((name) => [name, valid[name as OptionName]]))))
    .filter((given) => {
      const { intervalMs, windowMs } = given as { intervalMs?: number; windowMs?: number };
      if (intervalMs === undefined || windowMs === undefined) return true;
      return windowMs >= 4 * intervalMs;
    });
  fc.assert(
    fc.property(validSubset, (given) => {
      const resolved = resolveHeapwatchOptions(given);
      const { intervalMs, windowMs, windowSlots } = resolved.monitor;
      assert.ok(windowMs >= 4 * intervalMs, `a window of at least 4 intervals, not ${windowMs} ms of ${intervalMs} ms`);
      assert.ok(windowSlots >= 5 && windowSlots <= 121, `5 to 121 readings kept per site, not ${windowSlots}`);
    }),
    { numRuns: 1000, seed: 20261214 },
  );
});

test('memoryNearLimitFraction is a fraction from 0.5 to 0.99, and a refusal says so', () => {
  assert.equal(resolveHeapwatchOptions({}).monitor.memoryNearLimitFraction, 0.9);
  assert.equal(resolveHeapwatchOptions({ memoryNearLimitFraction: 0.75 }).monitor.memoryNearLimitFraction, 0.75);
  for (const [value, received] of [[90, '90'], [0.3, '0.3'], [1, '1'], ['0.9', '"0.9"']] as const) {
    assert.throws(() => resolveHeapwatchOptions({ memoryNearLimitFraction: value }), {
      code: 'HEAPWATCH_ERR_INVALID_OPTION',
      message: `Invalid option "memoryNearLimitFraction": expected a number between 0.5 and 0.99, received ${received}`,
    });
  }
});

test('unexplainedGrowthThresholdBytes is a whole number of bytes, at least 1, and a refusal says so', () => {
  assert.equal(resolveHeapwatchOptions({}).monitor.unexplainedGrowthThresholdBytes, 32 * 1024 * 1024);
  assert.equal(resolveHeapwatchOptions({ unexplainedGrowthThresholdBytes: 1 }).monitor.unexplainedGrowthThresholdBytes, 1);
  for (const [value, received] of [[0, '0'], [1.5, '1.5'], ['32MiB', '"32MiB"']] as const) {
    assert.throws(() => resolveHeapwatchOptions({ unexplainedGrowthThresholdBytes: value }), {
      code: 'HEAPWATCH_ERR_INVALID_OPTION',
      message: `Invalid option "unexplainedGrowthThresholdBytes": expected an integer >= 1, received ${received}`,
    });
  }
});

test('the window follows an interval given alone, and the interval a window given alone: the default, or the nearest value that fits', () => {
  const windowOf = (intervalMs: number) => resolveHeapwatchOptions({ intervalMs }).monitor.windowMs;
  assert.deepEqual([10, 1000, 10_000, 900_000, 1_200_000, 3_600_000].map(windowOf), [3_600_000, 3_600_000, 3_600_000, 3_600_000, 4_800_000, 14_400_000]);
  const intervalOf = (windowMs: number) => resolveHeapwatchOptions({ windowMs }).monitor.intervalMs;
  assert.deepEqual([40, 20_000, 40_000, 600_000, 86_400_000].map(intervalOf), [10, 5000, 10_000, 10_000, 10_000]);
  assert.throws(() => resolveHeapwatchOptions({ intervalMs: 1000, windowMs: 2000 }), {
    code: 'HEAPWATCH_ERR_INVALID_OPTION',
    message: 'Invalid option "windowMs": expected at least 4 times intervalMs (4000), received 2000',
  });
});

test('heapwatch({ intervalMs: 1_200_000 }) starts, with a window of 80 min (4 intervals), and stops', () => {
  const watch = heapwatch({ intervalMs: 1_200_000, logger: false, registry: new Registry() });
  try {
    assert.equal(watch.monitor.options.windowMs, 4_800_000);
    assert.equal(watch.monitor.running, true);
  } finally {
    watch.stop();
  }
  assert.equal(isSampling(), false);
});
