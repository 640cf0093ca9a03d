// heapwatch in a Fastify app: `npm run build && node examples/fastify.mjs` (see orders-load.mjs).
import Fastify from 'fastify';
import { heapwatch } from 'heapwatch/fastify';
import { demoOptions, rememberOrderView, sendOrders } from './orders-load.mjs';

const app = Fastify();
await app.register(heapwatch, demoOptions); // the one line: /metrics, /debug/heap, /debug/pprof/heap
app.get('/orders/:id', async (request) => {
  rememberOrderView(request.params.id);
  return { id: request.params.id, status: 'shipped' };
});
await app.listen({ port: Number(process.env.PORT ?? 3000), host: '127.0.0.1' });
sendOrders(`http://127.0.0.1:${app.server.address().port}`, app.heapwatch.monitor, () => app.close());
