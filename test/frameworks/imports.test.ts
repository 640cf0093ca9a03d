import assert from 'node:assert/strict';
import * as nodeModule from 'node:module';
import { test } from 'node:test';
import { runNode } from '../helpers.js';

const FRAMEWORKS = /^(express|express4|fastify|fastify4|koa|koa2|hono|@hono\/.*|@nestjs\/.*)$/;

/** The frameworks importing `entry` loads, in a fresh process. */
async function frameworksLoadedBy(entry: string): Promise<string[]> {
  const loaded = JSON.parse(await runNode(['test/fixtures/framework-imports.mjs', entry])) as string[];
  return loaded.filter((name) => FRAMEWORKS.test(name));
}

test('importing heapwatch, or any of its framework entry points, loads no framework', async (t) => {
  // module.registerHooks, which the fixture watches imports with, came in Node 22.15.
  if (!('registerHooks' in nodeModule)) return t.skip('module.registerHooks needs Node 22.15 or later');
  assert.deepEqual(await frameworksLoadedBy('heapwatch'), []);
  assert.deepEqual(await frameworksLoadedBy('heapwatch/fastify'), [], 'Fastify is only a type to heapwatch/fastify');
  assert.deepEqual(await frameworksLoadedBy('heapwatch/koa'), [], 'Koa is not even a type to heapwatch/koa');
  assert.deepEqual(await frameworksLoadedBy('heapwatch/hono'), [], 'Hono is only a type to heapwatch/hono');
});
