import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { repoRoot } from '../helpers.js';

const run = promisify(execFile);

async function sessionsOf(reader: string): Promise<{ connects: number; readings: number }> {
  const { stdout } = await run(process.execPath, [`${repoRoot}/test/fixtures/inspector-sessions.mjs`, reader], { cwd: repoRoot });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as { connects: number; readings: number };
}

// A process that ever connected an inspector session gets V8's memory-reducing major GCs each
// time it rests, its young generation given back and regrown over hundreds of scavenges: 10–18 %
// more CPU per request at partial load, measured across processes (BENCHMARKS §1). heapwatch's
// defaults must connect none: not to ask whether another tool runs V8's sampler, not to read.
test('app.use(heapwatch()) connects no inspector session while it starts, reads and serves', async () => {
  const { connects, readings } = await sessionsOf('auto');
  assert.ok(readings >= 3, `expected the monitor to have read at least 3 times in 0.4 s at a 50 ms interval, read ${readings} times`);
  assert.equal(connects, 0, `expected no inspector session, heapwatch connected ${connects}`);
});

test('the inspector reader, which reads through sessions, is seen connecting them (the count above can fail)', async () => {
  const { connects, readings } = await sessionsOf('inspector');
  assert.ok(readings >= 3, `read ${readings} times`);
  assert.ok(connects >= 1, `expected the inspector reader to connect a session, counted ${connects}`);
});
