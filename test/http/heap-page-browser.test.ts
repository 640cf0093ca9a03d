import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { test } from 'node:test';
import { chromium } from 'playwright-core';
import type { HeapView } from '../../src/http/heap-view.js';
import { repoRoot, toolAvailable } from '../helpers.js';

/** Debian's chromium; never a browser downloaded by the test. */
const CHROMIUM = '/usr/bin/chromium';
/** Without the background-networking flags, Chromium's own connections out are refused on a closed network, and it says so on the console. */
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

interface Demo {
  readonly base: string;
  /** The function the demo's heapwatch suspected. */
  readonly suspected: string;
}

/** Runs `npm start`'s demo, serving after its verdict, until the leak is suspected; killed at the end of the test. */
async function startDemo(t: TestContext): Promise<Demo> {
  const child = spawn(process.execPath, ['examples/express-demo.mjs'], {
    cwd: repoRoot,
    env: { ...process.env, DEMO_SECONDS: '400', DEMO_KEEP_SERVING: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => child.kill());
  let stdout = '';
  let stderr = '';
  return new Promise((resolve, reject) => {
    // The demo's verdict takes ~25 s on an idle machine, two minutes beside other test runs.
    const timer = setTimeout(() => reject(new Error(`no leak suspected in 300 s\n${stderr}`)), 300_000);
    const check = (): void => {
      const base = /serving on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr)?.[1];
      const record = stdout
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as { heapwatch: { event: string; site?: { function: string } } })
        .find((entry) => entry.heapwatch.event === 'leak-suspected');
      if (base && record?.heapwatch.site) {
        clearTimeout(timer);
        resolve({ base, suspected: record.heapwatch.site.function });
      }
    };
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      check();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      check();
    });
    child.once('exit', (code) => reject(new Error(`the demo exited (${code}) before its verdict\n${stderr}`)));
  });
}

interface Row {
  readonly key: string;
  readonly function: string;
  readonly suspected: boolean;
  /** The routes cell: the routes on the site's stacks, with their shares. */
  readonly routes: string;
  /** The sparkline's points. */
  readonly points: number;
}

test('in headless Chromium, the demo’s heap page loads without a console error, lists the leak first with its sparkline, and a click on a flame-graph frame narrows the table', async (t) => {
  if (!(await toolAvailable(t, CHROMIUM))) return;
  const demo = await startDemo(t);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  t.after(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') problems.push(`${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`uncaught: ${error.message}`));

  // The page reads the JSON itself: what it drew is what this response carried.
  const json = page.waitForResponse((response) => response.url().includes('format=json'));
  const navigation = await page.goto(`${demo.base}/debug/heap`);
  assert.equal(navigation?.headers()['content-type'], 'text/html; charset=utf-8');
  const data = (await (await json).json()) as HeapView;
  await page.waitForSelector('#sites tbody tr');
  const readRows = (): Promise<Row[]> =>
    page.$$eval('#sites tbody tr', (rows) =>
      rows.map((row) => ({
        key: row.getAttribute('data-key') ?? '',
        function: row.querySelector('td')?.textContent ?? '',
        suspected: row.querySelector('.badge') !== null,
        routes: row.querySelector('td.routes')?.textContent ?? '',
        points: (row.querySelector('svg.spark polyline')?.getAttribute('points') ?? '').split(' ').filter(Boolean).length,
      })),
    );

  const rows = await readRows();
  assert.equal(rows.length, data.sites.length);
  const [first] = rows;
  assert.ok(first, 'the table has rows');
  assert.equal(first.function, demo.suspected, `the leak first: ${rows.map((row) => row.function).join(', ')}`);
  assert.ok(first.suspected, 'marked suspected');
  assert.match(first.routes, /^GET \/orders\/:id \d+ %/, 'the route its bytes come from');
  assert.ok(first.points >= 10, `a sparkline of the window: ${first.points} points`);
  const leakKey = first.key;
  // The log's format: one frame a line, most recent call first (built-ins it called come before it).
  assert.match((await page.textContent('#traceback')) ?? '', new RegExp(`^${demo.suspected} \\(examples/express-demo\\.mjs:\\d+:\\d+\\)$`, 'm'));
  assert.match(await page.textContent('#process') ?? '', /heap used \/ limit.*reader\s*native/s);

  const directory = await mkdtemp(join(tmpdir(), 'heapwatch-page-'));
  const screenshot = join(directory, 'heap-page.png');
  await page.screenshot({ path: screenshot, fullPage: true });
  t.diagnostic(`screenshot: ${screenshot}`);
  // To refresh docs/heap-page.png: HEAPWATCH_SCREENSHOT=docs/heap-page.png
  if (process.env['HEAPWATCH_SCREENSHOT']) await copyFile(screenshot, join(repoRoot, process.env['HEAPWATCH_SCREENSHOT']));

  // Click the widest frame where the suspect allocates: the table keeps the sites of the stacks through it.
  const frames = await page.$$('#flame .frame.suspect');
  assert.ok(frames.length > 0, 'the suspect is marked in the flame graph');
  const widths = await Promise.all(frames.map(async (frame) => (await frame.boundingBox())?.width ?? 0));
  const widest = frames[widths.indexOf(Math.max(...widths))];
  assert.ok(widest);
  const path = (await widest.getAttribute('data-path')) ?? '';
  await widest.click();
  const narrowed = await readRows();
  const prefix = path.split('/').slice(1).map(Number);
  const through = new Set(
    data.stacks.stacks.filter((stack) => prefix.every((index, depth) => stack.frames[stack.frames.length - 1 - depth] === index)).map((stack) => stack.site),
  );
  const expected = data.sites.filter((site) => through.has(site.key)).map((site) => site.key);
  assert.deepEqual(narrowed.map((row) => row.key).sort(), expected.sort());
  assert.ok(narrowed.length < rows.length, `narrowed from ${rows.length} to ${narrowed.length} rows`);
  assert.ok(narrowed.some((row) => row.key === leakKey));
  await page.click('#clear-filter');
  assert.equal((await readRows()).length, rows.length);

  // Sorting by a column, then back.
  await page.click('th[data-sort="count"]');
  const counts = await page.$$eval('#sites tbody tr td:nth-child(4)', (cells) => cells.map((cell) => Number(cell.textContent)));
  assert.deepEqual(counts, [...counts].sort((a, b) => b - a));

  assert.deepEqual(problems, []);
});
