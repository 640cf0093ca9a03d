import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { containerMemoryLimitBytes, memoryCgroup } from '../../src/monitor/container-limit.js';

const MiB = 1024 * 1024;
/** What cgroup v1 writes for "no limit" on a 4 KiB page: LONG_MAX rounded down to a page. */
const V1_UNLIMITED = '9223372036854771712';

const scratch = mkdtempSync(join(tmpdir(), 'heapwatch-cgroup-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

let trees = 0;
/** A /proc/self/cgroup and a /sys/fs/cgroup of their own: files as the kernel lays them out. */
function host(procSelfCgroup: string, files: Record<string, string>): { procSelfCgroup: string; cgroupRoot: string } {
  const dir = join(scratch, String(trees++));
  const cgroupRoot = join(dir, 'sys/fs/cgroup');
  mkdirSync(cgroupRoot, { recursive: true });
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(cgroupRoot, path)), { recursive: true });
    writeFileSync(join(cgroupRoot, path), `${text}\n`);
  }
  writeFileSync(join(dir, 'cgroup'), procSelfCgroup);
  return { procSelfCgroup: join(dir, 'cgroup'), cgroupRoot };
}

const V2_POD = '0::/kubepods.slice/kubepods-burstable.slice/pod1.slice/cri-containerd-abc.scope\n';
const V1_HYBRID = '12:pids:/\n4:memory:/process_api/af7b\n1:name=systemd:/\n0::/\n';

test('cgroup v2: the memory.max of the process cgroup, or of a cgroup above it when that one is smaller', () => {
  const pod = '/kubepods.slice/kubepods-burstable.slice/pod1.slice';
  assert.equal(containerMemoryLimitBytes(host(V2_POD, { [`${pod}/cri-containerd-abc.scope/memory.max`]: String(300 * MiB), [`${pod}/memory.max`]: String(512 * MiB) })), 300 * MiB);
  assert.equal(containerMemoryLimitBytes(host(V2_POD, { [`${pod}/cri-containerd-abc.scope/memory.max`]: 'max', [`${pod}/memory.max`]: String(256 * MiB) })), 256 * MiB);
  // memory.high throttles, it does not kill: not the limit.
  assert.equal(containerMemoryLimitBytes(host(V2_POD, { [`${pod}/cri-containerd-abc.scope/memory.max`]: String(300 * MiB), [`${pod}/cri-containerd-abc.scope/memory.high`]: String(270 * MiB) })), 300 * MiB);
});

test("a container with its own cgroup namespace sees its cgroup as the root: the mount's own memory.max", () => {
  assert.equal(containerMemoryLimitBytes(host('0::/\n', { 'memory.max': String(300 * MiB) })), 300 * MiB);
  // A v1 container whose mount root is its own cgroup: the path the process sees is not under it.
  assert.equal(containerMemoryLimitBytes(host('4:memory:/docker/abc\n', { 'memory/memory.limit_in_bytes': String(300 * MiB) })), 300 * MiB);
});

test('cgroup v1 (a hybrid host keeps the memory controller there): memory.limit_in_bytes, not the soft limit', () => {
  const files = {
    'memory/process_api/af7b/memory.limit_in_bytes': String(300 * MiB),
    'memory/process_api/af7b/memory.soft_limit_in_bytes': String(100 * MiB),
    'memory/process_api/memory.limit_in_bytes': V1_UNLIMITED,
    'memory/memory.limit_in_bytes': V1_UNLIMITED,
  };
  assert.equal(containerMemoryLimitBytes(host(V1_HYBRID, files)), 300 * MiB);
  assert.deepEqual(memoryCgroup(V1_HYBRID), { version: 1, path: '/process_api/af7b' });
});

test('no limit: "max", the v1 maximum, a limit no smaller than the machine, nothing readable, or a cgroup outside the namespace', () => {
  assert.equal(containerMemoryLimitBytes(host(V2_POD, {})), undefined);
  assert.equal(containerMemoryLimitBytes(host('0::/\n', { 'memory.max': 'max' })), undefined);
  assert.equal(containerMemoryLimitBytes(host(V1_HYBRID, { 'memory/process_api/af7b/memory.limit_in_bytes': V1_UNLIMITED })), undefined);
  assert.equal(containerMemoryLimitBytes(host('0::/\n', { 'memory.max': String(totalmem()) })), undefined);
  assert.equal(containerMemoryLimitBytes(host('0::/\n', { 'memory.max': 'garbage' })), undefined);
  assert.equal(containerMemoryLimitBytes(host('0::/../../outside\n', { 'memory.max': String(300 * MiB) })), undefined);
  assert.equal(containerMemoryLimitBytes({ procSelfCgroup: join(scratch, 'missing'), cgroupRoot: scratch }), undefined);
});

test('on this machine it reads without throwing: no limit, or a whole number of bytes below the machine memory', () => {
  const limit = containerMemoryLimitBytes();
  if (limit !== undefined) assert.ok(Number.isSafeInteger(limit) && limit > 0 && limit < totalmem(), String(limit));
});
