// The demo service of the local stack (deploy/docker-compose.yml), which the end-to-end tests
// scrape too: an Express app with a real leak, a load loop that calls it, and heapwatch in one
// line. Unlike `npm start`'s demo it keeps serving (until SIGTERM or SIGINT), so that Prometheus
// scrapes it, the leak alert fires, and the heap grows for the dashboards.
//   PORT=8080 HOST=127.0.0.1 node deploy/demo/server.mjs
// The options are the demo's (readings every second, a 20 s window, a 2 MiB threshold, fine
// sampling): the leak is suspected in about half a minute. The defaults are for production.
import express from 'express';
import { heapwatch } from 'heapwatch';

const port = Number(process.env.PORT ?? 8080);
const host = process.env.HOST ?? '127.0.0.1';
const requestsPerSecond = Number(process.env.DEMO_REQUESTS_PER_SECOND ?? 200);

const orders = Array.from({ length: 100 }, (_, id) => ({ id, items: ['book', 'pen', 'lamp'].slice(0, 1 + (id % 3)), total: id * 3 }));

// The leak: every order view is remembered "for analytics", in a module-level map that nothing
// ever empties.
const viewedOrders = new Map();
function recordOrderView(req, order) {
  viewedOrders.set(`${req.ip}:${Date.now()}:${Math.random()}`, {
    order: order.id,
    userAgent: req.get('user-agent'),
    note: `viewed ${order.items.join(', ')} at ${new Date().toISOString()}`.padEnd(1500, '.'),
  });
}

// DEMO_ALLOCATIONS=1: allocation mode (Node 26), for the allocation-rate row of the dashboard.
const allocations = process.env.DEMO_ALLOCATIONS === '1';
const watch = heapwatch({ intervalMs: 1000, windowMs: 20_000, growthThresholdBytes: 2 * 1024 * 1024, samplingIntervalBytes: 32 * 1024, debug: true, allocations });
const app = express();
app.use(watch);
app.get('/health', (_req, res) => res.send('ok'));
app.get('/orders/:id', function showOrder(req, res) {
  const order = orders[Number(req.params.id) % orders.length];
  recordOrderView(req, order);
  res.json({ ...order, shippedAt: new Date().toISOString() });
});

const server = app.listen(port, host, () => {
  const address = server.address();
  const base = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  // The load goes to loopback, whatever address the service listens on.
  const self = `http://${address.family === 'IPv6' ? '[::1]' : '127.0.0.1'}:${address.port}`;
  console.error(`demo: serving on ${base}; metrics on ${base}/metrics; ${requestsPerSecond} requests/s to ${self}/orders/:id`);
  let sent = 0;
  const load = setInterval(() => {
    for (let i = 0; i < requestsPerSecond / 20; i++) {
      fetch(`${self}/orders/${sent++}?ref=demo`).then((res) => res.arrayBuffer(), () => undefined);
    }
  }, 50);
  const shutdown = () => {
    clearInterval(load);
    server.close(() => watch.stop());
    // Keep-alive connections of the load loop would hold close() open.
    server.closeAllConnections();
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
});
