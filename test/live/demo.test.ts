import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { repoRoot, runNode } from '../helpers.js';

test('the demo (npm start) catches its leak at the recording function or the route it is inlined into, and names the route, GET /orders/:id', async () => {
  // The demo stops as soon as it caught the leak (about 25 s); 180 s only bounds a machine under load.
  const stdout = await runNode(['examples/express-demo.mjs'], { DEMO_SECONDS: '180' });
  assert.ok(stdout.trim() !== '', 'the demo wrote a record before its time ran out');
  const records = stdout
    .trim()
    .split('\n')
    .map(
      (line) =>
        JSON.parse(line) as {
          level: number;
          heapwatch: { event: string; site: { function: string; file: string; line: number }; routes?: Array<{ route: string | null; share: number }> };
        },
    );
  const suspected = records.filter((record) => record.heapwatch.event === 'leak-suspected');
  assert.equal(suspected.length, 1, stdout);
  const { site } = suspected[0]!.heapwatch;
  const source = readFileSync(`${repoRoot}/examples/express-demo.mjs`, 'utf8').split('\n');
  const declared = (pattern: RegExp) => source.findIndex((line) => pattern.test(line)) + 1;
  const expected: Record<string, number> = {
    recordOrderView: declared(/^function recordOrderView\(/),
    showOrder: declared(/function showOrder\(/),
  };
  assert.ok(site.function in expected, `suspected ${site.function}`);
  assert.equal(site.file, 'examples/express-demo.mjs');
  assert.equal(site.line, expected[site.function]);
  // The route the operator thinks in: GET /orders/:id, for (nearly) all of the site's bytes.
  const [route] = suspected[0]!.heapwatch.routes ?? [];
  assert.equal(route?.route, 'GET /orders/:id', JSON.stringify(suspected[0]!.heapwatch.routes));
  assert.ok(route.share >= 0.9, JSON.stringify(suspected[0]!.heapwatch.routes));
});
