import { ReduceDataOptionsBuilder, StackingConfigBuilder, StackingMode, TableSortByFieldStateBuilder } from '@grafana/grafana-foundation-sdk/common';
import { ThresholdsConfigBuilder, ThresholdsMode } from '@grafana/grafana-foundation-sdk/dashboard';
import type { DataTransformerConfig } from '@grafana/grafana-foundation-sdk/dashboard';
import type { DataqueryBuilder } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as StatBuilder } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TableBuilder } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as TimeseriesBuilder } from '@grafana/grafana-foundation-sdk/timeseries';
import type { DataSourceRef } from '@grafana/grafana-foundation-sdk/common';
import { datasource } from './common.js';

/** Grafana's query ids: A, B, C… (the tables' merged columns are named after them). */
const refIdOf = (index: number): string => String.fromCharCode(65 + index);

interface Size {
  /** Grid columns, of 24. */
  readonly width: number;
  /** Grid rows. */
  readonly height: number;
}

/** What every panel of the dashboards sets, whatever its kind: the builders share these methods. */
interface PanelBasics {
  title(title: string): this;
  description(description: string): this;
  datasource(datasource: DataSourceRef): this;
  unit(unit: string): this;
  span(width: number): this;
  height(height: number): this;
}

function basics<P extends PanelBasics>(panel: P, title: string, description: string, unit: string, size: Size): P {
  return panel.title(title).description(description).datasource(datasource).unit(unit).span(size.width).height(size.height);
}

/** A time series panel of `queries`, in `unit` (a Grafana unit id: bytes, s, percentunit…). */
export function timeseries(title: string, description: string, unit: string, size: Size, queries: DataqueryBuilder[], stacked = false): TimeseriesBuilder {
  const panel = basics(new TimeseriesBuilder(), title, description, unit, size)
    .fillOpacity(stacked ? 40 : 5)
    .lineWidth(1);
  if (stacked) panel.stacking(new StackingConfigBuilder().mode(StackingMode.Normal));
  queries.forEach((query, index) => panel.withTarget(query.refId(refIdOf(index))));
  return panel;
}

/** A single figure: the last value of `query`; `red` (when set) turns it red from that value up. */
export function stat(title: string, description: string, unit: string, size: Size, query: DataqueryBuilder, red?: number): StatBuilder {
  const steps = [{ value: null, color: 'green' }, ...(red === undefined ? [] : [{ value: red, color: 'red' }])];
  return basics(new StatBuilder(), title, description, unit, size)
    .reduceOptions(new ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
    .thresholds(new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps(steps))
    .withTarget(query.refId('A'));
}

/**
 * A table of instant queries joined on their labels (Grafana's `merge`), one column per query
 * named in `columns` (refId → name, with its unit), sorted by the first of them, largest first.
 */
export function joinedTable(
  title: string,
  description: string,
  size: Size,
  columns: ReadonlyArray<{ readonly refId: string; readonly name: string; readonly unit: string; readonly query: DataqueryBuilder }>,
  hidden: readonly string[],
): TableBuilder {
  const rename = Object.fromEntries(columns.map((column) => [`Value #${column.refId}`, column.name]));
  const exclude = Object.fromEntries(['Time', ...hidden].map((name) => [name, true]));
  const transformations: DataTransformerConfig[] = [
    { id: 'merge', options: {} },
    { id: 'organize', options: { excludeByName: exclude, renameByName: rename } },
  ];
  const panel = new TableBuilder()
    .title(title)
    .description(description)
    .datasource(datasource)
    .span(size.width)
    .height(size.height)
    .transformations(transformations);
  const first = columns[0];
  if (first) panel.sortBy([new TableSortByFieldStateBuilder().displayName(first.name).desc(true)]);
  for (const column of columns) {
    panel.withTarget(column.query);
    panel.overrideByName(column.name, [{ id: 'unit', value: column.unit }]);
  }
  return panel;
}
