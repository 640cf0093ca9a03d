// How long a leak runs before heapwatch suspects it, and how often heapwatch suspects a site
// that does not leak.
//   node bench/detection.mjs [--part=all|delay|false-alarms] [--options=both|defaults|demo]
//        [--minutes=30] [--max-minutes=auto] [--warmup-seconds=30] [--rates=10000,100000,1000000]
// (npm run build first.)
//
// delay: one process per leak rate and option set. Each runs request-like churn (every 10 ms,
// 50 rows built and serialised to JSON, then dropped)
// under a monitor started with the process; after --warmup-seconds of churn alone, a leak starts
// (1 KB entries kept in a module-level array, at the rate asked, kept against the clock). The time
// is counted from the leak's start to the first `leak-suspected` event at the leaking function;
// suspicions anywhere else are listed apart. A process gives up after --max-minutes of leak
// (auto: 25 min at the defaults, which judge over a 10 min window; 5 min at the demo's options,
// which judge over 20 s — a leak one window cannot show never shows later).
// Synthetic churn rather than an Express app under load, so that the six processes stay light.
//
// false-alarms: one process per scenario of test/scenarios/scenarios.mjs without `leakSites` or
// `leakFile` (driven every STEP_MS, as test/scenarios/run-scenario.mjs drives them), plus an
// Express 5 app behind `app.use(heapwatch())` with a loopback load loop of 100 requests/s and
// no leak, each for --minutes at heapwatch's default options, counting `leak-suspected` events.
//
// Every process of both parts runs at the same time, so that --part=all takes about
// max(--minutes, warm-up + --max-minutes): about 30 min with the flags' defaults. Prints a Markdown table per part, with each process's
// CPU time over its wall time: what the concurrent processes take of the machine.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { cpus, loadavg } from 'node:os';
import { defaults } from 'heapwatch';
import { parseFlags, shellCommand } from './lib/cli.mjs';
import { scenarios } from '../test/scenarios/scenarios.mjs';

const flags = parseFlags(process.argv.slice(2), {
  part: 'all',
  options: 'both',
  minutes: '30',
  'max-minutes': 'auto',
  'warmup-seconds': '30',
  rates: '10000,100000,1000000',
});
const oneOf = (name, values) => {
  if (!values.includes(flags[name])) throw new Error(`Invalid --${name}="${flags[name]}" - expected one of ${values.join(', ')}`);
  return flags[name];
};
const positive = (name) => {
  const value = Number(flags[name]);
  if (!(value > 0)) throw new Error(`Invalid --${name}="${flags[name]}" - expected a positive number`);
  return value;
};
const part = oneOf('part', ['all', 'delay', 'false-alarms']);
const optionSets = oneOf('options', ['both', 'defaults', 'demo']);
const minutes = positive('minutes');
const warmupSeconds = positive('warmup-seconds');
const rates = flags.rates.split(',').map(Number);
if (rates.some((rate) => !(rate > 0))) throw new Error(`Invalid --rates="${flags.rates}" - expected positive bytes per second, comma-separated`);

const OPTION_SETS = {
  defaults: { label: 'default', options: {}, maxMinutes: 25, windowMinutes: 10 },
  demo: {
    label: "demo's",
    options: { intervalMs: 1000, windowMs: 20_000, growthThresholdBytes: 2 * 1024 * 1024, samplingIntervalBytes: 32 * 1024 },
    maxMinutes: 5,
    windowMinutes: 20 / 60,
  },
};
const maxMinutesOf = (set) => (flags['max-minutes'] === 'auto' ? OPTION_SETS[set].maxMinutes : positive('max-minutes'));

// ---- the processes -----------------------------------------------------------------------------

const jobs = [];
if (part !== 'false-alarms') {
  for (const set of optionSets === 'both' ? ['defaults', 'demo'] : [optionSets]) {
    for (const rate of rates) {
      jobs.push({
        part: 'delay',
        rate,
        set,
        maxMinutes: maxMinutesOf(set),
        spec: {
          workload: 'leak',
          rateBytesPerSecond: rate,
          options: OPTION_SETS[set].options,
          warmupSeconds,
          endAtSeconds: warmupSeconds + maxMinutesOf(set) * 60,
          stopAtLeakSite: true,
        },
      });
    }
  }
}
if (part !== 'delay') {
  const names = Object.keys(scenarios).filter((name) => !scenarios[name].leakSites && !scenarios[name].leakFile);
  for (const name of names) {
    jobs.push({ part: 'false-alarms', name, spec: { workload: 'scenario', scenario: name, options: {}, endAtSeconds: minutes * 60 } });
  }
  jobs.push({
    part: 'false-alarms',
    name: 'Express 5 app, `app.use(heapwatch())`, 100 requests/s over loopback (no leak)',
    spec: { workload: 'express', options: {}, endAtSeconds: minutes * 60 },
  });
}

const child = fileURLToPath(new URL('./lib/watched-workload.mjs', import.meta.url));
const root = fileURLToPath(new URL('..', import.meta.url));
const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 60_000).toFixed(1)} min`;

function run(job) {
  return new Promise((resolve) => {
    job.events = [];
    let stdout = '';
    let stderr = '';
    const proc = spawn(process.execPath, [child, JSON.stringify(job.spec)], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    // A process that overstays its own limit by two minutes is stuck: stop it.
    const deadline = setTimeout(() => proc.kill('SIGKILL'), (job.spec.endAtSeconds + 120) * 1000);
    proc.stdout.on('data', (chunk) => {
      stdout += chunk;
      let newline;
      while ((newline = stdout.indexOf('\n')) >= 0) {
        const record = JSON.parse(stdout.slice(0, newline));
        stdout = stdout.slice(newline + 1);
        if (record.type === 'done') job.done = record;
        else job.events.push(record);
      }
    });
    proc.stderr.on('data', (chunk) => (stderr = (stderr + chunk).slice(-2000)));
    proc.on('close', (code, signal) => {
      clearTimeout(deadline);
      if (!job.done) job.failure = `exited ${signal ?? code}: ${stderr.trim().split('\n').at(-1) ?? ''}`;
      process.stderr.write(`${elapsed()}: ${describe(job)} ${job.failure ?? 'done'}\n`);
      resolve();
    });
  });
}

const describe = (job) => (job.part === 'delay' ? `leak ${formatRate(job.rate)}, ${OPTION_SETS[job.set].label} options:` : `${job.name}:`);
process.stderr.write(`${jobs.length} process${jobs.length === 1 ? '' : 'es'} started; the last should end after about ${Math.ceil(Math.max(...jobs.map((j) => j.spec.endAtSeconds)) / 60)} min\n`);
const progress = setInterval(() => process.stderr.write(`${elapsed()}: ${jobs.filter((j) => !j.done && !j.failure).length} still running\n`), 300_000);
await Promise.all(jobs.map(run));
clearInterval(progress);

// ---- the tables --------------------------------------------------------------------------------

function formatRate(bytesPerSecond) {
  if (bytesPerSecond >= 1e6) return `${Number((bytesPerSecond / 1e6).toPrecision(3))} MB/s`;
  if (bytesPerSecond >= 1e3) return `${Number((bytesPerSecond / 1e3).toPrecision(3))} KB/s`;
  return `${bytesPerSecond} B/s`;
}
const cpuOf = (job) => (job.done ? `${Math.round((100 * job.done.cpuSeconds) / job.done.elapsedSeconds)}%` : '—');
const siteOf = (event) => `\`${event.function}\` (${event.file}:${event.line})`;
const at = (event) => `${Math.round(event.atSeconds)} s`;
const minutesOf = (job) => (job.done ? (job.done.elapsedSeconds / 60).toFixed(1) : '—');

const lines = [];
const out = (line = '') => lines.push(line);
out(`\`${shellCommand()}\``);
out();
out(
  `Node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), load average ${loadavg()[0].toFixed(2)} at the end, ` +
    `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC; ${jobs.length} process${jobs.length === 1 ? '' : 'es'} at once, ${elapsed()} of wall clock.`,
);

const delayJobs = jobs.filter((job) => job.part === 'delay');
if (delayJobs.length > 0) {
  out();
  out(`### Time from a leak's start to its suspicion (after ${warmupSeconds} s of churn alone)`);
  out();
  out('| leak rate | options | seconds from the leak\'s start to the suspicion | suspected site | other suspicions (time since the process started) | CPU of the process (% of one core) |');
  out('|---|---|---|---|---|---|');
  for (const job of delayJobs) {
    const hit = job.events.find((e) => e.type === 'suspected' && e.atLeakSite);
    const others = job.events.filter((e) => e.type === 'suspected' && !e.atLeakSite).map((e) => `${siteOf(e)} at ${at(e)}`);
    const seconds = job.failure ? `failed: ${job.failure}` : hit ? `${Math.round(hit.sinceLeakSeconds)} s` : `not within ${job.maxMinutes} min`;
    out(`| ${formatRate(job.rate)} | ${OPTION_SETS[job.set].label} | ${seconds} | ${hit ? siteOf(hit) : '—'} | ${others.join('; ') || 'none'} | ${cpuOf(job)} |`);
  }
  out();
  out(
    `Options: the defaults read every 10 s and judge over a 10 min window (2 MiB threshold, 128 KiB sampling); the demo's are ` +
      `\`${JSON.stringify(OPTION_SETS.demo.options)}\`. The leak keeps 1 KB entries (a ~960-character string in a small object) ` +
      'in a module-level array, from `rememberEntry` (or `leakRoute`, where TurboFan inlines it); the churn is 50 rows serialised to JSON every 10 ms. ' +
      'As growth is measured between the first and the last quarter of a window, the smallest rate one window can show is about ' +
      'growthThresholdBytes / (0.75 × windowMs): ' +
      Object.values(OPTION_SETS)
        .map(({ label, options }) => `${formatRate(Math.round(((options.growthThresholdBytes ?? defaults.growthThresholdBytes) / (0.75 * (options.windowMs ?? defaults.windowMs))) * 1000))} at the ${label} options`)
        .join(', ') +
      '.',
  );
}

const alarmJobs = jobs.filter((job) => job.part === 'false-alarms');
if (alarmJobs.length > 0) {
  out();
  out(`### False alarms: non-leaking workloads, ${minutes} min each at the default options`);
  out();
  out('| scenario | minutes | leak suspicions | sites and times (since the process started) | CPU of the process (% of one core) |');
  out('|---|---|---|---|---|');
  for (const job of alarmJobs) {
    const suspicions = job.events.filter((e) => e.type === 'suspected');
    const count = job.failure ? `failed: ${job.failure}` : String(suspicions.length);
    out(`| ${job.name} | ${minutesOf(job)} | ${count} | ${suspicions.map((e) => `${siteOf(e)} at ${at(e)}`).join('; ') || '—'} | ${cpuOf(job)} |`);
  }
  out();
  out(
    `No site is judged before it has been watched for a whole window (10 min at the defaults): ${minutes} min of running ` +
      `${minutes > OPTION_SETS.defaults.windowMinutes ? `leaves ${minutes - OPTION_SETS.defaults.windowMinutes} min of verdicts` : 'gives no verdict at all'}. The scenarios are test/scenarios/scenarios.mjs's without a leak, ` +
      'driven every 10 ms, each with the churn of a request handler.',
  );
}

const totalCpu = jobs.reduce((sum, job) => sum + (job.done?.cpuSeconds ?? 0), 0);
out();
out(`${jobs.length === 1 ? 'The process' : `All ${jobs.length} processes together`} used ${(totalCpu / 60).toFixed(1)} CPU-minutes in ${elapsed()}: ${Math.round((100 * totalCpu) / ((Date.now() - started) / 1000))}% of one core on average.`);
console.log(lines.join('\n'));
