// heapwatch in a Hono app on Node: `npm run build && node examples/hono.mjs` (see orders-load.mjs).
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { heapwatch } from 'heapwatch/hono';
import { demoOptions, rememberOrderView, sendOrders } from './orders-load.mjs';

const app = new Hono();
const watch = heapwatch(demoOptions);
app.use(watch); // the one line: /metrics, /debug/heap, /debug/pprof/heap
app.get('/orders/:id', (c) => {
  rememberOrderView(c.req.param('id'));
  return c.json({ id: c.req.param('id'), status: 'shipped' });
});
const server = serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 3000), hostname: '127.0.0.1' }, (info) => {
  sendOrders(`http://127.0.0.1:${info.port}`, watch.monitor, () => {
    server.close();
    watch.stop();
  });
});
