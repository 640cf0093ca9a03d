import { readFileSync } from 'node:fs';
import { repoRoot } from '../helpers.js';

/** One PromQL query of a dashboard: a panel's target, an annotation, or a variable's. */
export interface DashboardQuery {
  /** Where it is: the dashboard, then the panel and query id, the annotation or the variable. */
  readonly where: string;
  readonly expr: string;
  /** Evaluated at one instant (tables), or over a range (graphs, stats, annotations). */
  readonly instant: boolean;
}

interface Target {
  expr?: string;
  instant?: boolean;
  refId?: string;
}
interface Panel {
  title?: string;
  targets?: Target[];
  panels?: Panel[];
}
export interface DashboardJson {
  uid: string;
  title: string;
  panels: Panel[];
  annotations: { list: Array<{ name: string; expr?: string }> };
  templating: { list: Array<{ name: string; type: string; query?: unknown }> };
}

/** The dashboards of dashboards/, as committed. */
export function committedDashboards(): Map<string, DashboardJson> {
  const names = ['heapwatch-allocation-sites.json', 'nodejs-process-memory.json'];
  return new Map(names.map((name) => [name, JSON.parse(readFileSync(`${repoRoot}/dashboards/${name}`, 'utf8')) as DashboardJson]));
}

/** Every panel's queries (rows' nested panels included). */
export function panelQueries(dashboard: DashboardJson): DashboardQuery[] {
  const queries: DashboardQuery[] = [];
  const visit = (panels: Panel[]): void => {
    for (const panel of panels) {
      for (const target of panel.targets ?? []) {
        if (target.expr === undefined) continue;
        queries.push({ where: `${dashboard.title} / ${panel.title} / ${target.refId}`, expr: target.expr, instant: target.instant === true });
      }
      visit(panel.panels ?? []);
    }
  };
  visit(dashboard.panels);
  return queries;
}

/** The annotations' queries. */
export function annotationQueries(dashboard: DashboardJson): DashboardQuery[] {
  return dashboard.annotations.list
    .filter((annotation) => annotation.expr !== undefined)
    .map((annotation) => ({ where: `${dashboard.title} / annotation ${annotation.name}`, expr: annotation.expr as string, instant: false }));
}

/** The query variables' `label_values(selector, label)`, parsed. */
export function labelValuesVariables(dashboard: DashboardJson): Array<{ name: string; selector: string; label: string }> {
  return dashboard.templating.list
    .filter((variable) => variable.type === 'query')
    .map((variable) => {
      const match = /^label_values\((.+), (\w+)\)$/.exec(String(variable.query));
      if (!match) throw new Error(`variable ${variable.name}: not label_values(selector, label): ${String(variable.query)}`);
      return { name: variable.name, selector: match[1] as string, label: match[2] as string };
    });
}

/**
 * `expr` with the dashboard's variables replaced as Grafana would: each `$name` by its value
 * (regex-escaped, as Grafana does in `=~` matchers), `$__rate_interval` by `rateInterval`.
 */
export function substitute(expr: string, values: Record<string, string>, rateInterval: string): string {
  let result = expr.replaceAll('$__rate_interval', rateInterval);
  for (const [name, value] of Object.entries(values)) result = result.replaceAll(`$${name}`, value.replace(/[.*+?^${}()|[\]\\]/g, '\\\\$&'));
  return result;
}
