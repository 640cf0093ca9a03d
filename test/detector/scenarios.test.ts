import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { repoRoot, runNode } from '../helpers.js';

// The scenario corpus (test/scenarios/scenarios.mjs) run with a real monitor in a child process
// each, at accelerated options: readings every 200 ms, a 4 s window, a 2 MiB threshold (4 MiB over
// the shorter horizons: 0.8, 1.6 and 3.2 s).

interface ScenarioResult {
  events: Array<{ event: 'suspected' | 'cleared'; function: string; file: string; line: number }>;
  records: Array<{ level: number; msg: string; module: string; heapwatch: Record<string, unknown> }>;
}

const scenarioSource = readFileSync(`${repoRoot}/test/scenarios/scenarios.mjs`, 'utf8');
/** The 1-based line where `function name(` is declared in the scenarios file. */
const declarationLine = (name: string) => scenarioSource.split('\n').findIndex((line) => line.startsWith(`function ${name}(`)) + 1;

async function run(name: string, durationMs: number, reader = 'native'): Promise<ScenarioResult> {
  return JSON.parse(await runNode(['test/scenarios/run-scenario.mjs', name, String(durationMs), reader])) as ScenarioResult;
}

const leaks: Array<[string, { sites?: string[]; file?: string; beforeWindowFills?: boolean; runMs?: number }]> = [
  ['unbounded map', { sites: ['rememberRequest', 'sessionRoute'] }],
  ['listeners never removed', { sites: ['subscribeForUpdates', 'subscribeRoute'] }],
  ['timers never cleared', { sites: ['scheduleRefresh', 'refreshRoute'] }],
  // The labels are built by the application; prom-client builds its own keys and entries from them.
  ['unbounded prom-client labels', { sites: ['labelRoute'], file: 'node_modules/prom-client/lib/' }],
  // MemoryStore.set, or the route TurboFan inlined it into.
  ["express-session's MemoryStore (a leak inside a dependency)", { file: 'node_modules/express-session/session/memory.js', sites: ['loginRoute'] }],
  // Confirmed by clean readings over the window: suspected 8 to 14 s into the run on Node 22 (six
  // runs, 2026-12-07), too near the others' 16 s.
  ['slow leak', { sites: ['appendAuditEntry', 'auditRoute'], runMs: 24_000 }],
  // Judged over a horizon shorter than the window: growth this fast needs no whole window.
  ['fast leak (3 MB/s)', { sites: ['keepUpload', 'uploadRoute'], beforeWindowFills: true }],
  // 3 MB over the window inside a 60 MB site: its whole size is not the noise of its growth.
  ['slow leak inside a large steady site', { sites: ['appendToLedger'] }],
];

const lookAlikes = [
  'steady churn',
  'bounded LRU that warms up then plateaus',
  'cache that warms up for half a window, then turns over',
  'LRU that warms up from empty, then evicts',
  'cache that warms up for half a window later in life, then turns over',
  'table that fills for half a window later in life, then stays',
  'periodic batch that builds and drops tens of MB',
  'queue that fills and drains',
];

// The children mostly wait for their timers: three at a time leave the two cores room.
describe('leaks are suspected at the allocating function', { concurrency: 3 }, () => {
  for (const [name, expected] of leaks) {
    test(name, async () => {
      // Long enough for a leak split between several sites (prom-client's, before TurboFan inlines
      // them into the route) on a loaded machine; a leak is mostly suspected within 3 to 8 s.
      const { events, records } = await run(name, expected.runMs ?? 16_000);
      const suspected = events.filter((e) => e.event === 'suspected');
      assert.ok(suspected.length > 0, `no suspicion in ${JSON.stringify(events)}`);
      for (const event of suspected) {
        if (expected.file && event.file.startsWith(`${repoRoot}/${expected.file}`)) continue;
        // V8 charges an inlined callee to its caller: either is the right function.
        assert.ok(expected.sites?.includes(event.function), `suspected ${event.function} (${event.file}), expected ${JSON.stringify(expected)}`);
        assert.equal(event.file, `${repoRoot}/test/scenarios/scenarios.mjs`);
        assert.equal(event.line, declarationLine(event.function));
      }

      // The traceback snapshot in the pino log: one warn record per suspicion.
      const warnings = records.filter((r) => r.heapwatch.event === 'leak-suspected');
      assert.equal(warnings.length, suspected.length, 'one record per suspicion, no flood');
      const record = warnings[0]!;
      assert.equal(record.level, 40);
      assert.equal(record.module, 'heapwatch');
      const first = suspected[0]!;
      const site = record.heapwatch.site as { function: string; file: string; line: number; column: number };
      assert.equal(site.function, first.function);
      assert.equal(site.line, first.line);
      assert.ok(!site.file.startsWith('/'), 'the file is relative to the working directory');
      assert.equal(record.heapwatch.windowMs, 4000);
      const horizonMs = record.heapwatch.horizonMs as number;
      if (expected.beforeWindowFills) assert.ok(horizonMs < 4000, `raised over ${horizonMs} ms`);
      assert.ok(horizonMs > 0 && horizonMs <= 4000, `raised over ${horizonMs} ms`);
      // The threshold over the window, twice it over a shorter horizon.
      assert.ok((record.heapwatch.growthBytes as number) >= (horizonMs < 4000 ? 4 : 2) * 1024 * 1024, JSON.stringify(record.heapwatch));
      assert.ok((record.heapwatch.liveBytes as number) >= (record.heapwatch.growthBytes as number));
      assert.ok((record.heapwatch.count as number) > 0);
      const traceback = record.heapwatch.traceback as string[];
      assert.ok(traceback.some((line) => line.startsWith(`${site.function} (${site.file}:${site.line}:`)), traceback.join('\n'));
      const top = record.heapwatch.top as string[];
      assert.match(top[0] ?? '', /^[^:]+:\d+: size=\d+(\.\d)? (B|KiB|MiB) \(\+\d+(\.\d)? (B|KiB|MiB)\), count=\d+ \([+-]\d+\), average=\d+ B$/);
      assert.ok(top.some((line) => line.startsWith(`${site.file}:${site.line}: `)), 'the suspect is among the top growing sites');
      assert.match(record.msg, new RegExp(`^heapwatch: leak suspected at ${site.function} \\(`));
    });
  }
});

describe('look-alikes of leaks are not suspected', { concurrency: 3 }, () => {
  for (const name of lookAlikes) {
    test(name, async () => {
      const { events, records } = await run(name, 16_000);
      // On a false alarm, the records say which horizon raised it and with what growth.
      assert.deepEqual(events, [], JSON.stringify(records.map((record) => record.heapwatch)));
      assert.deepEqual(records, []);
    });
  }
});

describe('the inspector reader reaches the same verdicts', { concurrency: 2 }, () => {
  test('unbounded map', async () => {
    const { events } = await run('unbounded map', 12_000, 'inspector');
    assert.ok(events.some((e) => e.event === 'suspected' && ['rememberRequest', 'sessionRoute'].includes(e.function)), JSON.stringify(events));
  });
  test('periodic batch that builds and drops tens of MB', async () => {
    const { events } = await run('periodic batch that builds and drops tens of MB', 16_000, 'inspector');
    assert.deepEqual(events, []);
  });
});
