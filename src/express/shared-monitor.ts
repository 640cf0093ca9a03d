import { isMainThread } from 'node:worker_threads';
import type { MeterProvider } from '@opentelemetry/api';
import type { Registry } from 'prom-client';
import { ErrorCode, HeapwatchError } from '../errors.js';
import { registerDefaultMetrics } from '../export/default-metrics.js';
import { observeWithOpenTelemetry } from '../export/otel.js';
import { followGlobalMeterProvider } from '../export/otel-global.js';
import { registerPrometheusMetrics } from '../export/prometheus.js';
import { HeapMonitor } from '../monitor/monitor.js';
import { ThreadHub } from '../threads/thread-hub.js';
import type { HeapMonitorOptions, ResolvedMonitorOptions } from '../monitor/options.js';
import { differingMonitorOption } from '../monitor/options.js';

/** Where the figures of one heapwatch() call go. */
export interface ExportTargets {
  readonly registry: Registry;
  readonly defaultMetrics: boolean;
  /** undefined: the global MeterProvider, followed as SDKs register. */
  readonly meterProvider: MeterProvider | undefined;
  /** Hash function names and file paths in the labels (see `redactSites`). */
  readonly redactSites: boolean;
}

/** One heapwatch() call's share of the process-wide monitor; `release()` is idempotent. */
export interface MonitorLease {
  readonly monitor: HeapMonitor;
  release(): void;
}

/** A registration shared by every lease that asked for the same registry or MeterProvider. */
interface Shared {
  leases: number;
  readonly undo: () => void;
}

interface Running {
  readonly monitor: HeapMonitor;
  /** In the main thread: the figures of worker threads that watch themselves (`watchThread()`). */
  readonly threads: ThreadHub | undefined;
  leases: number;
  readonly registries: Map<Registry, Shared>;
  readonly meterProviders: Map<MeterProvider | undefined, Shared>;
}

/**
 * V8 has one sampler per isolate, so a process has one heapwatch monitor: the first heapwatch()
 * starts it, later calls with the same monitor options share it (two Express apps in one process,
 * or one app per test), and it stops when the last of them is stopped.
 */
let running: Running | undefined;

function share<K>(map: Map<K, Shared>, key: K, register: () => () => void): void {
  const existing = map.get(key);
  if (existing) {
    existing.leases++;
    return;
  }
  map.set(key, { leases: 1, undo: register() });
}

function unshare<K>(map: Map<K, Shared>, key: K): void {
  const existing = map.get(key);
  if (!existing || --existing.leases > 0) return;
  map.delete(key);
  existing.undo();
}

function startMonitor(given: HeapMonitorOptions, options: ResolvedMonitorOptions): Running {
  if (running) {
    const differing = differingMonitorOption(running.monitor.options, options);
    if (differing) {
      throw new HeapwatchError(
        ErrorCode.MONITOR_CONFLICT,
        `heapwatch() is already running in this process with other monitor options (they differ in "${differing}"): ` +
          `V8 has one sampler per process, so every heapwatch() must pass the same monitor options, or stop() the first one`,
      );
    }
    return running;
  }
  const monitor = new HeapMonitor(given).start();
  // Only the main thread gathers the threads' figures: a worker thread that serves its own
  // heapwatch() (Express in a worker) shows its own heap only.
  const threads = isMainThread ? new ThreadHub(monitor.options.logger).start() : undefined;
  return (running = { monitor, threads, leases: 0, registries: new Map(), meterProviders: new Map() });
}

/**
 * Takes a share of the process-wide monitor (starting it if needed) and registers its metrics on
 * `targets` (once per registry and per MeterProvider). Throws at once, before any request is
 * served, when the options conflict with the running monitor or a registry refuses the metrics.
 */
export function acquireMonitor(given: HeapMonitorOptions, options: ResolvedMonitorOptions, targets: ExportTargets): MonitorLease {
  const current = startMonitor(given, options);
  const { monitor, threads } = current;
  current.leases++;
  const dropLease = (): void => {
    if (--current.leases > 0) return;
    monitor.stop();
    threads?.stop();
    if (running === current) running = undefined;
  };
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    unshare(current.registries, targets.registry);
    unshare(current.meterProviders, targets.meterProvider);
    dropLease();
  };
  let registryShared = false;
  try {
    share(current.registries, targets.registry, () => {
      const unregister = registerPrometheusMetrics(monitor, targets.registry, threads, { redactSites: targets.redactSites });
      const unregisterDefaults = targets.defaultMetrics ? registerDefaultMetrics(targets.registry) : () => {};
      return () => {
        unregisterDefaults();
        unregister();
      };
    });
    registryShared = true;
    const { meterProvider } = targets;
    const labels = { redactSites: targets.redactSites };
    share(current.meterProviders, meterProvider, () =>
      meterProvider ? observeWithOpenTelemetry(monitor, meterProvider, threads, labels) : followGlobalMeterProvider(monitor, threads, labels),
    );
  } catch (error) {
    // Undo this lease's part (a share that threw was not counted), then the lease itself.
    if (registryShared) unshare(current.registries, targets.registry);
    released = true;
    dropLease();
    throw error;
  }
  return { monitor, release };
}
