import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatSize } from '../../src/format/size.js';

test('formats sizes exactly as tracemalloc does', () => {
  // Expected strings computed with CPython's tracemalloc._format_size (which goes on to TiB;
  // heapwatch stops at GiB).
  const cases: Array<[number, boolean, string]> = [
    [0, false, '0 B'],
    [120, false, '120 B'],
    [10239, false, '10239 B'],
    [10240, false, '10.0 KiB'],
    [2392 * 1024, false, '2392 KiB'],
    [10 * 1024 * 1024 - 1, false, '10240 KiB'],
    [1258291, false, '1229 KiB'],
    [12 * 1024 * 1024, false, '12.0 MiB'],
    [150 * 1024 * 1024, false, '150 MiB'],
    [3 * 1024 ** 3, false, '3072 MiB'],
    [12 * 1024 ** 3, false, '12.0 GiB'],
    [20000 * 1024 ** 3, false, '20000 GiB'],
  ];
  for (const [bytes, signed, expected] of cases) assert.equal(formatSize(bytes, signed), expected, `${bytes}`);
});

test('puts a sign on differences, positive and negative', () => {
  assert.equal(formatSize(2392 * 1024, true), '+2392 KiB');
  assert.equal(formatSize(-2392 * 1024, true), '-2392 KiB');
  assert.equal(formatSize(0, true), '+0 B');
  assert.equal(formatSize(-120, true), '-120 B');
  assert.equal(formatSize(-1.5 * 1024 * 1024, true), '-1536 KiB');
});
