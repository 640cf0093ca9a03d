// Writes deploy/kubernetes/prometheusrule.yaml from deploy/prometheus/rules/heapwatch.rules.yml:
// the same groups, wrapped in a PrometheusRule for the Prometheus Operator.
//   node scripts/generate-prometheusrule.mjs
// test/deploy/manifests.test.ts fails when the two differ.
import { readFileSync, writeFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';

const root = new URL('../', import.meta.url);
const { groups } = parse(readFileSync(new URL('deploy/prometheus/rules/heapwatch.rules.yml', root), 'utf8'));
const resource = {
  apiVersion: 'monitoring.coreos.com/v1',
  kind: 'PrometheusRule',
  metadata: {
    name: 'heapwatch',
    // kube-prometheus-stack selects rules by its Helm release's label unless told otherwise.
    labels: { 'app.kubernetes.io/name': 'heapwatch', release: 'kube-prometheus-stack' },
  },
  spec: { groups },
};
const header = [
  '# Generated from deploy/prometheus/rules/heapwatch.rules.yml by scripts/generate-prometheusrule.mjs:',
  '# edit the rule file, then run the script. heapwatch\'s alerts and recording rules for the',
  '# Prometheus Operator; set the `release` label to your kube-prometheus-stack release.',
];
writeFileSync(new URL('deploy/kubernetes/prometheusrule.yaml', root), `${header.join('\n')}\n${stringify(resource, { lineWidth: 0 })}`);
