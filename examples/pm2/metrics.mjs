// The cluster's metrics page under PM2. PM2's daemon is the cluster primary, and runs no code of
// ours; this small process (PM2 fork mode) stands in for it. It asks every online instance of the
// app for its metrics with prom-client's own request, which the instances answer as they answer a
// node:cluster primary, and aggregates them with prom-client's AggregatorRegistry, by each
// metric's aggregator. Needs `pm2` (the API) installed beside the app.
import { createServer } from 'node:http';
import pm2 from 'pm2';
import { AggregatorRegistry, Registry } from 'prom-client';

const APP = process.env.APP_NAME ?? 'orders';
const TIMEOUT_MS = 5000;
let nextRequestId = 0;
const pending = new Map(); // requestId → { waiting, responses, done }

await new Promise((resolve, reject) => pm2.connect((error) => (error ? reject(error) : resolve())));
pm2.launchBus((error, bus) => {
  if (error) throw error;
  // An answer carries no `data` field, so PM2 relays it as 'process:msg' with the message in `raw`.
  bus.on('process:msg', ({ raw }) => {
    if (raw?.type !== 'prom-client:getMetricsRes') return;
    const request = pending.get(raw.requestId);
    if (!request) return;
    if (raw.error) return request.done(new Error(raw.error));
    request.responses.push(...raw.metrics);
    if (--request.waiting === 0) request.done();
  });
});

async function clusterMetrics() {
  const list = await new Promise((resolve, reject) => pm2.list((error, processes) => (error ? reject(error) : resolve(processes))));
  const ids = list.filter((p) => p.name === APP && p.pm2_env.status === 'online').map((p) => p.pm_id);
  const requestId = `pm2-${process.pid}-${nextRequestId++}`;
  const responses = [];
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`instances of ${APP} did not answer within ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
    function done(error) {
      clearTimeout(timer);
      pending.delete(requestId);
      if (error) reject(error);
      else resolve();
    }
    pending.set(requestId, { waiting: ids.length, responses, done });
    if (ids.length === 0) return done();
    // PM2 hands the packet to the instance's process.on('message') as it is: prom-client's request.
    for (const id of ids) {
      pm2.sendDataToProcessId(id, { type: 'prom-client:getMetricsReq', requestId, data: {}, topic: 'prom-client' }, (error) => error && done(error));
    }
  });
  return AggregatorRegistry.aggregate(responses).metrics();
}

createServer(async (req, res) => {
  try {
    const page = await clusterMetrics();
    res.writeHead(200, { 'content-type': Registry.PROMETHEUS_CONTENT_TYPE });
    res.end(page);
  } catch (error) {
    res.writeHead(503, { 'content-type': 'text/plain' });
    res.end(`${error.message}\n`);
  }
}).listen(Number(process.env.METRICS_PORT ?? 9100));
