import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { pino } from 'pino';
import { LeakLog } from '../../src/log/leak-log.js';
import type { SiteReport } from '../../src/log/site-report.js';
import { Traceback } from '../../src/snapshot/traceback.js';

const MiB = 1024 * 1024;

function recordsOf(write: (log: LeakLog) => void): Array<{ msg: string; heapwatch: Record<string, unknown> }> {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  write(new LeakLog(pino(stream)));
  return lines.map((line) => JSON.parse(line) as { msg: string; heapwatch: Record<string, unknown> });
}

function report(functionName: string, file: string, externalBytes: number): SiteReport {
  const site = { functionName, file, line: 3, column: 1 };
  return {
    key: `${file}:3:1:${functionName}`,
    site,
    traceback: new Traceback([site]),
    liveBytes: 1 * MiB,
    count: 10_000,
    externalBytes,
    externalNoiseBytes: externalBytes / 4,
    growthBytes: 40 * MiB,
    horizonMs: 40_000,
    suspected: true,
    suspectedSince: 0,
  };
}

test("a leak-suspected record keeps a site's Buffers outside V8's heap apart from its live bytes, with their noise", () => {
  const [record] = recordsOf((log) => log.suspected(report('queueBody', '/srv/app.js', 48 * MiB), [], 3_600_000));
  assert.ok(record);
  assert.equal(record.heapwatch['liveBytes'], 1 * MiB);
  assert.equal(record.heapwatch['externalBytes'], 48 * MiB);
  assert.equal(record.heapwatch['externalNoiseBytes'], 12 * MiB);
  assert.equal(record.heapwatch['siteNote'], undefined);
  assert.match(record.msg, /1024 KiB live on V8's heap, plus 48(\.0)? MiB of Buffers outside it \(±12(\.0)? MiB\)/);
});

test("a site in Node's own code says that the function keeping its objects is not on their allocation stack", () => {
  const [record] = recordsOf((log) => log.suspected(report('onStreamRead', 'node:internal/stream_base_commons', 48 * MiB), [], 3_600_000));
  assert.ok(record);
  assert.match(String(record.heapwatch['siteNote']), /the function that keeps these objects is not on the stack that allocated them/);
  assert.match(record.msg, /not on the stack that allocated them/);
});

test('the native site says the same: a request body\'s chunks are made by Node\'s parser in C++', () => {
  const [record] = recordsOf((log) => log.suspected(report('(native)', '', 48 * MiB), [], 3_600_000));
  assert.ok(record);
  assert.match(String(record.heapwatch['siteNote']), /made by Node's parser in C\+\+/);
});

test('a site holding no Buffers has a record as before, with externalBytes 0', () => {
  const [record] = recordsOf((log) => log.suspected(report('cache', '/srv/app.js', 0), [], 3_600_000));
  assert.ok(record);
  assert.equal(record.heapwatch['externalBytes'], 0);
  assert.doesNotMatch(record.msg, /outside/);
});
