import { collectDefaultMetrics, Registry } from 'prom-client';
import type { Metric } from 'prom-client';

/**
 * prom-client's default gauges that `promtool check metrics` rejects ("non-counter metrics should
 * not have _total suffix"). Each is the sum of a labelled gauge that stays:
 * `sum(nodejs_active_handles)` is `nodejs_active_handles_total`.
 */
const NAMES_PROMTOOL_REJECTS = new Set(['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']);

/**
 * How often heapwatch's set samples the event loop's delay (milliseconds). prom-client's default
 * is every 10 ms: a timer that wakes an idle process a hundred times a second, 3–4 ms of CPU per
 * second at rest — 30 times what `@datadog/pprof` costs there (bench/cross-process.mjs). Once a
 * second still catches every stall of a second or more, and shorter ones in proportion to their
 * length; the `nodejs_eventloop_lag_*` quantiles of a 15 s scrape rest on 15 samples. An
 * application that wants finer ones calls `collectDefaultMetrics()` itself, and its set is used.
 */
export const EVENT_LOOP_SAMPLING_MS = 1000;

/** The metric whose presence says the application ran `collectDefaultMetrics()` on the registry. */
const APPLICATION_HAS_DEFAULTS = 'process_cpu_user_seconds_total';

/**
 * Registers prom-client's standard Node metrics on `registry`, beside whatever the application
 * registers there, in either order:
 * - registered before heapwatch, the application's set stays and heapwatch adds none (a metric the
 *   registry lacks is added alone: registering a name twice throws);
 * - registered after heapwatch, each of the application's metrics replaces heapwatch's metric of
 *   the same name, instead of prom-client throwing "already registered" at the application's
 *   start-up. heapwatch's collector stays behind unused: prom-client gives no way to stop its
 *   event-loop monitor or GC observer, a few microseconds per event-loop turn.
 * The three gauges whose names break Prometheus' rules are left out. Returns the undo.
 */
export function registerDefaultMetrics(registry: Registry): () => void {
  if (registry.getSingleMetric(APPLICATION_HAS_DEFAULTS)) return () => {};
  const scratch = defaultCollectors();
  const ours = new Map<string, Metric>();
  for (const { name } of scratch.getMetricsAsArray()) {
    const metric = scratch.getSingleMetric(name);
    if (!metric || NAMES_PROMTOOL_REJECTS.has(name) || registry.getSingleMetric(name)) continue;
    registry.registerMetric(metric);
    ours.set(name, metric);
  }
  const restore = yieldOnCollision(registry, ours);
  return () => {
    restore();
    for (const [name, metric] of ours) if (registry.getSingleMetric(name) === metric) registry.removeSingleMetric(name);
  };
}

/**
 * prom-client's standard metrics, built once per process in a registry of their own and moved into
 * the application's registries one by one (its collectDefaultMetrics() stops at the first name the
 * target already holds, leaving the rest unregistered). Once: each set starts an event-loop monitor
 * and a GC observer that prom-client cannot stop, so a second heapwatch(), or a heapwatch() started
 * again after stop(), reuses the same collectors.
 */
let collectors: Registry | undefined;
function defaultCollectors(): Registry {
  if (!collectors) {
    collectors = new Registry();
    collectDefaultMetrics({ register: collectors, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLING_MS });
  }
  return collectors;
}

/**
 * Makes `registry` drop one of `ours` when another metric of its name is registered, so the
 * application's `collectDefaultMetrics()` after heapwatch() succeeds. prom-client has no hook for
 * this: the registry's own `registerMetric` is wrapped, for this registry only, and restored by
 * the returned function. Every other name keeps prom-client's "already registered" error.
 */
function yieldOnCollision(registry: Registry, ours: Map<string, Metric>): () => void {
  const hadOwn = Object.prototype.hasOwnProperty.call(registry, 'registerMetric');
  const original = registry.registerMetric;
  const registerMetric = function (this: Registry, metric: Metric): void {
    const { name } = metric as unknown as { name: string }; // every metric has it; prom-client's types omit it
    const mine = ours.get(name);
    if (mine !== undefined && mine !== metric && this.getSingleMetric(name) === mine) {
      this.removeSingleMetric(name);
      ours.delete(name);
    }
    original.call(this, metric);
  };
  registry.registerMetric = registerMetric;
  return () => {
    if (registry.registerMetric !== registerMetric) return; // wrapped again since: leave it
    if (hadOwn) registry.registerMetric = original;
    else delete (registry as Partial<Registry>).registerMetric;
  };
}
