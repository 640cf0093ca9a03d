// How long a leak runs before heapwatch suspects it, and how often heapwatch suspects a site
// that does not leak.
//   node bench/detection.mjs [--part=all|delay|false-alarms] [--options=defaults,128k,demo,alloc,...]
//        [--alarm-options=defaults] [--minutes=30] [--max-minutes=auto] [--warmup-seconds=30]
//        [--rates=10000,100000,1000000|none] [--large-site=2000|none] [--monitor-warmup-ms=default]
// (npm run build first.)
//
// delay: one process per leak and option set. Each runs request-like churn (every 10 ms, 50 rows
// built and serialised to JSON, then dropped) under a monitor started with the process; after
// --warmup-seconds of churn alone, a leak starts: 1 KB entries (an array of 118 numbers in a small
// object, 1041 B of heap on Node 20) kept in a module-level array, at the rate asked, kept against
// the clock. With --large-site, one more process per option set leaks at that rate (bytes/s) into
// a site that already holds 100 MB: the same function filled it at start. The time is counted
// from the leak's start to the first `leak-suspected` event at the leaking function; suspicions
// anywhere else are listed apart. A process gives up after --max-minutes of leak (auto: 25 min
// at options with a window up to 10 min, 70 min above; 5 min at the demo's options).
// Synthetic churn rather than an Express app under load, so that the processes stay light.
//
// false-alarms: one process per scenario of test/scenarios/scenarios.mjs without `leakSites` or
// `leakFile` (driven every STEP_MS, as test/scenarios/run-scenario.mjs drives them), plus an
// Express 5 app behind `app.use(heapwatch())` with a loopback load loop of 100 requests/s and
// no leak, each for --minutes at each of --alarm-options, counting `leak-suspected` events.
//
// Option sets: defaults (heapwatch's), 128k and 512k (the defaults at another sampling interval),
// pause300 (the defaults with forcedGcPauseBudgetMs: 300, which lets the 100 MB site be forced),
// alloc (the defaults with allocations: true, Node 26),
// demo (the demo's: readings every second over a 20 s window, 32 KiB).
//
// Every process of both parts runs at the same time, so that --part=all takes about
// max(--minutes, warm-up + --max-minutes). Prints a Markdown table per part, with each process's
// CPU time over its wall time: what the concurrent processes take of the machine.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { cpus, loadavg } from 'node:os';
import { defaults } from 'heapwatch';
import { parseFlags, shellCommand } from './lib/cli.mjs';
import { scenarios } from '../test/scenarios/scenarios.mjs';

const flags = parseFlags(process.argv.slice(2), {
  part: 'all',
  options: 'defaults,128k,demo',
  'alarm-options': 'defaults',
  minutes: '30',
  'max-minutes': 'auto',
  'warmup-seconds': '30',
  rates: '10000,100000,1000000',
  'large-site': '2000',
  'monitor-warmup-ms': 'default',
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
const minutes = positive('minutes');
const warmupSeconds = positive('warmup-seconds');
const rates = flags.rates === 'none' ? [] : flags.rates.split(',').map(Number);
if (rates.some((rate) => !(rate > 0))) throw new Error(`Invalid --rates="${flags.rates}" - expected positive bytes per second, comma-separated`);
const largeSiteRate = flags['large-site'] === 'none' ? undefined : positive('large-site');
const LARGE_SITE_BYTES = 100e6;

const OPTION_SETS = {
  defaults: { label: 'default', options: {} },
  '128k': { label: 'default, 128 KiB', options: { samplingIntervalBytes: 128 * 1024 } },
  '512k': { label: 'default, 512 KiB', options: { samplingIntervalBytes: 512 * 1024 } },
  pause300: { label: 'default, forced GCs up to 300 ms', options: { forcedGcPauseBudgetMs: 300 } },
  alloc: { label: 'default, allocation mode', options: { allocations: true } },
  demo: {
    label: "demo's",
    options: { intervalMs: 1000, windowMs: 20_000, growthThresholdBytes: 2 * 1024 * 1024, samplingIntervalBytes: 32 * 1024 },
  },
};
const setList = (name) => {
  const sets = flags[name].split(',');
  for (const set of sets) if (!(set in OPTION_SETS)) throw new Error(`Invalid --${name}="${flags[name]}" - expected a comma-separated list of ${Object.keys(OPTION_SETS).join(', ')}`);
  return sets;
};
const optionSets = setList('options');
// --monitor-warmup-ms: every set's warmupMs (heapwatch's is 10 min): with the leak started as the
// warm-up ends (--warmup-seconds at the same time), a delay measures the same thing sooner.
if (flags['monitor-warmup-ms'] !== 'default') {
  const warmupMs = positive('monitor-warmup-ms');
  for (const set of Object.values(OPTION_SETS)) set.options = { ...set.options, warmupMs };
}
const alarmSets = setList('alarm-options');
const windowMsOf = (set) => OPTION_SETS[set].options.windowMs ?? defaults.windowMs;
const maxMinutesOf = (set) => {
  if (flags['max-minutes'] !== 'auto') return positive('max-minutes');
  const windowMinutes = windowMsOf(set) / 60_000;
  return windowMinutes < 1 ? 5 : windowMinutes <= 10 ? 25 : 70;
};

// ---- the processes -----------------------------------------------------------------------------

const jobs = [];
if (part !== 'false-alarms') {
  for (const set of optionSets) {
    const leaks = rates.map((rate) => ({ rate, holdingBytes: 0 }));
    // The slow leak inside a large site needs the long horizons: not at the demo's 20 s window.
    if (largeSiteRate !== undefined && windowMsOf(set) >= 60_000) leaks.push({ rate: largeSiteRate, holdingBytes: LARGE_SITE_BYTES });
    for (const { rate, holdingBytes } of leaks) {
      jobs.push({
        part: 'delay',
        rate,
        holdingBytes,
        set,
        maxMinutes: maxMinutesOf(set),
        spec: {
          workload: 'leak',
          rateBytesPerSecond: rate,
          holdingBytes,
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
  for (const set of alarmSets) {
    const options = OPTION_SETS[set].options;
    for (const name of names) {
      jobs.push({ part: 'false-alarms', name, set, spec: { workload: 'scenario', scenario: name, options, endAtSeconds: minutes * 60 } });
    }
    jobs.push({
      part: 'false-alarms',
      name: 'Express 5 app, `app.use(heapwatch())`, 100 requests/s over loopback (no leak)',
      set,
      spec: { workload: 'express', options, endAtSeconds: minutes * 60 },
    });
    // The warm-up measured from outside (DESIGN.md): a cache of 30 000 entries (~30 MB) filled by
    // half of 400 requests/s — 200/s — over the first 150 s after start, then turning over.
    jobs.push({
      part: 'false-alarms',
      name: 'Express 5 app warming a 30 000-entry cache (~30 MB) over its first 150 s, then turning over',
      set,
      spec: { workload: 'express', options, requestsPerSecond: 400, cacheEntries: 30_000, endAtSeconds: minutes * 60 },
    });
  }
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

const leakName = (job) => `${formatRate(job.rate)}${job.holdingBytes ? ` in a site holding ${job.holdingBytes / 1e6} MB` : ''}`;
const describe = (job) =>
  job.part === 'delay' ? `leak ${leakName(job)}, ${OPTION_SETS[job.set].label} options:` : `${job.name} (${OPTION_SETS[job.set].label} options):`;
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
// In allocation mode every reading forces a full GC: the readings skipped past the pause budget
// and the sampler's start-overs say how much of the run the detector saw.
const gcsOf = (job) =>
  !job.done ? '—' : job.spec.options.allocations ? `${job.done.stats.requestedGcs} (readings skipped: ${job.done.stats.skippedGcs}, sampler start-overs: ${job.done.stats.samplerRestarts})` : String(job.done.stats.requestedGcs);
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
  out('| leak | options | seconds from the leak\'s start to the suspicion | over a horizon of | growth then | suspected site | other suspicions (time since the process started) | requested GCs | CPU of the process (% of one core) |');
  out('|---|---|---|---|---|---|---|---|---|');
  for (const job of delayJobs) {
    const hit = job.events.find((e) => e.type === 'suspected' && e.atLeakSite);
    const others = job.events.filter((e) => e.type === 'suspected' && !e.atLeakSite).map((e) => `${siteOf(e)} at ${at(e)}`);
    const seconds = job.failure ? `failed: ${job.failure}` : hit ? `${Math.round(hit.sinceLeakSeconds)} s` : `not within ${job.maxMinutes} min`;
    const horizon = hit ? `${Math.round(hit.horizonMs / 1000)} s` : '—';
    const growth = hit ? `${(hit.growthBytes / 1e6).toFixed(1)} MB` : '—';
    out(
      `| ${leakName(job)} | ${OPTION_SETS[job.set].label} | ${seconds} | ${horizon} | ${growth} | ${hit ? siteOf(hit) : '—'} | ${others.join('; ') || 'none'} | ` +
        `${gcsOf(job)} | ${cpuOf(job)} |`,
    );
  }
  out();
  out(
    `Options: the defaults read every ${defaults.intervalMs / 1000} s and judge over horizons up to a ${defaults.windowMs / 60_000} min window ` +
      `(${defaults.growthThresholdBytes / 1048576} MiB threshold over the window, twice that over the shorter horizons, sampling every ` +
      `${defaults.samplingIntervalBytes / 1024} KiB); the demo's are \`${JSON.stringify(OPTION_SETS.demo.options)}\`. The leak keeps ` +
      '1 KB entries (an array of 118 numbers in a small object: 1041 B of heap on Node 20) in a module-level array, from `rememberEntry`, ' +
      'called through a call site that TurboFan cannot inline it into; the churn is 50 rows serialised to JSON every 10 ms. ' +
      `"in a site holding ${LARGE_SITE_BYTES / 1e6} MB": \`rememberEntry\` filled it with that many bytes when the process started.`,
  );
}

const alarmJobs = jobs.filter((job) => job.part === 'false-alarms');
if (alarmJobs.length > 0) {
  out();
  out(`### False alarms: non-leaking workloads, ${minutes} min each`);
  out();
  out('| scenario | options | minutes | leak suspicions | sites and times (since the process started) | requested GCs | CPU of the process (% of one core) |');
  out('|---|---|---|---|---|---|---|');
  for (const job of alarmJobs) {
    const suspicions = job.events.filter((e) => e.type === 'suspected');
    const count = job.failure ? `failed: ${job.failure}` : String(suspicions.length);
    out(
      `| ${job.name} | ${OPTION_SETS[job.set].label} | ${minutesOf(job)} | ${count} | ${suspicions.map((e) => `${siteOf(e)} at ${at(e)}`).join('; ') || '—'} | ` +
        `${gcsOf(job)} | ${cpuOf(job)} |`,
    );
  }
  out();
  out(
    'A site is judged over every horizon it has been watched for, from the shortest (four readings) on. The scenarios are ' +
      "test/scenarios/scenarios.mjs's without a leak, driven every 10 ms, each with the churn of a request handler.",
  );
}

const totalCpu = jobs.reduce((sum, job) => sum + (job.done?.cpuSeconds ?? 0), 0);
out();
out(`${jobs.length === 1 ? 'The process' : `All ${jobs.length} processes together`} used ${(totalCpu / 60).toFixed(1)} CPU-minutes in ${elapsed()}: ${Math.round((100 * totalCpu) / ((Date.now() - started) / 1000))}% of one core on average.`);
console.log(lines.join('\n'));
