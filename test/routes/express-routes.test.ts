import assert from 'node:assert/strict';
import { test } from 'node:test';
import express from 'express';
import express4 from 'express4';
import { expressRoutes } from '../../src/routes/express-routes.js';

const show = (_req: unknown, res: { end(): void }) => res.end();
const create = (_req: unknown, res: { end(): void }) => res.end();
const auth = (_req: unknown, _res: unknown, next: () => void) => next();
const everywhere = (_req: unknown, _res: unknown, next: () => void) => next();

for (const [name, createApp] of [
  ['Express 5', express],
  ['Express 4', express4 as unknown as typeof express],
] as const) {
  test(`${name}: lists each route's method and path pattern with its own functions, mounted routers under their path, and no app-level middleware`, () => {
    const app = createApp();
    app.use(everywhere);
    app.get('/orders/:id', auth, show);
    app.route('/orders').get(show).post(create);
    app.all('/any', show);
    const api = express.Router();
    api.get('/users/:user', show);
    app.use('/api', api);
    const nested = express.Router();
    nested.get('/items', create);
    app.use('/shops/:shop', nested);

    const listed = expressRoutes(app, 100).map(({ route, handlers }) => [route, handlers]);
    assert.deepEqual(listed, [
      ['GET /orders/:id', [auth, show]],
      ['GET /orders', [show]],
      ['POST /orders', [create]],
      ['ALL /any', [show]],
      ['GET /api/users/:user', [show]],
      ['GET /shops/:shop/items', [create]],
    ]);
    assert.equal(expressRoutes(app, 2).length, 2, 'at most `limit` routes');
  });
}

test('anything but an Express app has no routes, and the walk never throws', () => {
  for (const value of [undefined, null, 42, 'app', {}, () => {}, { router: { stack: 'no' } }, { _router: { stack: [{ route: null }, null] } }]) {
    assert.deepEqual(expressRoutes(value, 100), []);
  }
  const throwing = { get router(): never { throw new Error('a getter that throws'); } };
  assert.deepEqual(expressRoutes(throwing, 100), []);
});
