import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { Profile } from 'pprof-format';
import { ErrorCode } from '../../src/errors.js';
import { createHeapMonitor } from '../../src/monitor/monitor.js';
import { defaults } from '../../src/options/defaults.js';
import { repoRoot } from '../helpers.js';

const FIXTURE = 'test/fixtures/oom-leak.mjs';

interface Crash {
  readonly signal: string | null;
  readonly records: Array<{ level: number; heapwatch: Record<string, unknown> }>;
  /** heap_size_limit as the child read it at start. */
  readonly heapLimitBytes: number;
  readonly stderr: string;
}

/** Runs the leaking service with a 64 MiB old space until V8 aborts it. */
function crash(args: string[] = []): Promise<Crash> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--max-old-space-size=64', FIXTURE, ...args], { cwd: repoRoot, maxBuffer: 64 * 1024 * 1024, timeout: 180_000 }, (error, stdout, stderr) => {
      const records = stdout
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as { level: number; heapwatch: Record<string, unknown> });
      resolve({
        signal: (error as { signal?: string } | null)?.signal ?? null,
        records,
        heapLimitBytes: Number(/heap_size_limit (\d+)/.exec(stderr)?.[1]),
        stderr,
      });
    });
  });
}

/** The leak's holders: rememberOrder, or the route it may be inlined into. */
const HOLDERS = /^(rememberOrder|placeOrder) \(test\/fixtures\/oom-leak\.mjs:\d+:\d+\)$/;

test('a service that leaks until V8 aborts it leaves one fatal heap-near-limit record, the leaking function first among the growing sites', async () => {
  const { signal, records, heapLimitBytes, stderr } = await crash();
  assert.equal(signal, 'SIGABRT', `V8 aborted the process at the limit\n${stderr.slice(0, 2000)}`);
  const nearLimit = records.filter((record) => record.heapwatch['event'] === 'heap-near-limit');
  assert.equal(nearLimit.length, 1, `one record:\n${records.map((record) => record.heapwatch['event']).join('\n')}\nstderr:\n${stderr.slice(0, 3000)}`);
  const [record] = nearLimit;
  assert.ok(record);
  // Records may follow it: V8 gave room, and the monitor goes on until V8 aborts at the raised limit.
  assert.equal(record.level, 60, 'fatal');

  const heapwatch = record.heapwatch as {
    heapUsedBytes: number;
    heapLimitBytes: number;
    externalBytes: number;
    arrayBuffersBytes: number;
    samplingIntervalBytes: number;
    spanMs: number;
    growing: Array<{ statistic: string; traceback: string[] }>;
    suspects: Array<{ function: string }>;
    profile?: string;
  };
  assert.equal(heapwatch.heapLimitBytes, heapLimitBytes, 'the limit before V8 raised it for heapwatch');
  assert.ok(heapwatch.heapUsedBytes > 48 * 1024 * 1024, `${heapwatch.heapUsedBytes} bytes used, near the 64 MiB old space`);
  assert.ok(heapwatch.arrayBuffersBytes <= heapwatch.externalBytes);
  assert.equal(heapwatch.samplingIntervalBytes, defaults.samplingIntervalBytes, 'the interval V8 samples at: the default');
  assert.ok(heapwatch.spanMs > 0);
  assert.equal(heapwatch.profile, undefined);

  // The leak first, in tracemalloc's line format, with its traceback.
  const [first] = heapwatch.growing;
  assert.ok(first, 'growing sites');
  assert.match(first.statistic, /^test\/fixtures\/oom-leak\.mjs:\d+: size=[\d.]+ (KiB|MiB) \(\+[\d.]+ (KiB|MiB)\), count=\d+ \(\+\d+\), average=\d+ B$/);
  const site = first.traceback.find((line) => !line.endsWith('(<builtin>)'));
  assert.match(site ?? '', HOLDERS, first.traceback.join('\n'));
  const growthOf = (statistic: string): number => {
    const [, amount = '0', unit = 'B'] = /\(\+([\d.]+) (B|KiB|MiB)\)/.exec(statistic) ?? [];
    return Number(amount) * 1024 ** ['B', 'KiB', 'MiB'].indexOf(unit);
  };
  // Once TurboFan inlines rememberOrder into placeOrder, the leak's later objects are placeOrder's:
  // the leak is both sites together, split wherever the optimisation happened to come.
  const isHolder = (entry: { traceback: string[] }) => HOLDERS.test(entry.traceback.find((line) => !line.endsWith('(<builtin>)')) ?? '');
  const holders = heapwatch.growing.filter(isHolder);
  const leakGrowth = holders.reduce((sum, entry) => sum + growthOf(entry.statistic), 0);
  assert.ok(leakGrowth > 16 * 1024 * 1024, `the leak grew by ${holders.map((entry) => entry.statistic).join(' and ')}`);
  for (const other of heapwatch.growing.filter((entry) => !isHolder(entry))) assert.ok(growthOf(other.statistic) <= growthOf(first.statistic), other.statistic);
});

test('with outOfMemoryProfileDir, the pprof profile of that moment is written there too, and the record names it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'heapwatch-oom-'));
  try {
    const { records } = await crash([join(dir, 'profiles')]);
    const record = records.find((entry) => entry.heapwatch['event'] === 'heap-near-limit');
    assert.ok(record, 'the record');
    const files = await readdir(join(dir, 'profiles'));
    assert.equal(files.length, 1);
    assert.match(files[0] ?? '', /^heap-near-limit-\d+-\d+\.pb\.gz$/);
    assert.equal(record.heapwatch['profile'], join(dir, 'profiles', files[0] ?? ''));
    const profile = Profile.decode(gunzipSync(await readFile(join(dir, 'profiles', files[0] ?? ''))));
    const strings = profile.stringTable.strings;
    assert.ok(strings.includes('rememberOrder') || strings.includes('placeOrder'), 'the leaking function is in the profile');
    assert.ok(profile.sample.length > 0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a process that reaches the limit twice and survives both gets one record each time: the hook is armed again once V8 restored the limit', async () => {
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = execFile(process.execPath, ['--expose-gc', '--max-old-space-size=64', 'test/fixtures/heap-spikes.mjs'], { cwd: repoRoot, maxBuffer: 64 * 1024 * 1024, timeout: 180_000 }, (_error, out, err) => resolve({ code: child.exitCode, stdout: out, stderr: err }));
  });
  assert.equal(code, 0, stderr.slice(0, 2000));
  assert.match(stderr, /round 2 done/);
  const events = stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => (JSON.parse(line) as { heapwatch: { event: string } }).heapwatch.event);
  assert.equal(events.filter((event) => event === 'heap-near-limit').length, 2, events.join('\n'));
});

test('the hook is armed with the native reader only, and only when there is something to write', () => {
  const cases: Array<[Parameters<typeof createHeapMonitor>[0], RegExp | undefined]> = [
    [{ reader: 'native', logger: false, outOfMemoryProfileDir: tmpdir() }, undefined],
    [{ reader: 'inspector', logger: false, outOfMemoryProfileDir: tmpdir() }, /^the inspector sampler cannot reach V8's near-heap-limit hook: it needs the native reader$/],
    [{ reader: 'native', logger: false }, /^logger is false and no outOfMemoryProfileDir is set: nothing to write$/],
  ];
  for (const [options, unavailable] of cases) {
    const monitor = createHeapMonitor(options).start();
    try {
      if (unavailable === undefined) assert.equal(monitor.nearHeapLimitUnavailable, undefined, JSON.stringify(options));
      else assert.match(monitor.nearHeapLimitUnavailable ?? '', unavailable, JSON.stringify(options));
    } finally {
      monitor.stop();
    }
  }
});

test('outOfMemoryProfileDir must be a non-empty string', () => {
  for (const value of ['', '  ', 42, false]) {
    assert.throws(() => createHeapMonitor({ outOfMemoryProfileDir: value as never }), {
      code: ErrorCode.INVALID_OPTION,
      message: `Invalid option "outOfMemoryProfileDir": expected a directory path (a non-empty string), received ${typeof value === 'string' ? JSON.stringify(value) : String(value)}`,
    });
  }
});
