// A real memory cgroup for a test's child process: the kernel enforces its limit, and its OOM
// killer ends the child with SIGKILL. Creating one needs root and a writable cgroup hierarchy;
// where there is none, the test skips and says why.
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface MemoryCgroup {
  readonly version: 1 | 2;
  readonly dir: string;
  /** The file a process writes its pid to to move itself in (`sh -c 'echo $$ > … && exec …'`). */
  readonly procsFile: string;
  /** Processes the kernel's OOM killer ended in this cgroup; undefined when the kernel does not say. */
  oomKills(): number | undefined;
  /** Removes the cgroup once its processes have ended. */
  remove(): Promise<void>;
}

const V1_MEMORY = '/sys/fs/cgroup/memory';
const V2_ROOT = '/sys/fs/cgroup';

/** A memory cgroup limited to `limitBytes`, or the reason none can be made here. */
export function createMemoryCgroup(name: string, limitBytes: number): MemoryCgroup | string {
  if (process.platform !== 'linux') return 'memory cgroups are Linux only';
  if (process.getuid?.() !== 0) return 'creating a memory cgroup needs root';
  const v1 = existsSync(join(V1_MEMORY, 'memory.limit_in_bytes'));
  const v2 = !v1 && readIfExists(join(V2_ROOT, 'cgroup.subtree_control'))?.split(/\s+/).includes('memory') === true;
  if (!v1 && !v2) return `no writable memory controller: neither ${V1_MEMORY} (cgroup v1) nor memory in ${V2_ROOT}/cgroup.subtree_control (v2)`;
  const dir = join(v1 ? V1_MEMORY : V2_ROOT, name);
  try {
    mkdirSync(dir);
    if (v1) {
      writeFileSync(join(dir, 'memory.limit_in_bytes'), String(limitBytes));
      // With swap accounting, swap counts too: the child is killed at the limit, not swapped out.
      if (existsSync(join(dir, 'memory.memsw.limit_in_bytes'))) writeFileSync(join(dir, 'memory.memsw.limit_in_bytes'), String(limitBytes));
    } else {
      writeFileSync(join(dir, 'memory.max'), String(limitBytes));
      if (existsSync(join(dir, 'memory.swap.max'))) writeFileSync(join(dir, 'memory.swap.max'), '0');
    }
  } catch (error) {
    try {
      rmdirSync(dir);
    } catch {
      // never made
    }
    return `cannot create the memory cgroup ${dir}: ${(error as Error).message}`;
  }
  return {
    version: v1 ? 1 : 2,
    dir,
    procsFile: join(dir, 'cgroup.procs'),
    oomKills() {
      const events = readIfExists(join(dir, v1 ? 'memory.oom_control' : 'memory.events')) ?? '';
      const count = /^oom_kill (\d+)$/m.exec(events)?.[1];
      return count === undefined ? undefined : Number(count);
    },
    async remove() {
      // A killed process leaves its cgroup a moment after its parent saw it exit.
      for (let attempt = 0; ; attempt++) {
        try {
          rmdirSync(dir);
          return;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
          if (attempt >= 50) throw error;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    },
  };
}

function readIfExists(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
