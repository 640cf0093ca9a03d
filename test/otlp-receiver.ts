import { once } from 'node:events';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

/** The parts of an OTLP/JSON metrics request these tests read. */
export interface OtlpAnyValue {
  stringValue?: string;
  intValue?: number | string;
  doubleValue?: number;
}
export interface OtlpNumberPoint {
  attributes?: Array<{ key: string; value: OtlpAnyValue }>;
  asDouble?: number;
  asInt?: number | string;
}
export interface OtlpMetric {
  name: string;
  unit?: string;
  gauge?: { dataPoints: OtlpNumberPoint[] };
  sum?: { dataPoints: OtlpNumberPoint[]; isMonotonic?: boolean };
}
export interface OtlpRequest {
  resourceMetrics: Array<{ scopeMetrics: Array<{ scope: { name: string }; metrics: OtlpMetric[] }> }>;
}

/** OTLP/JSON attributes as a plain object; int64 values may come as strings. */
export function decodeAttributes(attributes: OtlpNumberPoint['attributes'] = []): Record<string, string | number> {
  return Object.fromEntries(
    attributes.map(({ key, value }) => [key, value.stringValue ?? (value.intValue !== undefined ? Number(value.intValue) : (value.doubleValue as number))]),
  );
}

export function decodeValue(point: OtlpNumberPoint): number {
  return point.asDouble ?? Number(point.asInt);
}

/** A plain OTLP/HTTP receiver on loopback: records the JSON bodies POSTed to /v1/metrics. */
export async function startReceiver(): Promise<{ url: string; requests: Array<{ headers: IncomingHttpHeaders; body: OtlpRequest }>; close(): void }> {
  const requests: Array<{ headers: IncomingHttpHeaders; body: OtlpRequest }> = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/metrics') {
        res.writeHead(404).end();
        return;
      }
      const raw = Buffer.concat(chunks);
      const text = (req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
      requests.push({ headers: req.headers, body: JSON.parse(text) as OtlpRequest });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1/metrics`,
    requests,
    close() {
      server.closeAllConnections();
      server.close();
    },
  };
}


/** The names of the metrics of meter `scope` in the requests received so far. */
export function receivedMetricNames(requests: ReadonlyArray<{ body: OtlpRequest }>, scope: string): Set<string> {
  const names = new Set<string>();
  for (const { body } of requests)
    for (const resource of body.resourceMetrics)
      for (const scopeMetrics of resource.scopeMetrics) if (scopeMetrics.scope.name === scope) for (const metric of scopeMetrics.metrics) names.add(metric.name);
  return names;
}
