import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { repoRoot } from '../helpers.js';

for (const example of ['fastify', 'koa', 'hono', 'nest-express', 'nest-fastify']) {
  test(`examples/${example}.mjs starts, serves heapwatch's /metrics and /debug/heap, and leaves its route to the app`, async (t) => {
    const child = spawn(process.execPath, [`examples/${example}.mjs`], { cwd: repoRoot, env: { ...process.env, PORT: '0' }, stdio: ['ignore', 'ignore', 'pipe'] });
    t.after(() => child.kill());
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // An example that exits before it serves fails the test; its exit after the test (killed) does not.
    const exited = once(child, 'exit').then(([code]) => assert.fail(`examples/${example}.mjs exited with ${code}:\n${stderr}`));
    exited.catch(() => {});
    let base: string | undefined;
    while ((base = /serving on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr)?.[1]) === undefined) await Promise.race([once(child.stderr, 'data'), exited]);
    const page = await (await fetch(`${base}/metrics`)).text();
    assert.match(page, /^# TYPE heapwatch_site_live_bytes gauge$/m);
    const heap = await fetch(`${base}/debug/heap?top=1`);
    assert.equal(heap.status, 200);
    assert.match(await heap.text(), /^\[ Top \d+ site statistics/);
    assert.deepEqual(await (await fetch(`${base}/orders/7`)).json(), { id: '7', status: 'shipped' });
  });
}
