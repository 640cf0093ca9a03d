// Another process's CPU time read from /proc (Linux), without waking it: a process at rest is
// measured without being disturbed, which asking it over IPC would not do.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** USER_HZ, the unit of utime and stime in /proc/<pid>/stat (100 on Linux). */
const TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' })) || 100;
  } catch {
    return 100;
  }
})();

/**
 * The CPU time of a process (ns), from two sources:
 * - `ns`: the sum over its live threads of `/proc/<pid>/task/<tid>/schedstat`'s first field (time
 *   on a CPU, nanoseconds), precise enough for a process that uses 0.1 ms a second, but blind to
 *   the time of threads that have exited between two readings (`threads` tells when the count
 *   changed);
 * - `statNs`: utime + stime of `/proc/<pid>/stat`, which keeps exited threads but counts in clock
 *   ticks (10 ms): the check on the first.
 */
export function procCpu(pid) {
  let ns = 0;
  let threads = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      threads++;
    } catch {
      // The thread exited between the listing and the read.
    }
  }
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const statNs = ((Number(fields[11]) + Number(fields[12])) * 1e9) / TICKS_PER_SECOND;
  return { ns, threads, statNs };
}

/** Whether /proc/<pid>/task/<tid>/schedstat can be read here (Linux with scheduler statistics). */
export function procCpuAvailable() {
  try {
    procCpu(process.pid);
    return true;
  } catch {
    return false;
  }
}

/**
 * CPU time per kind of thread (ns, from /proc/self/task/<tid>/schedstat and comm): the main
 * thread, V8's workers (concurrent marking and sweeping, compilation), and the rest (libuv's
 * pool, the inspector's), so that a difference in CPU per request can be placed.
 */
export function threadCpu() {
  const kinds = { main: 0, v8Workers: 0, other: 0 };
  try {
    for (const tid of readdirSync('/proc/self/task')) {
      try {
        const ns = Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
        const comm = readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim();
        const kind = Number(tid) === process.pid ? 'main' : /V8Worker|V8 DefaultWorke/.test(comm) ? 'v8Workers' : 'other';
        kinds[kind] += ns;
      } catch {
        // The thread exited between the listing and the read.
      }
    }
  } catch {
    return undefined; // no /proc: not Linux
  }
  return kinds;
}
