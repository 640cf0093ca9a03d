import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReadingPace } from '../../src/monitor/reading-pace.js';

test('readings come every intervalMs while each stays within the reading budget', () => {
  const pace = new ReadingPace(10_000, 100);
  assert.equal(pace.readingIntervalMs, 10_000);
  pace.record(99);
  assert.equal(pace.readingIntervalMs, 10_000);
  assert.equal(pace.slowed, false);
});

test('a reading beyond the budget spaces the next ones to 1 % of the main thread, until readings are fast again', () => {
  const pace = new ReadingPace(10_000, 100);
  pace.record(1_100);
  assert.equal(pace.readingIntervalMs, 110_000, 'a 1.1 s reading: one every 110 s');
  assert.equal(pace.slowed, true);
  pace.record(150);
  assert.equal(pace.readingIntervalMs, 15_000);
  pace.record(50);
  assert.equal(pace.readingIntervalMs, 10_000);
});

test('a reading beyond the budget that already fits 1 % of the interval changes nothing', () => {
  const pace = new ReadingPace(60_000, 100);
  pace.record(400);
  assert.equal(pace.readingIntervalMs, 60_000);
  assert.equal(pace.slowed, false);
});

test('says once, with a code, that readings are spaced out', () => {
  const warnings: Array<{ code: string | undefined; message: string }> = [];
  const onWarning = (warning: Error & { code?: string }): void => void warnings.push({ code: warning.code, message: warning.message });
  process.on('warning', onWarning);
  const pace = new ReadingPace(10_000, 100);
  pace.record(1_100);
  pace.record(2_000);
  return new Promise<void>((resolve) =>
    setImmediate(() => {
      process.off('warning', onWarning);
      const ours = warnings.filter((warning) => warning.code === 'HEAPWATCH_W_READING_SLOW');
      assert.equal(ours.length, 1);
      assert.match(ours[0]?.message ?? '', /1100 ms.*readingBudgetMs \(100\).*110 s apart/);
      resolve();
    }),
  );
});
