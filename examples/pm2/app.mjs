// An Express app for PM2's cluster mode: each instance is a node:cluster worker of PM2's daemon,
// and runs heapwatch as usual. Instance 0 leaks (NODE_APP_INSTANCE is PM2's instance number).
import express from 'express';
import { heapwatch } from 'heapwatch';

const viewed = [];
function rememberOrderView(id) {
  viewed.push({ id, lines: new Array(1000).fill(id) });
}

const app = express();
app.use(heapwatch({ intervalMs: 1000, windowMs: 20_000, growthThresholdBytes: 2 * 1024 * 1024, samplingIntervalBytes: 32 * 1024 }));
app.get('/orders/:id', (req, res) => {
  if (process.env.NODE_APP_INSTANCE === '0') rememberOrderView(req.params.id);
  res.json({ id: req.params.id });
});
app.listen(Number(process.env.PORT ?? 8080));
