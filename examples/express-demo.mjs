// The demo: an Express app with a real leak, a built-in load loop, and heapwatch watching.
//   npm start            (builds, then runs this file; stops by itself)
// The options below are demo-friendly — readings every second, a 20 s window, a 2 MiB threshold,
// fine sampling — so that the leak is caught in well under a minute. The defaults are tuned for
// production instead: readings every 10 s, judged over horizons up to an hour (see the README).
import express from 'express';
import { heapwatch } from 'heapwatch';

const MAX_SECONDS = Number(process.env.DEMO_SECONDS ?? 120);
// DEMO_KEEP_SERVING=1 keeps the app (and its leak) running after the verdict, until DEMO_SECONDS:
// time to look at the heap page in a browser.
const KEEP_SERVING = process.env.DEMO_KEEP_SERVING === '1';
const REQUESTS_PER_SECOND = 200;

// ---- the application ---------------------------------------------------------------------------

const orders = Array.from({ length: 100 }, (_, id) => ({ id, items: ['book', 'pen', 'lamp'].slice(0, 1 + (id % 3)), total: id * 3 }));

// The leak: every order view is remembered "for analytics", in a module-level map that nothing
// ever empties.
const viewedOrders = new Map();
function recordOrderView(req, order) {
  viewedOrders.set(`${req.ip}:${Date.now()}:${Math.random()}`, {
    order: order.id,
    userAgent: req.get('user-agent'),
    query: { ...req.query },
    note: `viewed ${order.items.join(', ')} at ${new Date().toISOString()}`.padEnd(1500, '.'),
  });
}

// ---- heapwatch: one line (the options are the demo's, see above) ---------------------------------

const watch = heapwatch({ intervalMs: 1000, windowMs: 20_000, growthThresholdBytes: 2 * 1024 * 1024, samplingIntervalBytes: 32 * 1024, debug: true });
const app = express();
app.use(watch);
app.get('/health', (_req, res) => res.send('ok'));
app.get('/orders/:id', function showOrder(req, res) {
  const order = orders[Number(req.params.id) % orders.length];
  recordOrderView(req, order);
  res.json({ ...order, shippedAt: new Date().toISOString() });
});

// ---- the load, and the end of the demo ---------------------------------------------------------

const server = app.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const base = `http://127.0.0.1:${port}`;
  const started = Date.now();
  console.error(`demo: serving on ${base}, sending ${REQUESTS_PER_SECOND} requests/s to /orders/:id for up to ${MAX_SECONDS} s`);
  console.error(`demo: the heap page, in a browser on this machine: ${base}/debug/heap`);

  let sent = 0;
  const load = setInterval(() => {
    for (let i = 0; i < REQUESTS_PER_SECOND / 20; i++) {
      fetch(`${base}/orders/${sent++}?ref=demo`).then((res) => res.arrayBuffer(), () => undefined);
    }
  }, 50);

  const finish = (message) => {
    clearInterval(load);
    watch.stop();
    server.close();
    console.error(message);
  };
  watch.monitor.on('leak-suspected', async (report) => {
    const seconds = Math.round((Date.now() - started) / 1000);
    // What Prometheus scrapes, and what /debug/heap shows, at that moment.
    const metrics = await (await fetch(`${base}/metrics`)).text();
    const heap = await (await fetch(`${base}/debug/heap?top=3`)).text();
    console.error(`demo: GET /metrics →\n${metrics.split('\n').filter((line) => /^heapwatch_site_(leak_suspected|growth_bytes)\{.*\} [1-9]/.test(line)).join('\n')}`);
    console.error(`demo: GET /debug/heap?top=3 →\n${heap}`);
    if (KEEP_SERVING) return console.error(`demo: heapwatch suspected ${report.site.functionName} (line ${report.site.line}) after ${seconds} s; still serving`);
    finish(`demo: heapwatch suspected ${report.site.functionName} (line ${report.site.line}) after ${seconds} s and ${sent} requests; ${viewedOrders.size} views kept in memory`);
  });
  setTimeout(() => finish(`demo: no leak suspected within ${MAX_SECONDS} s`), MAX_SECONDS * 1000).unref();
});
