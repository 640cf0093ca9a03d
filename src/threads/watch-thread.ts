import { getHeapStatistics } from 'node:v8';
import * as workerThreads from 'node:worker_threads';
import { ErrorCode, HeapwatchError } from '../errors.js';
import { labelledSites } from '../export/labelled-sites.js';
import type { ExportedSite } from '../export/isolates.js';
import { HeapMonitor } from '../monitor/monitor.js';
import type { HeapMonitorOptions, ResolvedMonitorOptions } from '../monitor/options.js';
import { differingMonitorOption, MONITOR_OPTION_NAMES, resolveMonitorOptions } from '../monitor/options.js';
import { invalidOption } from '../options/validate.js';
import { PROTOCOL_VERSION, THREAD_CHANNEL } from './protocol.js';
import type { ThreadMessage } from './protocol.js';
import { forwardingLogger } from './thread-log.js';

/**
 * Options of {@link watchThread}: the monitor's, but the logger, `memoryNearLimitFraction` and
 * `unexplainedGrowthThresholdBytes` (the process's memory is the main thread's to watch), and the
 * thread's name.
 */
export interface WatchThreadOptions extends Omit<HeapMonitorOptions, 'logger' | 'memoryNearLimitFraction' | 'unexplainedGrowthThresholdBytes'> {
  /**
   * The thread's name in the `thread` label and in log records (1 to 64 characters). A second
   * live thread of the same name is labelled `name-2`, a third `name-3`. Default: the `name`
   * given to `new Worker()` (Node 22 and later), else `'worker'`.
   */
  readonly name?: string;
}

/** A worker thread watching its own heap. */
export interface ThreadWatch {
  /** The thread's monitor: its sites, suspects, stats and `leak-suspected` events. */
  readonly monitor: HeapMonitor;
  /** The name the thread reports under (the main thread may add a `-2` suffix, see `name`). */
  readonly name: string;
  /** Stops the monitor and the sampler; the thread's series leave the main thread's metrics. Idempotent. */
  stop(): void;
}

// The process's memory (against the container's limit, and what no site explains) is the main thread's to watch.
const PROCESS_OPTIONS: ReadonlySet<string> = new Set(['logger', 'memoryNearLimitFraction', 'unexplainedGrowthThresholdBytes']);
const OPTION_NAMES = [...MONITOR_OPTION_NAMES.filter((name) => !PROCESS_OPTIONS.has(name)), 'name'] as const;

function nameOption(value: unknown): string {
  if (value === undefined) {
    // `threadName` exists from Node 22; Node 24 names unnamed threads "WorkerThread".
    const given = (workerThreads as { threadName?: unknown }).threadName;
    return typeof given === 'string' && given !== '' && given !== 'WorkerThread' ? given.slice(0, 64) : 'worker';
  }
  if (typeof value !== 'string' || value.length === 0 || value.length > 64) throw invalidOption('name', 'a string of 1 to 64 characters', value);
  return value;
}

/** Posts on heapwatch's channel: a channel opened and closed per message never keeps the thread alive. */
function post(message: ThreadMessage): void {
  try {
    const channel = new workerThreads.BroadcastChannel(THREAD_CHANNEL);
    channel.postMessage(message);
    channel.close();
  } catch {
    // Reporting is best effort: the thread's own work never fails because of it.
  }
}

let current: { readonly watch: ThreadWatch; readonly options: ResolvedMonitorOptions } | undefined;

/**
 * Watches this worker thread's own heap: `watchThread()`, one line in the worker's code. A worker
 * thread is an isolate of its own, with its own heap and V8 sampler, which a monitor in the main
 * thread cannot see. This starts a monitor inside the thread and sends its figures and verdicts,
 * after every reading, to the main thread, whose `heapwatch()` serves them on `/metrics` and to
 * OpenTelemetry with a `thread` label, and writes its `leak-suspected` records through the main
 * thread's logger with the thread named. The thread's own traffic (`parentPort`) is untouched.
 *
 * Throws `HEAPWATCH_ERR_NOT_WORKER_THREAD` in the main thread (watched by `heapwatch()`), and for
 * bad options. Called again in the same thread with the same options, returns the same watch.
 */
export function watchThread(options?: WatchThreadOptions): ThreadWatch {
  if (workerThreads.isMainThread) {
    throw new HeapwatchError(
      ErrorCode.NOT_WORKER_THREAD,
      'watchThread() watches a worker thread from inside it: call it in the worker\'s code; the main thread is watched by heapwatch()',
    );
  }
  const given = (options ?? {}) as Record<string, unknown>;
  const resolved = resolveMonitorOptions(options, OPTION_NAMES);
  const name = nameOption(given['name']);
  if (current) {
    const differing = current.watch.name === name ? differingMonitorOption(current.options, resolved) : 'name';
    if (differing === undefined) return current.watch;
    throw new HeapwatchError(
      ErrorCode.MONITOR_CONFLICT,
      `watchThread() is already watching this thread with other options (they differ in "${differing}"): ` +
        `V8 has one sampler per thread; stop() the first watch before starting another`,
    );
  }
  const { threadId } = workerThreads;
  const envelope = { heapwatch: PROTOCOL_VERSION, threadId, name, intervalMs: resolved.intervalMs } as const;
  const monitorOptions: Record<string, unknown> = {};
  for (const option of MONITOR_OPTION_NAMES) if (option in given) monitorOptions[option] = given[option];
  const monitor = new HeapMonitor({
    ...(monitorOptions as HeapMonitorOptions),
    logger: forwardingLogger((line) => post({ ...envelope, type: 'log', line })),
  });

  const report = (): void => {
    const sites: ExportedSite[] = labelledSites(monitor).map(({ site, liveBytes, count, externalBytes, growthBytes, suspected, suspicions }) => ({
      site,
      liveBytes,
      count,
      externalBytes,
      growthBytes,
      suspected,
      suspicions,
    }));
    post({
      ...envelope,
      type: 'report',
      sites,
      suspects: monitor.suspects().length,
      stats: monitor.stats(),
      growthThresholdBytes: resolved.growthThresholdBytes,
      windowMs: resolved.windowMs,
      heapSizeLimitBytes: getHeapStatistics().heap_size_limit,
    });
  };
  const bye = (): void => post({ ...envelope, type: 'bye' });
  // Throws for a sampler conflict, before anything is registered. The first reading is a timer
  // away: the listener below is in place for it.
  monitor.start();
  monitor.on('reading', report);
  // A thread that ends (its work done, or process.exit() in it) says so; one that is terminated
  // cannot, and the main thread sees its `exit` event instead.
  process.once('exit', bye);

  const watch: ThreadWatch = {
    monitor,
    name,
    stop(): void {
      if (current?.watch !== watch) return;
      current = undefined;
      monitor.off('reading', report);
      process.off('exit', bye);
      monitor.stop();
      bye();
    },
  };
  current = { watch, options: resolved };
  return watch;
}
