import { DashboardBuilder, DashboardCursorSync, DashboardLinkBuilder, DashboardLinkType, DatasourceVariableBuilder, QueryVariableBuilder, VariableRefresh, VariableSort } from '@grafana/grafana-foundation-sdk/dashboard';
import type { DataSourceRef } from '@grafana/grafana-foundation-sdk/common';
import { DataqueryBuilder, PromQueryFormat } from '@grafana/grafana-foundation-sdk/prometheus';

/**
 * Every panel queries the data source the `datasource` variable names: the dashboards import
 * through the UI and load through file provisioning alike (no import-only `${DS_…}` input).
 */
export const datasource: DataSourceRef = { type: 'prometheus', uid: '${datasource}' };

/** The label matchers of the `job` and `instance` variables, for every selector. */
export const selected = 'job=~"$job",instance=~"$instance"';

/** `metric{job=~"$job",instance=~"$instance"}` */
export const select = (metric: string): string => `${metric}{${selected}}`;

/**
 * The dashboard's variables: the Prometheus data source, then `job` and `instance` from the label
 * values of `metric` (a metric every watched process exports).
 */
export function variables(metric: string): Array<DatasourceVariableBuilder | QueryVariableBuilder> {
  const labelValues = (name: string, query: string): QueryVariableBuilder =>
    new QueryVariableBuilder(name)
      .label(name)
      .datasource(datasource)
      .query(query)
      .definition(query)
      .refresh(VariableRefresh.OnTimeRangeChanged)
      .sort(VariableSort.AlphabeticalAsc)
      .multi(true)
      .includeAll(true)
      .current({ selected: true, text: 'All', value: '$__all' });
  return [
    new DatasourceVariableBuilder('datasource').label('Data source').type('prometheus'),
    labelValues('job', `label_values(${metric}, job)`),
    labelValues('instance', `label_values(${metric}{job=~"$job"}, instance)`),
  ];
}

/** A range query drawn as one series per result, named by `legend`. */
export const series = (expr: string, legend: string): DataqueryBuilder => new DataqueryBuilder().datasource(datasource).expr(expr).legendFormat(legend).range();

/** An instant query read as a table (one row per series, its labels as columns). */
export const table = (expr: string, refId: string): DataqueryBuilder =>
  new DataqueryBuilder().datasource(datasource).expr(expr).instant().format(PromQueryFormat.Table).refId(refId);

/**
 * What both dashboards share: their uid and title, the tag `heapwatch` that links them to each
 * other, a shared crosshair, a 30 s refresh, and the variables from `variablesMetric`.
 */
export function heapwatchDashboard(title: string, uid: string, description: string, from: string, variablesMetric: string): DashboardBuilder {
  return new DashboardBuilder(title)
    .uid(uid)
    .description(description)
    .tags(['heapwatch', 'nodejs'])
    .editable()
    .tooltip(DashboardCursorSync.Crosshair)
    .refresh('30s')
    .time({ from, to: 'now' })
    .link(new DashboardLinkBuilder('heapwatch').type(DashboardLinkType.Dashboards).tags(['heapwatch']).asDropdown(false).includeVars(true).keepTime(true))
    .variables(variables(variablesMetric));
}
