// Soak: does a service watched by heapwatch at its defaults keep a flat memory for half an hour
// under steady request load? (Issue 13.)
//   nice -n 10 taskset -c 0 node bench/soak.mjs [--minutes=30] [--rate=200] [--out=DIR]
// Writes soak.md (a table per minute and a verdict per series), soak.svg (the same series drawn)
// and soak.json (the figures) into DIR, by default bench/results/<UTC stamp>/; progress goes to stderr.
//
// Two copies of bench/servers/soak-app.mjs run side by side: the demo's app with its leak switched
// off (a bounded ring of recent order views instead of a map nothing empties: the demo's leak
// would make RSS grow by design), one with `app.use(heapwatch())` and nothing else set, one
// without heapwatch. This process sends each `--rate` requests/s to /orders/:id over loopback
// (keep-alive, on 64 connections per app opened before the load starts), counts answers and
// failures, scrapes the watched app's /metrics every minute (Prometheus's view: series with a
// site label, against topSites 10 + suspects), and every minute asks both apps for their memory
// after two gc() calls. heapwatch's own retained memory is the watched app's heapUsed +
// arrayBuffers minus the bare app's, as bench/own-memory.mjs takes it (there, before and after the
// monitor in one process; here, two processes at the same minute, so that the app's own drift
// cancels): it includes heapwatch's code, pino, prom-client and its default metrics, the monitor's
// windows and caches. heapwatch's log (pino on stdout, its default) goes to heapwatch.log beside
// the results.
//
// Flat: the least-squares slope over the second half of the run, times the second half's span,
// within 5 % of the first half's mean level or 1 MiB, whichever is larger; not flat when beyond it
// even less two standard errors; noise otherwise (bench/lib/flatness.mjs).
import http from 'node:http';
import { fork } from 'node:child_process';
import { openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { flatness } from './lib/flatness.mjs';
import { parseFlags, shellCommand } from './lib/cli.mjs';
import { resultsDir } from './lib/results-dir.mjs';
import { metricValue, siteSeriesOf } from './lib/site-series.mjs';
import { lineChartSvg } from './lib/svg-plot.mjs';

const flags = parseFlags(process.argv.slice(2), { minutes: '30', rate: '200', out: '' });
const MINUTES = Number(flags.minutes);
const RATE = Number(flags.rate);
const TOP_SITES = 10; // heapwatch's default topSites
const TOLERANCE = { fraction: 0.05, floor: 2 ** 20 };
const REQUEST_TIMEOUT_MS = 10_000;
// Connections per app, all opened before the load starts (see openConnections()).
const MAX_SOCKETS = 64;
// Opening them is no request of the load: on a starved core it may take long, and a failure there ends the run.
const CONNECT_TIMEOUT_MS = 120_000;
const MiB = 2 ** 20;
const out = resultsDir(flags.out);
const app = fileURLToPath(new URL('./servers/soak-app.mjs', import.meta.url));
const log = (message) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${message}\n`);

function start(kind) {
  const stdout = kind === 'watched' ? openSync(join(out, 'heapwatch.log'), 'w') : 'ignore';
  const child = fork(app, [kind], { execArgv: ['--expose-gc'], stdio: ['ignore', stdout, 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`${kind} app exited with ${code}`)));
    child.once('message', ({ port }) => resolve({ kind, child, port, answered: 0, failed: 0, agent: new http.Agent({ keepAlive: true, maxSockets: MAX_SOCKETS }) }));
  });
}

// Scrapes open a connection of their own, as Prometheus does, apart from the load's pool.
function request(target, path, agent = target.agent, timeoutMs = REQUEST_TIMEOUT_MS) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port: target.port, path, agent, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk) => (body += chunk));
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`${path}: ${res.statusCode}`))));
    });
    req.on('timeout', () => req.destroy(new Error(`${path}: no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

function measure(target) {
  return new Promise((resolve) => {
    target.child.once('message', resolve);
    target.child.send('measure');
  });
}

// Each app's pool is opened before the load starts: MAX_SOCKETS requests at once to /health, so
// that the agent opens every connection it may use, and the load then only reuses them. Since
// libuv 1.45 (Node 20) a server accepts one connection per turn of its event loop. Started cold,
// the load made the agent open up to 64 connections in its first seconds, while each app was still
// slow; on a starved core an app's turn then lasts hundreds of ms (it runs a few ms, then waits
// its turn on the CPU, and the next turn has that much more to do), the connections waited in the
// kernel's accept queue one turn each, and requests sent on the last of them had no answer in 10 s
// (RELIABILITY.md, Long runs): the benchmark's start, not the soak it measures.
async function openConnections(target) {
  await Promise.all(Array.from({ length: MAX_SOCKETS }, () => request(target, '/health', target.agent, CONNECT_TIMEOUT_MS)));
  const open = Object.values(target.agent.freeSockets).flat().length;
  if (open !== MAX_SOCKETS) throw new Error(`${target.kind} app: ${open} connections open, not ${MAX_SOCKETS}`);
}

const watched = await start('watched');
const bare = await start('bare');
log(`apps on ports ${watched.port} (heapwatch at its defaults) and ${bare.port} (bare); ${RATE} requests/s to each for ${MINUTES} min; results in ${out}`);
const opening = Date.now();
await Promise.all([openConnections(watched), openConnections(bare)]);
log(`${MAX_SOCKETS} connections open to each app in ${Date.now() - opening} ms`);

let sent = 0;
const failures = new Map();
const loadStarted = Date.now();
const load = setInterval(() => {
  for (let i = 0; i < RATE / 20; i++) {
    const path = `/orders/${sent++}?ref=soak`;
    for (const target of [watched, bare]) {
      request(target, path).then(
        () => target.answered++,
        (error) => {
          target.failed++;
          // One line per app and cause, with the minute of the first and the count.
          const cause = `${target.kind} app, ${error.message.replace(/\/orders\/\d+\?ref=soak/, '/orders/:id')}`;
          const seen = failures.get(cause) ?? `${0} (first at ${((Date.now() - loadStarted) / 60_000).toFixed(1)} min)`;
          failures.set(cause, seen.replace(/^\d+/, (n) => String(Number(n) + 1)));
        },
      );
    }
  }
}, 50);

const rows = [];
const started = Date.now();
for (let minute = 1; minute <= MINUTES; minute++) {
  await new Promise((resolve) => setTimeout(resolve, started + minute * 60_000 - Date.now()));
  // A failed scrape is recorded (an empty page: no series) rather than ending a half-hour run.
  const page = await request(watched, '/metrics', false).catch((error) => {
    failures.set(`scrape of minute ${minute}`, error.message);
    return '';
  });
  const { series, sites } = siteSeriesOf(page);
  const [w, b] = [await measure(watched), await measure(bare)];
  const row = {
    minute,
    rss: w.rss,
    heapUsed: w.heapUsed,
    own: w.heapUsed + w.arrayBuffers - (b.heapUsed + b.arrayBuffers),
    bareRss: b.rss,
    bareHeapUsed: b.heapUsed,
    trackedSites: w.stats.trackedSites,
    droppedSites: w.stats.droppedSites,
    readings: w.stats.readings,
    readingErrors: w.stats.readingErrors,
    suspicionsRaised: w.stats.suspicionsRaised,
    suspects: w.suspects,
    siteSeries: series,
    siteLabels: sites,
    siteBound: TOP_SITES + (metricValue(page, 'heapwatch_leak_suspects') ?? 0),
    answered: watched.answered,
    failed: watched.failed + bare.failed,
  };
  rows.push(row);
  log(`minute ${minute}: RSS ${(row.rss / MiB).toFixed(1)} MiB, heap used ${(row.heapUsed / MiB).toFixed(1)} MiB, own ${(row.own / MiB).toFixed(2)} MiB, ${row.trackedSites} sites tracked, ${row.siteLabels} labelled, ${row.answered} answered, ${row.failed} failed`);
}

clearInterval(load);
// Let the last requests finish before the apps close.
await new Promise((resolve) => setTimeout(resolve, REQUEST_TIMEOUT_MS + 1000));
for (const target of [watched, bare]) {
  target.child.removeAllListeners('exit');
  target.child.send('stop');
  target.agent.destroy();
}

const mib = (bytes) => (bytes / MiB).toFixed(2);
const seriesOf = (key) => rows.map((r) => ({ x: r.minute, y: r[key] }));
const verdicts = [
  ['RSS, watched app', 'rss'],
  ['heap used, watched app', 'heapUsed'],
  ["heapwatch's own retained memory", 'own'],
  ['RSS, bare app (for comparison)', 'bareRss'],
].map(([name, key]) => ({ name, key, ...flatness(seriesOf(key), TOLERANCE) }));
const last = rows.at(-1);
const lines = [
  '# Soak: heapwatch at its defaults under steady load',
  '',
  `\`${shellCommand()}\` — Node ${process.version}, ${MINUTES} min, ${RATE} requests/s to each app over loopback, started ${new Date(started).toISOString()}.`,
  '',
  "The app: examples/express-demo.mjs's routes with the demo's leak switched off (the last 1000 order views kept, not all), " +
    '`app.use(heapwatch())` with nothing else set (readings every 10 s, a 60 min window, 512 KiB sampling, maxTrackedSites 2000, topSites 10), ' +
    'beside the same app without heapwatch under the same load. Memory after two gc() calls, every minute. ' +
    "own = (heapUsed + arrayBuffers) of the watched app minus the bare app's: heapwatch's code and libraries, its metrics, the monitor's windows and caches.",
  '',
  '| minute | RSS MiB | heap used MiB | own MiB | bare RSS MiB | bare heap used MiB | tracked sites | dropped | readings | site-labelled series (sites) on /metrics | bound (topSites + suspects) | answered | failed |',
  '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ...rows.map(
    (r) =>
      `| ${r.minute} | ${mib(r.rss)} | ${mib(r.heapUsed)} | ${mib(r.own)} | ${mib(r.bareRss)} | ${mib(r.bareHeapUsed)} | ${r.trackedSites} | ${r.droppedSites} | ${r.readings} | ${r.siteSeries} (${r.siteLabels}) | ${r.siteBound} | ${r.answered} | ${r.failed} |`,
  ),
  '',
  `Flat: the second half's least-squares slope × its span (the change) within max(${TOLERANCE.fraction * 100} % of the first half's mean, ${TOLERANCE.floor / MiB} MiB): **yes**. ` +
    "**no** when the change is beyond that even less two standard errors of the slope; **noise** when the series swings too much from one minute to the next for the run to tell.",
  '',
  "| series | first half's mean MiB | second half's slope MiB/min | change over the second half MiB (± 2 s.e.) | allowed MiB | flat |",
  '|---|---|---|---|---|---|',
  ...verdicts.map((v) => `| ${v.name} | ${mib(v.level)} | ${(v.slope / MiB).toFixed(3)} | ${mib(v.change)} ± ${mib(v.margin)} | ${mib(v.allowed)} | ${v.flat === undefined ? 'too short to say' : `**${v.flat}**`} |`),
  '',
  `Requests: ${watched.answered} answered by the watched app, ${bare.answered} by the bare one, ${watched.failed + bare.failed} failed` +
    (failures.size ? ` (${[...failures].map(([cause, count]) => `${cause}: ${count}`).join('; ')})` : '') +
    `. Readings: ${last.readings}, ${last.readingErrors} failed. Suspicions raised: ${last.suspicionsRaised}` +
    (last.suspects.length ? `; suspects at the end: ${last.suspects.join(', ')}` : '') +
    `. Site labels on /metrics at most ${Math.max(...rows.map((r) => r.siteLabels))} sites (bound ${TOP_SITES} + suspects). heapwatch's log: heapwatch.log.`,
  '',
  '![RSS, heap used and own memory per minute](soak.svg)',
];
writeFileSync(join(out, 'soak.md'), `${lines.join('\n')}\n`);
// The figures behind the table, to judge them again by another rule.
writeFileSync(join(out, 'soak.json'), `${JSON.stringify({ command: shellCommand(), node: process.version, rate: RATE, minutes: MINUTES, rows }, null, 1)}\n`);
writeFileSync(
  join(out, 'soak.svg'),
  lineChartSvg({
    title: `Soak: heapwatch at its defaults, ${RATE} requests/s, ${MINUTES} min`,
    xLabel: 'minutes',
    yLabel: 'MiB',
    series: [
      { name: 'RSS (watched)', points: seriesOf('rss').map((p) => ({ x: p.x, y: p.y / MiB })) },
      { name: 'heap used (watched)', points: seriesOf('heapUsed').map((p) => ({ x: p.x, y: p.y / MiB })) },
      { name: 'RSS (bare)', points: seriesOf('bareRss').map((p) => ({ x: p.x, y: p.y / MiB })) },
      { name: "heapwatch's own", points: seriesOf('own').map((p) => ({ x: p.x, y: p.y / MiB })) },
    ],
  }),
);
log(`wrote ${join(out, 'soak.md')} and soak.svg`);
