import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import type { Meter } from '@opentelemetry/api';
import { parse, parseAllDocuments } from 'yaml';
import { codeAttributes, observeWithOpenTelemetry, OtelInstrument } from '../../src/export/otel.js';
import { PrometheusMetric } from '../../src/export/prometheus.js';
import { createHeapMonitor } from '../../src/monitor/monitor.js';
import { repoRoot } from '../helpers.js';
import { collectorLabel, collectorName } from './collector-names.js';
import { ruleFile } from './exported-names.js';

/** A YAML file of deploy/ that holds one document. */
function yamlOf(path: string): Record<string, any> {
  const documents = parseAllDocuments(readFileSync(`${repoRoot}/deploy/${path}`, 'utf8'));
  assert.equal(documents.length, 1, `${path}: one document`);
  const [document] = documents;
  assert.deepEqual(document?.errors, [], path);
  return document?.toJS() as Record<string, any>;
}

test('Kubernetes: a Service with a named metrics port, a ServiceMonitor that scrapes it, and a PrometheusRule that is the rule file', () => {
  const service = yamlOf('kubernetes/service.yaml');
  assert.deepEqual([service['apiVersion'], service['kind']], ['v1', 'Service']);
  const metricsPort = service['spec'].ports.find((port: { name: string }) => port.name === 'metrics');
  assert.ok(metricsPort, 'a port named metrics');

  const monitor = yamlOf('kubernetes/servicemonitor.yaml');
  assert.deepEqual([monitor['apiVersion'], monitor['kind']], ['monitoring.coreos.com/v1', 'ServiceMonitor']);
  for (const [label, value] of Object.entries(monitor['spec'].selector.matchLabels)) assert.equal(service['metadata'].labels[label], value, `the ServiceMonitor selects the Service by ${label}`);
  // heapwatch() serves its page on /metrics unless metricsPath says otherwise.
  assert.deepEqual(monitor['spec'].endpoints.map((endpoint: { port: string; path: string }) => [endpoint.port, endpoint.path]), [['metrics', '/metrics']]);

  const rule = yamlOf('kubernetes/prometheusrule.yaml');
  assert.deepEqual([rule['apiVersion'], rule['kind']], ['monitoring.coreos.com/v1', 'PrometheusRule']);
  assert.deepEqual(rule['spec'].groups, ruleFile().groups, 'prometheusrule.yaml is the rule file: node scripts/generate-prometheusrule.mjs');
});

test('Compose: the demo, Prometheus, Alertmanager and Grafana, on loopback only, with the files of deploy/ and dashboards/', () => {
  const compose = yamlOf('docker-compose.yml');
  const services = compose['services'] as Record<string, { ports?: string[]; volumes?: string[]; build?: { context: string; dockerfile: string }; environment?: Record<string, string> }>;
  assert.deepEqual(Object.keys(services).sort(), ['alertmanager', 'demo', 'grafana', 'prometheus']);
  for (const [name, service] of Object.entries(services)) {
    assert.ok((service.ports ?? []).length > 0, `${name} publishes a port`);
    for (const port of service.ports ?? []) assert.match(port, /^127\.0\.0\.1:\d+:\d+$/, `${name} binds ${port} to loopback`);
    for (const volume of service.volumes ?? []) {
      const [host = ''] = volume.split(':');
      assert.ok(existsSync(`${repoRoot}/deploy/${host}`), `${name} mounts ${host}, which exists`);
    }
  }
  const demo = services['demo']!;
  assert.ok(existsSync(`${repoRoot}/deploy/${demo.build?.context}/${demo.build?.dockerfile}`));
  assert.match(readFileSync(`${repoRoot}/${demo.build?.dockerfile}`, 'utf8'), /^CMD \["node", "deploy\/demo\/server\.mjs"\]$/m);

  // The names the configurations use are the services' and ports'.
  const prometheus = parse(readFileSync(`${repoRoot}/deploy/prometheus/prometheus.yml`, 'utf8'));
  assert.deepEqual(prometheus.scrape_configs[0].static_configs[0].targets, [`demo:${demo.environment?.['PORT']}`]);
  assert.deepEqual(prometheus.alerting.alertmanagers[0].static_configs[0].targets, ['alertmanager:9093']);
  assert.ok(services['prometheus']?.volumes?.includes('./prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro'));
  assert.ok(services['prometheus']?.volumes?.includes('./prometheus/rules:/etc/prometheus/rules:ro'));
  assert.ok(services['alertmanager']?.volumes?.includes('./alertmanager/alertmanager.yml:/etc/alertmanager/alertmanager.yml:ro'));

  const datasources = yamlOf('grafana/provisioning/datasources/prometheus.yml');
  assert.deepEqual(datasources['datasources'].map((source: { type: string; url: string }) => [source.type, source.url]), [['prometheus', 'http://prometheus:9090']]);
  const providers = yamlOf('grafana/provisioning/dashboards/heapwatch.yml');
  const dashboardsMount = services['grafana']?.volumes?.find((volume) => volume.startsWith('../dashboards:'));
  assert.equal(dashboardsMount, `../dashboards:${providers['providers'][0].options.path}:ro`, "Grafana's provider reads the folder the dashboards are mounted in");
  assert.ok(services['grafana']?.volumes?.includes('./grafana/provisioning:/etc/grafana/provisioning:ro'));
});

/** The instruments heapwatch creates on a meter: name, unit and kind, recorded as they are created. */
function createdInstruments(): Array<{ name: string; unit: string; kind: string }> {
  const created: Array<{ name: string; unit: string; kind: string }> = [];
  const provider = new MeterProvider();
  const recording = {
    getMeter(name: string): Meter {
      const meter = provider.getMeter(name);
      return new Proxy(meter, {
        get(target, property: keyof Meter) {
          const member = target[property];
          if (typeof member !== 'function') return member;
          return (...args: unknown[]) => {
            if (String(property).startsWith('create')) created.push({ name: args[0] as string, unit: (args[1] as { unit: string }).unit, kind: String(property) });
            return (member as (...a: unknown[]) => unknown).apply(target, args);
          };
        },
      });
    },
  };
  observeWithOpenTelemetry(createHeapMonitor({ logger: false }), recording as unknown as MeterProvider)();
  return created;
}

test("OpenTelemetry Collector: OTLP in, a Prometheus page out, scraped with labels renamed to heapwatch's own; its table of names is the instruments'", () => {
  const collector = yamlOf('otel-collector/collector.yaml');
  assert.deepEqual(Object.keys(collector['receivers']['otlp'].protocols).sort(), ['grpc', 'http']);
  assert.deepEqual(collector['service'].pipelines.metrics.receivers, ['otlp']);
  assert.deepEqual(collector['service'].pipelines.metrics.exporters, ['prometheus']);
  const scrape = yamlOf('otel-collector/prometheus-scrape.yml')['scrape_configs'][0];
  assert.deepEqual(scrape.static_configs[0].targets, [collector['exporters']['prometheus'].endpoint], 'Prometheus scrapes where the Collector serves');
  assert.equal(scrape.honor_labels, true);

  // Each instrument arrives under the name of heapwatch's own Prometheus metric, as the table says.
  const text = readFileSync(`${repoRoot}/deploy/otel-collector/collector.yaml`, 'utf8');
  const instruments = createdInstruments();
  assert.deepEqual(instruments.map((instrument) => instrument.name).sort(), Object.values(OtelInstrument).sort());
  const prometheusNames = new Set<string>(Object.values(PrometheusMetric));
  for (const instrument of instruments) {
    const name = collectorName(instrument.name, instrument.unit, instrument.kind === 'createObservableCounter' || instrument.kind === 'createCounter');
    assert.ok(prometheusNames.has(name), `${instrument.name} arrives as ${name}, which heapwatch's /metrics does not have`);
    assert.match(text, new RegExp(`^#   ${instrument.name.replaceAll('.', '\\.')} +${instrument.unit.replace(/[{}]/g, '\\$&')} +→ ${name}\\b`, 'm'));
  }

  // A site's attributes, as the exporter writes them, become function, file and line, and a
  // suspect's route `route`, as on heapwatch's own page; the rest is dropped.
  const attributes = [
    ...Object.keys(codeAttributes({ functionName: 'f', file: '/srv/app.js', line: 1, column: 1 } as Parameters<typeof codeAttributes>[0])),
    'heapwatch.route',
  ].map(collectorLabel);
  const relabels = scrape.metric_relabel_configs as Array<{ source_labels?: string[]; target_label?: string; action?: string; regex: string }>;
  const renamed = Object.fromEntries(relabels.filter((rule) => rule.target_label).map((rule) => [rule.source_labels?.[0], rule.target_label]));
  assert.deepEqual(renamed, { code_function_name: 'function', code_file_path: 'file', code_line_number: 'line', heapwatch_route: 'route' });
  const dropped = relabels.find((rule) => rule.action === 'labeldrop')?.regex.split('|').sort();
  assert.deepEqual(dropped, attributes.sort());
});
