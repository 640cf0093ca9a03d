import { DatasourceVariableBuilder, QueryVariableBuilder, VariableRefresh, VariableSort } from '@grafana/grafana-foundation-sdk/dashboard';
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
