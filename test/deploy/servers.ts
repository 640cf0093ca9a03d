import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { repoRoot } from '../helpers.js';

/** A server started for a test, on loopback: its base URL, what it printed, and how to stop it. */
export interface RunningServer {
  readonly url: string;
  output(): string;
  stop(): Promise<void>;
}

interface Hooks {
  after(fn: () => unknown): void;
}

/** A TCP port free on 127.0.0.1 now (the OS picks it; the server is started on it right after). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A temporary directory, removed after the test. */
export function temporaryDirectory(t: Hooks, prefix: string): string {
  const path = mkdtempSync(`${tmpdir()}/${prefix}-`);
  t.after(() => rmSync(path, { recursive: true, force: true }));
  return path;
}

function track(t: Hooks, child: ChildProcess, url: string): RunningServer {
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    // A server that ignores SIGTERM for 10 s is killed.
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  t.after(stop);
  return { url, output: () => output, stop };
}

/**
 * Starts `command args…` and waits until `GET url + readyPath` answers 200 (Prometheus and
 * Alertmanager: /-/ready), at most `timeoutMs`.
 */
export async function startServer(t: Hooks, command: string, args: string[], url: string, readyPath: string, timeoutMs = 60_000): Promise<RunningServer> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const server = track(t, child, url);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${command} exited with ${child.exitCode}:\n${server.output()}`);
    const ready = await fetch(`${url}${readyPath}`).then((response) => response.ok, () => false);
    if (ready) return server;
    if (Date.now() > deadline) throw new Error(`${command} not ready at ${url}${readyPath} after ${timeoutMs} ms:\n${server.output()}`);
    await sleep(250);
  }
}

/**
 * Starts the demo service (deploy/demo/server.mjs) on a port of its choosing on 127.0.0.1 and
 * resolves with its URL once it serves; in the memory cgroup of `cgroupProcsFile` when given.
 */
export async function startDemo(t: Hooks, env: NodeJS.ProcessEnv = {}, cgroupProcsFile?: string): Promise<RunningServer> {
  // In a cgroup, the shell moves itself there and becomes the demo: the pid tracked is the demo's.
  const command = cgroupProcsFile === undefined ? [process.execPath, 'deploy/demo/server.mjs'] : ['sh', '-c', `echo $$ > ${cgroupProcsFile} && exec "${process.execPath}" deploy/demo/server.mjs`];
  const child = spawn(command[0] as string, command.slice(1), {
    cwd: repoRoot,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const serving = /serving on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr);
      if (serving) resolve(serving[1] as string);
    });
    child.once('exit', (code) => reject(new Error(`the demo exited with ${code}:\n${stderr}`)));
  });
  return track(t, child, url);
}

/** The path of a file of the repository. */
export const inRepo = (path: string): string => `${repoRoot}/${path}`;
