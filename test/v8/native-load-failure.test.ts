import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { repoRoot } from '../helpers.js';

const PRELOAD = './test/fixtures/broken-pprof/preload.cjs';

/** Runs the child app with a `@datadog/pprof` that throws when loaded; resolves once it printed `line`'s key. */
async function startChild(reader: 'auto' | 'native') {
  const child = spawn(process.execPath, ['--require', PRELOAD, 'test/fixtures/native-load-child.mjs', reader], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = once(child, 'exit');
  while (!/(port|error)=(\S+)/.test(stdout) && child.exitCode === null) await Promise.race([once(child.stdout, 'data'), exited]);
  return { child, exited, output: () => ({ stdout, stderr }) };
}

test('@datadog/pprof that throws when loaded: heapwatch reads through the inspector, warns once with HEAPWATCH_W_NATIVE_UNAVAILABLE, and the app serves every request', async (t) => {
  const { child, exited, output } = await startChild('auto');
  t.after(() => child.kill('SIGKILL'));
  const port = /port=(\d+)/.exec(output().stdout)?.[1];
  assert.ok(port, `the app started (stderr: ${output().stderr})`);
  const base = `http://127.0.0.1:${port}`;
  // Requests throughout: while heapwatch starts, reads, and keeps reading.
  const statuses: number[] = [];
  for (let i = 0; i < 30; i++) {
    statuses.push((await fetch(`${base}/hello`)).status);
    await sleep(20);
  }
  assert.deepEqual([...new Set(statuses)], [200], 'every request was served');
  // Readings come every 100 ms; a loaded machine may delay the first ones.
  let state = { reader: '', readings: 0, readingErrors: -1 };
  for (let i = 0; i < 200 && state.readings < 3; i++) {
    state = (await (await fetch(`${base}/state`)).json()) as typeof state;
    if (state.readings < 3) await sleep(50);
  }
  assert.equal(state.reader, 'inspector', 'the inspector reader took over');
  assert.ok(state.readings >= 3, 'readings are taken');
  assert.equal(state.readingErrors, 0, 'none of them failed');
  const page = await (await fetch(`${base}/metrics`)).text();
  assert.match(page, /^heapwatch_snapshot_errors_total 0$/m);
  child.kill('SIGTERM');
  const [code] = (await exited) as [number | null];
  assert.equal(code, 0, 'the app exited on its own after SIGTERM');
  const warnings = output().stderr.match(/\[HEAPWATCH_W_NATIVE_UNAVAILABLE\][^\n]*/g) ?? [];
  assert.equal(warnings.length, 1, `warned once (stderr: ${output().stderr})`);
  assert.match(warnings[0] ?? '', /No native build was found/, 'the warning says why the module did not load');
  assert.doesNotMatch(output().stderr, /HEAPWATCH_W_(?!NATIVE_UNAVAILABLE)|Error:|Uncaught/, 'nothing else went wrong');
});

test("@datadog/pprof that throws when loaded, with reader: 'native': heapwatch() refuses at once with HEAPWATCH_ERR_NATIVE_UNAVAILABLE", async () => {
  const { exited, output } = await startChild('native');
  const [code] = (await exited) as [number | null];
  assert.equal(code, 0);
  assert.match(output().stdout, /^error=HEAPWATCH_ERR_NATIVE_UNAVAILABLE$/m);
});
