import { readFileSync } from 'node:fs';
import { Registry } from 'prom-client';
import { parse } from 'yaml';
import { registerDefaultMetrics } from '../../src/export/default-metrics.js';
import { registerPrometheusMetrics } from '../../src/export/prometheus.js';
import { createHeapMonitor } from '../../src/monitor/monitor.js';
import { repoRoot } from '../helpers.js';

/**
 * Every series name a process with `app.use(heapwatch())` exports on /metrics, read from a real
 * prom-client registry holding heapwatch's metrics and prom-client's default ones (histograms
 * with their _bucket, _sum and _count series).
 */
export async function exportedNames(): Promise<Set<string>> {
  const registry = new Registry();
  const unregister = registerPrometheusMetrics(createHeapMonitor({ logger: false }), registry);
  registerDefaultMetrics(registry);
  const names = new Set<string>();
  for (const metric of await registry.getMetricsAsJSON()) {
    names.add(metric.name);
    if (String(metric.type) === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${metric.name}${suffix}`);
  }
  unregister();
  registry.clear();
  return names;
}

export interface RuleFile {
  groups: Array<{ name: string; rules: Array<{ record?: string; alert?: string; expr: string; for?: string; labels?: Record<string, string>; annotations?: Record<string, string> }> }>;
}

/** deploy/prometheus/rules/heapwatch.rules.yml, parsed. */
export const ruleFile = (): RuleFile => parse(readFileSync(`${repoRoot}/deploy/prometheus/rules/heapwatch.rules.yml`, 'utf8')) as RuleFile;

/** The series the rule file records. */
export const recordedNames = (): Set<string> => new Set(ruleFile().groups.flatMap((group) => group.rules.flatMap((rule) => (rule.record ? [rule.record] : []))));

/**
 * The metric names a PromQL text refers to: heapwatch's, prom-client's (nodejs_*, process_*) and
 * recorded ones (level:metric:operations).
 */
export function metricNamesIn(text: string): string[] {
  return [...new Set(text.match(/\b(?:heapwatch|nodejs|process)_[a-z0-9_]+\b|\b[a-z_]+:[a-z0-9_]+:[a-z0-9_]+\b/g) ?? [])];
}
