import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { dashboardFile, dashboards } from '../../dashboards/src/index.js';
import { annotationQueries, committedDashboards, labelValuesVariables, panelQueries } from '../deploy/dashboard-queries.js';
import { exportedNames, metricNamesIn, recordedNames } from '../deploy/exported-names.js';
import { repoRoot } from '../helpers.js';

test('the committed dashboards are what their generators build (npm run dashboards rewrites them)', () => {
  for (const [name, dashboard] of Object.entries(dashboards())) {
    const committed = readFileSync(`${repoRoot}/dashboards/${name}`, 'utf8');
    assert.ok(committed === dashboardFile(dashboard), `dashboards/${name} differs from its generator: run npm run dashboards`);
  }
  assert.deepEqual(Object.keys(dashboards()).sort(), [...committedDashboards().keys()].sort());
});

test('every query names only metrics a heapwatch app exports or deploy/prometheus records: a renamed metric fails here', async () => {
  const known = new Set([...(await exportedNames()), ...recordedNames()]);
  for (const dashboard of committedDashboards().values()) {
    const queries = [
      ...panelQueries(dashboard),
      ...annotationQueries(dashboard),
      ...labelValuesVariables(dashboard).map((variable) => ({ where: `variable ${variable.name}`, expr: variable.selector })),
    ];
    assert.ok(queries.length > 10);
    for (const query of queries) {
      const names = metricNamesIn(query.expr);
      assert.ok(names.length > 0, `${query.where}: no metric in ${query.expr}`);
      for (const name of names) assert.ok(known.has(name), `${query.where}: ${name} is not exported`);
    }
  }
});

test('the dashboards import through the UI and load through provisioning alike: stable uids, a prometheus datasource variable, job and instance from label_values, no ${DS_…} input', () => {
  const uids = new Set<string>();
  for (const [name, dashboard] of committedDashboards()) {
    const text = readFileSync(`${repoRoot}/dashboards/${name}`, 'utf8');
    assert.doesNotMatch(text, /\$\{DS_|__inputs/);
    assert.match(dashboard.uid, /^heapwatch-[a-z-]+$/);
    uids.add(dashboard.uid);
    const [datasource, ...rest] = dashboard.templating.list;
    assert.deepEqual({ name: datasource?.name, type: datasource?.type, query: datasource?.query }, { name: 'datasource', type: 'datasource', query: 'prometheus' });
    assert.deepEqual(rest.map((variable) => variable.name), ['job', 'instance']);
    assert.deepEqual(labelValuesVariables(dashboard).map((variable) => variable.label), ['job', 'instance']);

    const panels = JSON.parse(text).panels as Array<{ type: string; title: string; datasource?: unknown; gridPos: { x: number; w: number }; targets?: Array<{ datasource: unknown }> }>;
    for (const panel of panels) {
      assert.ok(panel.gridPos.x + panel.gridPos.w <= 24, `${panel.title} fits the grid`);
      if (panel.type === 'row') continue;
      assert.deepEqual(panel.datasource, { type: 'prometheus', uid: '${datasource}' }, panel.title);
      for (const target of panel.targets ?? []) assert.deepEqual(target.datasource, { type: 'prometheus', uid: '${datasource}' }, panel.title);
    }
    // rate() and increase() follow the scrape interval through Grafana's $__rate_interval.
    for (const query of panelQueries(dashboard)) {
      for (const match of query.expr.matchAll(/\b(?:rate|increase)\([^[]*\[([^\]]+)\]/g)) assert.equal(match[1], '$__rate_interval', query.where);
    }
  }
  assert.equal(uids.size, committedDashboards().size);
});
