// The app bench/soak.mjs runs, twice side by side: examples/express-demo.mjs's routes with the
// demo's leak switched off — the order views "kept for analytics" go into a bounded ring of the
// last 1000 instead of a map nothing empties, so that the app allocates and keeps the same kind
// of records at a steady footprint — and heapwatch at its defaults (`app.use(heapwatch())`,
// nothing else set) or no heapwatch at all, as the first argument says.
//   node --expose-gc bench/servers/soak-app.mjs watched|bare     (forked by bench/soak.mjs)
// It tells its parent its port over IPC, and answers `measure` there: gc() twice, then its memory
// and, when watched, the monitor's stats and current suspects.
import express from 'express';

const watched = process.argv[2] === 'watched';
const RECENT_VIEWS = 1000;

const orders = Array.from({ length: 100 }, (_, id) => ({ id, items: ['book', 'pen', 'lamp'].slice(0, 1 + (id % 3)), total: id * 3 }));
const recentViews = new Array(RECENT_VIEWS);
let views = 0;
function recordOrderView(req, order) {
  recentViews[views++ % RECENT_VIEWS] = {
    order: order.id,
    userAgent: req.get('user-agent'),
    query: { ...req.query },
    note: `viewed ${order.items.join(', ')} at ${new Date().toISOString()}`.padEnd(1500, '.'),
  };
}

const app = express();
let watch;
if (watched) {
  const { heapwatch } = await import('heapwatch');
  watch = heapwatch();
  app.use(watch);
}
app.get('/health', (_req, res) => res.send('ok'));
app.get('/orders/:id', function showOrder(req, res) {
  const order = orders[Number(req.params.id) % orders.length];
  recordOrderView(req, order);
  res.json({ ...order, shippedAt: new Date().toISOString() });
});

const server = app.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
// Node closes a keep-alive connection idle for 5 s; a client may send on it at that moment and get
// ECONNRESET, a race of the benchmark's client, not the app's failure. Idle connections stay open.
server.keepAliveTimeout = 120_000;

process.on('message', (message) => {
  if (message === 'measure') {
    globalThis.gc();
    globalThis.gc();
    const { rss, heapUsed, arrayBuffers, external } = process.memoryUsage();
    const stats = watch?.monitor.stats();
    const suspects = watch?.monitor.suspects().map((s) => `${s.site.functionName} ${s.site.file}:${s.site.line}`);
    process.send({ rss, heapUsed, arrayBuffers, external, views, stats, suspects });
  } else if (message === 'stop') {
    watch?.stop();
    server.close();
    process.disconnect();
  }
});
