// heapwatch in a Koa app: `npm run build && node examples/koa.mjs` (see orders-load.mjs).
import Koa from 'koa';
import { heapwatch } from 'heapwatch/koa';
import { demoOptions, rememberOrderView, sendOrders } from './orders-load.mjs';

const app = new Koa();
const watch = heapwatch(demoOptions);
app.use(watch); // the one line: /metrics, /debug/heap, /debug/pprof/heap
app.use(async (ctx) => {
  const id = /^\/orders\/([^/]+)$/.exec(ctx.path)?.[1];
  if (id === undefined) return;
  rememberOrderView(id);
  ctx.body = { id, status: 'shipped' };
});
const server = app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  sendOrders(`http://127.0.0.1:${server.address().port}`, watch.monitor, () => {
    server.close();
    watch.stop();
  });
});
