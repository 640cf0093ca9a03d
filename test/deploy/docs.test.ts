import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { repoRoot, toolAvailable } from '../helpers.js';
import { ruleFile } from './exported-names.js';
import { temporaryDirectory } from './servers.js';

const docs = readFileSync(`${repoRoot}/docs/dashboards-and-alerts.md`, 'utf8');

test("docs/dashboards-and-alerts.md's alert table is the rule file's alerts, with their severities", () => {
  const table = docs.slice(docs.indexOf('## The alerts'));
  const rows = [...table.matchAll(/^\| `(Heapwatch\w+)` \| (\w+) \|/gm)].map((match) => [match[1], match[2]]);
  const alerts = ruleFile().groups.flatMap((group) => group.rules.filter((rule) => rule.alert).map((rule) => [rule.alert, rule.labels?.['severity']]));
  assert.deepEqual(rows, alerts);
});

test("the Prometheus path's prometheus.yml, as the docs show it, passes promtool check config with the rule file copied beside it", async (t) => {
  if (!(await toolAvailable(t, 'promtool'))) return;
  const section = docs.slice(docs.indexOf('## From installed to alert firing, with Prometheus'));
  const config = /```yaml\n([\s\S]*?)```/.exec(section)?.[1]?.replace(/^ {3}/gm, '');
  assert.ok(config?.includes('rules/heapwatch.rules.yml'), 'the step loads the rule file');
  const directory = temporaryDirectory(t, 'heapwatch-docs');
  mkdirSync(`${directory}/rules`);
  copyFileSync(`${repoRoot}/deploy/prometheus/rules/heapwatch.rules.yml`, `${directory}/rules/heapwatch.rules.yml`);
  writeFileSync(`${directory}/prometheus.yml`, config ?? '');
  const { stdout } = await promisify(execFile)('promtool', ['check', 'config', `${directory}/prometheus.yml`]);
  assert.match(stdout, /SUCCESS: [1-9]\d* rules found/);
});
