import 'reflect-metadata';
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Registry } from 'prom-client';
import { heapwatch as heapwatchFastify } from '../../src/frameworks/fastify.js';
import { heapwatch, isSampling } from '../../src/index.js';

const quiet = { logger: false, intervalMs: 200, windowMs: 4000 } as const;

class HelloController {
  hello(): string {
    return 'hello from the app';
  }
}
// What @Controller() and @Get('hello') would write: the tests compile without TypeScript's legacy decorators.
Controller()(HelloController);
Get('hello')(HelloController.prototype, 'hello', Object.getOwnPropertyDescriptor(HelloController.prototype, 'hello') as PropertyDescriptor);
class AppModule {}
Module({ controllers: [HelloController] })(AppModule);

const baseOf = (server: Server): string => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

/** /metrics is heapwatch's, /hello the app's, and /debug/heap answers (loopback, no proxy) or is refused (through a proxy). */
async function assertServed(base: string, registry: Registry): Promise<void> {
  const page = await fetch(`${base}/metrics`);
  assert.equal(page.status, 200);
  assert.equal(page.headers.get('content-type'), registry.contentType);
  assert.match(await page.text(), /^# TYPE heapwatch_site_live_bytes gauge$/m);
  const hello = await fetch(`${base}/hello`);
  assert.equal(hello.status, 200);
  assert.equal(await hello.text(), 'hello from the app');
  const heap = await fetch(`${base}/debug/heap?top=1`);
  assert.equal(heap.status, 200);
  assert.match(await heap.text(), /^\[ Top \d+ site statistics/);
  const proxied = await fetch(`${base}/debug/heap`, { headers: { 'x-forwarded-for': '203.0.113.7' } });
  assert.equal(proxied.status, 403);
  await proxied.arrayBuffer();
  const missing = await fetch(`${base}/nowhere`);
  assert.equal(missing.status, 404, "Nest's own 404 for the rest");
  await missing.arrayBuffer();
}

test("NestJS on its Express adapter: app.use(heapwatch()) serves heapwatch's endpoints beside the controllers; stop() after close() releases the monitor", async (t) => {
  const app = await NestFactory.create<NestExpressApplication>(AppModule, { logger: false });
  const registry = new Registry();
  const watch = heapwatch({ ...quiet, registry, debug: true });
  app.use(watch);
  t.after(async () => {
    await app.close();
    watch.stop();
  });
  await app.listen(0, '127.0.0.1');
  await assertServed(baseOf(app.getHttpServer() as Server), registry);
  await app.close();
  watch.stop();
  assert.equal(watch.monitor.running, false);
  assert.equal(isSampling(), false);
});

test("NestJS on its Fastify adapter: app.register(heapwatch) serves heapwatch's endpoints beside the controllers; app.close() releases the monitor", async (t) => {
  const app = await NestFactory.create<NestFastifyApplication>(AppModule, new FastifyAdapter(), { logger: false });
  const registry = new Registry();
  await app.register(heapwatchFastify, { ...quiet, registry, debug: true });
  t.after(() => app.close());
  await app.listen(0, '127.0.0.1');
  await assertServed(baseOf(app.getHttpServer() as Server), registry);
  const { monitor } = app.getHttpAdapter().getInstance().heapwatch;
  assert.equal(monitor.running, true);
  await app.close();
  assert.equal(monitor.running, false);
  assert.equal(isSampling(), false);
});
