// The memory limit of the control group the process runs in: where the kernel's OOM killer ends
// it with SIGKILL, before V8's heap limit is near when the memory is outside the heap.
import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { posix } from 'node:path';

/**
 * Where the limit is read: the process's cgroup list, and the mount point of the hierarchies.
 * Tests point them at a directory of their own; heapwatch reads the real ones.
 */
export interface CgroupPaths {
  readonly procSelfCgroup: string;
  readonly cgroupRoot: string;
}

const SYSTEM: CgroupPaths = { procSelfCgroup: '/proc/self/cgroup', cgroupRoot: '/sys/fs/cgroup' };

/** At or above this a limit file means "none": cgroup v1 writes LONG_MAX rounded to a page. */
const NO_LIMIT_FROM = 2 ** 62;

/**
 * The container's memory limit (bytes), or undefined when there is none, none that binds (at or
 * above the machine's memory) or none that can be read (not Linux, an unusual mount).
 * Never throws: a failure to read is no limit.
 *
 * Read here rather than with `process.constrainedMemory()`, whose libuv returns the smaller of the
 * kill limit and the throttling one (cgroup v2 `memory.high`, v1's soft limit; Kubernetes' MemoryQoS
 * sets `memory.high` to 0.9 of the limit), reads the process's own cgroup only, and from libuv 1.53
 * on also takes RLIMIT_AS and RLIMIT_DATA, limits of address space that RSS is no measure against.
 * The OOM killer acts at `memory.max` (v2) or `memory.limit_in_bytes` (v1) of the process's cgroup
 * or of any cgroup above it, so the smallest of those visible is the limit.
 */
export function containerMemoryLimitBytes(paths: CgroupPaths = SYSTEM): number | undefined {
  try {
    const cgroup = memoryCgroup(readFileSync(paths.procSelfCgroup, 'utf8'));
    if (cgroup === undefined) return undefined;
    const mount = cgroup.version === 1 ? posix.join(paths.cgroupRoot, 'memory') : paths.cgroupRoot;
    const file = cgroup.version === 1 ? 'memory.limit_in_bytes' : 'memory.max';
    let smallest: number | undefined;
    // From the process's cgroup up to the mount's root: in a container with its own cgroup
    // namespace, or a v1 container whose mount root is its own cgroup, only the root exists.
    for (let dir = cgroup.path; ; dir = posix.dirname(dir)) {
      const limit = readLimit(posix.join(mount, dir, file));
      if (limit !== undefined && (smallest === undefined || limit < smallest)) smallest = limit;
      if (dir === '/') break;
    }
    return smallest !== undefined && smallest < totalmem() ? smallest : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The cgroup that holds the process's memory, from `/proc/self/cgroup`: the v1 hierarchy with the
 * `memory` controller when there is one (a hybrid host keeps it there), else the v2 hierarchy's
 * (`0::/path`). A path that leaves the namespace's view (`/../x`) cannot be read.
 */
export function memoryCgroup(procSelfCgroup: string): { version: 1 | 2; path: string } | undefined {
  let unified: string | undefined;
  for (const line of procSelfCgroup.split('\n')) {
    const [id, controllers, ...rest] = line.split(':');
    const path = rest.join(':');
    if (id === undefined || controllers === undefined || !path.startsWith('/') || path.split('/').includes('..')) continue;
    if (controllers.split(',').includes('memory')) return { version: 1, path };
    if (id === '0' && controllers === '') unified = path;
  }
  return unified === undefined ? undefined : { version: 2, path: unified };
}

/** A limit file's value in bytes; undefined for none (`max`, a huge value) or a missing file. */
function readLimit(file: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
  const bytes = Number(text);
  return /^\d+$/.test(text) && bytes > 0 && bytes < NO_LIMIT_FROM ? bytes : undefined;
}
