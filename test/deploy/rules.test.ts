import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { repoRoot, toolAvailable } from '../helpers.js';
import { exportedNames, metricNamesIn, recordedNames, ruleFile } from './exported-names.js';

async function run(command: string, args: string[], cwd = repoRoot): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(command, args, { cwd });
    return { code: 0, output: `${stdout}${stderr}` };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? 1, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

test('promtool accepts the scrape configurations and the rule file, and the rules pass their unit tests', async (t) => {
  if (!(await toolAvailable(t, 'promtool'))) return;
  for (const args of [
    ['check', 'config', 'deploy/prometheus/prometheus.yml'],
    ['check', 'config', 'deploy/otel-collector/prometheus-scrape.yml'],
    ['check', 'rules', 'deploy/prometheus/rules/heapwatch.rules.yml'],
    ['test', 'rules', 'deploy/prometheus/tests/heapwatch.rules.test.yml'],
  ]) {
    const result = await run('promtool', args);
    assert.equal(result.code, 0, `promtool ${args.join(' ')}:\n${result.output}`);
  }
});

test("amtool accepts Alertmanager's routing example", async (t) => {
  if (!(await toolAvailable(t, 'amtool'))) return;
  const result = await run('amtool', ['check-config', 'deploy/alertmanager/alertmanager.yml']);
  assert.equal(result.code, 0, result.output);
});

test('every rule names only metrics a heapwatch app exports or the file records: a renamed metric fails here', async () => {
  const known = new Set([...(await exportedNames()), ...recordedNames()]);
  for (const rule of ruleFile().groups.flatMap((group) => group.rules)) {
    const text = [rule.expr, ...Object.values(rule.annotations ?? {})].join('\n');
    const names = metricNamesIn(text);
    assert.ok(names.length > 0, `${rule.alert ?? rule.record} names no metric`);
    for (const name of names) assert.ok(known.has(name), `${rule.alert ?? rule.record}: ${name} is not exported`);
  }
});

test('every alert has one prefix, a severity, a summary, a templated description and a runbook entry', () => {
  const runbook = readFileSync(`${repoRoot}/deploy/runbook.md`, 'utf8');
  const headings = [...runbook.matchAll(/^## (\w+)$/gm)].map((match) => match[1]);
  const alerts = ruleFile().groups.flatMap((group) => group.rules.filter((rule) => rule.alert));
  assert.deepEqual(alerts.map((rule) => rule.alert), headings, 'the runbook has one section per alert, in the same order');
  for (const rule of alerts) {
    const name = rule.alert as string;
    assert.match(name, /^Heapwatch[A-Z][A-Za-z]+$/);
    assert.ok(['critical', 'warning', 'info'].includes(rule.labels?.['severity'] ?? ''), `${name}: severity`);
    assert.deepEqual(Object.keys(rule.annotations ?? {}).sort(), ['description', 'runbook_url', 'summary'], name);
    assert.match(rule.annotations?.['description'] ?? '', /\{\{ \$(labels\.\w+|value)/, `${name}: the description is templated`);
    assert.ok(rule.annotations?.['runbook_url']?.endsWith(`/deploy/runbook.md#${name.toLowerCase()}`), `${name}: runbook_url`);
  }
  const leak = alerts.find((rule) => rule.alert === 'HeapwatchLeakSuspected');
  for (const label of ['function', 'file', 'line']) assert.match(leak?.annotations?.['description'] ?? '', new RegExp(`\\$labels\\.${label}\\b`));
});

interface RuleTests {
  tests: Array<{
    input_series: Array<{ series: string }>;
    alert_rule_test: Array<{ alertname: string; exp_alerts: Array<{ exp_labels: Record<string, string> }> }>;
  }>;
}

test('every alert has unit tests where it fires and where it must stay silent', () => {
  const { tests } = parse(readFileSync(`${repoRoot}/deploy/prometheus/tests/heapwatch.rules.test.yml`, 'utf8')) as RuleTests;
  // The site or instance of a series or an alert.
  const subject = (labels: Record<string, string>): string => `${labels['instance'] ?? ''}/${labels['function'] ?? ''}`;
  const labelsOf = (series: string): Record<string, string> => Object.fromEntries([...series.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1] as string, m[2] as string]));
  for (const rule of ruleFile().groups.flatMap((group) => group.rules.filter((r) => r.alert))) {
    const groups = tests.filter((group) => group.alert_rule_test.some((check) => check.alertname === rule.alert));
    assert.ok(groups.length > 0, `${rule.alert} has tests`);
    const given = new Set(groups.flatMap((group) => group.input_series.map((input) => subject(labelsOf(input.series)))));
    const fired = new Set(groups.flatMap((group) => group.alert_rule_test.filter((check) => check.alertname === rule.alert).flatMap((check) => check.exp_alerts.map((alert) => subject({ instance: '', function: '', ...alert.exp_labels })))));
    assert.ok(fired.size > 0, `${rule.alert} fires in a test`);
    // promtool checks that exactly the expected alerts fire: a site or instance given as input and
    // never expected is one where the alert must stay silent.
    const silent = [...given].filter((name) => ![...fired].some((firing) => firing === name || (firing.startsWith('/') && name.endsWith(firing))));
    assert.ok(silent.length > 0, `${rule.alert}: a case where it stays silent (given ${[...given]}, fired ${[...fired]})`);
  }
});
