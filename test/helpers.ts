import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type { SamplingHeapProfile } from '../src/v8/inspector-reader.js';
import type { ProfileNode } from '../src/v8/profile.js';

/** The repository root; tests are compiled into .test-build/test/. */
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url)).replace(/\/$/, '');

function readRecording(name: string): unknown {
  const text = readFileSync(`${repoRoot}/test/fixtures/profiles/${name}`, 'utf8')
    .replaceAll('file://<root>', pathToFileURL(repoRoot).href)
    .replaceAll('<root>', repoRoot);
  return JSON.parse(text);
}

interface Memory {
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

/** A profile recorded from @datadog/pprof by test/fixtures/record-profiles.mjs. */
export function recordedNative(name: 'before' | 'after'): { root: ProfileNode; samplingIntervalBytes: number; memory: Memory } {
  return readRecording(`native-${name}.json`) as { root: ProfileNode; samplingIntervalBytes: number; memory: Memory };
}

/** A DevTools protocol profile recorded from node:inspector by test/fixtures/record-profiles.mjs. */
export function recordedInspector(name: 'before' | 'after'): {
  profile: SamplingHeapProfile;
  samplingIntervalBytes: number;
  memory: Memory;
} {
  return readRecording(`inspector-${name}.json`) as { profile: SamplingHeapProfile; samplingIntervalBytes: number; memory: Memory };
}

/** Path of the recorded workload, as frames name it. */
export const workloadFile = `${repoRoot}/test/fixtures/workload.mjs`;

/** Runs `node args…` in the repository root and returns its standard output. */
export async function runNode(args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, args, {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout;
}

/**
 * Whether the command-line tool `name` (promtool, go) is installed. Tests that need one skip
 * without it on a developer's machine, but CI sets HEAPWATCH_REQUIRE_TOOLS=1, under which a
 * missing tool fails the test instead of hiding it.
 */
export async function toolAvailable(t: { skip(message: string): void }, name: string, args: string[] = ['--version']): Promise<boolean> {
  try {
    await promisify(execFile)(name, args);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return true;
    if (process.env['HEAPWATCH_REQUIRE_TOOLS'] === '1') throw new Error(`${name} is not installed, and HEAPWATCH_REQUIRE_TOOLS=1`);
    t.skip(`${name} not installed; HEAPWATCH_REQUIRE_TOOLS=1 makes this a failure`);
    return false;
  }
}

/**
 * Resolves with the monitor's `reading` events, after `count` of them. The monitor's timers are
 * unref'd (they never keep a process up), so this keeps the process up while it waits.
 */
export async function nextReadings<T>(monitor: { once(event: 'reading', listener: (timing: T) => void): unknown }, count = 1): Promise<T[]> {
  const keepAlive = setInterval(() => {}, 1000);
  try {
    const timings: T[] = [];
    for (let i = 0; i < count; i++) timings.push(await new Promise<T>((resolve) => monitor.once('reading', resolve)));
    return timings;
  } finally {
    clearInterval(keepAlive);
  }
}

/** `promtool check metrics` on a page: its exit code and what it printed (empty when the page is clean). */
export function promtoolCheck(page: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = execFile('promtool', ['check', 'metrics'], (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, output: `${stdout}${stderr}` });
    });
    child.stdin?.end(page);
  });
}

/** Listens on an ephemeral loopback port; `close()` ends the server and its kept-alive sockets. */
export async function listen(handler: RequestListener): Promise<{ base: string; close(): void }> {
  const server = createServer(handler).listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close() {
      server.closeAllConnections();
      server.close();
    },
  };
}

/** The series of `metric` on a Prometheus page, each as its label map and value. */
export function pageSeries(page: string, metric: string): Array<{ labels: Record<string, string>; value: number }> {
  return page
    .split('\n')
    .filter((line) => line.startsWith(`${metric}{`) || line.startsWith(`${metric} `))
    .map((line) => ({
      labels: Object.fromEntries([...line.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1] as string, m[2] as string])),
      value: Number(line.slice(line.lastIndexOf(' ') + 1)),
    }));
}

/** What `allocateWhile` keeps for a moment, so that no compiler drops it. */
const allocated: unknown[][] = [];

/**
 * Allocates ~40 MB/s of short-lived arrays, between turns of the event loop, while `condition()`
 * holds (at most `limitMs`): a process a forced GC may run in (see src/monitor/allocation-gate.ts).
 */
export async function allocateWhile(condition: () => boolean, limitMs = 20_000): Promise<void> {
  const end = Date.now() + limitMs;
  while (condition() && Date.now() < end) {
    allocated[0] = Array.from({ length: 1_000 }, (_, i) => [i, String(i)]);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  allocated.length = 0;
}
