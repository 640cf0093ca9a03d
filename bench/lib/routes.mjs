// The two routes every request benchmark drives: `/hello` (hello world) and `/json` (builds and
// serialises 800 rows, ~50 KB), so that their figures are of the same work.
export function addBenchRoutes(app) {
  app.get('/hello', (_req, res) => {
    res.send('Hello World!');
  });
  app.get('/json', (req, res) => {
    const rows = [];
    for (let k = 0; k < 800; k++) rows.push({ id: k, name: `row-${k}-${req.query.i ?? ''}`, tags: ['a', 'b', `t${k % 7}`], score: k * 1.5 });
    res.type('application/json').send(JSON.stringify({ rows }));
  });
}
