import { collectDefaultMetrics } from 'prom-client';
import type { Registry } from 'prom-client';

/**
 * prom-client's default gauges that `promtool check metrics` rejects ("non-counter metrics should
 * not have _total suffix"). Each is the sum of a labelled gauge that stays:
 * `sum(nodejs_active_handles)` is `nodejs_active_handles_total`.
 */
const NAMES_PROMTOOL_REJECTS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/**
 * Registers prom-client's standard Node metrics on `registry`, unless the application did already
 * (registering them twice throws), without the three gauges whose names break Prometheus' rules.
 */
export function registerDefaultMetrics(registry: Registry): void {
  if (registry.getSingleMetric('process_cpu_user_seconds_total')) return;
  collectDefaultMetrics({ register: registry });
  for (const name of NAMES_PROMTOOL_REJECTS) registry.removeSingleMetric(name);
}
