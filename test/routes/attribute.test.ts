import assert from 'node:assert/strict';
import { test } from 'node:test';
import { attributeRoutes, describeRoutes, RouteFinder } from '../../src/routes/attribute.js';
import type { RouteRange } from '../../src/routes/route-table.js';
import { positionOf } from '../../src/routes/source-range.js';
import { makeFrame } from '../../src/snapshot/frame.js';

// /app/routes.js: a handler for GET /orders/:id on lines 10–20, a callback declared inside it on
// lines 12–14; a second handler for GET /users on lines 30–40. /app/server.js holds the middleware.
const ranges: RouteRange[] = [
  { scriptId: 7, start: positionOf(10, 30), end: positionOf(20, 1), route: 'GET /orders/:id' },
  { scriptId: 7, start: positionOf(30, 30), end: positionOf(40, 1), route: 'GET /users' },
  // A script no reading holds: matches nothing.
  { scriptId: 99, start: positionOf(1, 1), end: positionOf(100, 1), route: 'GET /elsewhere' },
];
const files = new Map([[7, '/app/routes.js']]);
const finder = () => new RouteFinder(ranges, (id) => files.get(id));

const handler = makeFrame('showOrder', '/app/routes.js', 10, 30);
const callback = makeFrame('(anonymous)', '/app/routes.js', 12, 18);
const users = makeFrame('listUsers', '/app/routes.js', 30, 30);
const helper = makeFrame('remember', '/app/store.js', 3, 17);
const middleware = makeFrame('requestLog', '/app/server.js', 5, 20);
const timer = makeFrame('refreshCache', '/app/routes.js', 50, 20);
const push = makeFrame('push', '', 0, 0);

test('a stack belongs to the innermost route function on it: the handler, or a callback declared in it, never the middleware around it', () => {
  const routes = finder();
  assert.equal(routes.routeOf(handler), 'GET /orders/:id');
  assert.equal(routes.routeOf(callback), 'GET /orders/:id', 'declared inside the handler');
  assert.equal(routes.routeOf(users), 'GET /users');
  assert.equal(routes.routeOf(middleware), null);
  assert.equal(routes.routeOf(timer), null, 'same file, outside every handler');
  assert.equal(routes.routeOf(helper), null);
});

test("a site's bytes are split by route, largest first, with the bytes outside every route under null", () => {
  const shares = attributeRoutes(
    [
      { frames: [push, helper, handler, middleware], bytes: 600 },
      { frames: [push, callback], bytes: 100 },
      { frames: [helper, users, middleware], bytes: 200 },
      { frames: [helper, timer], bytes: 100 },
    ],
    finder(),
  );
  assert.deepEqual(shares, [
    { route: 'GET /orders/:id', bytes: 700, share: 0.7 },
    { route: 'GET /users', bytes: 200, share: 0.2 },
    { route: null, bytes: 100, share: 0.1 },
  ]);
  assert.equal(describeRoutes(shares), 'GET /orders/:id 70 %, GET /users 20 %, outside every route 10 %');
});

test('a route function declared inside another one takes the stacks of its own frames', () => {
  const outer: RouteRange = { scriptId: 7, start: positionOf(1, 1), end: positionOf(90, 1), route: 'GET /outer' };
  const routes = new RouteFinder([outer, ...ranges], (id) => files.get(id));
  assert.equal(routes.routeOf(callback), 'GET /orders/:id');
  assert.equal(routes.routeOf(timer), 'GET /outer');
});
