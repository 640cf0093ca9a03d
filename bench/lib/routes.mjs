// The routes every request benchmark drives: `/hello` (hello world), `/json` (builds and
// serialises 800 rows, ~50 KB), so that their figures are of the same work, and `/buffers` (an
// allocation-bound route of Buffers: a 16 KiB body from Buffer.alloc, 20 small Buffer.from
// strings from Node's pool, joined by Buffer.concat — what heapwatch's Buffer sampler wraps).
export function addBenchRoutes(app) {
  app.get('/hello', (_req, res) => {
    res.send('Hello World!');
  });
  app.get('/json', (req, res) => {
    const rows = [];
    for (let k = 0; k < 800; k++) rows.push({ id: k, name: `row-${k}-${req.query.i ?? ''}`, tags: ['a', 'b', `t${k % 7}`], score: k * 1.5 });
    res.type('application/json').send(JSON.stringify({ rows }));
  });
  app.get('/buffers', (req, res) => {
    const body = Buffer.alloc(16 * 1024, req.query.i ?? 'b');
    const parts = [];
    for (let k = 0; k < 20; k++) parts.push(Buffer.from(`part-${k}-${req.query.i ?? ''};`));
    res.type('application/octet-stream').send(Buffer.concat([...parts, body]));
  });
}
