// What an instrumentation costs an Express 5 app per request: throughput and latency driven by
// autocannon on loopback at a fixed number of connections, each instrumentation against the bare
// app in the same round (A/B interleaved: every round runs every configuration once, in turn).
//   node bench/request-overhead.mjs [--rounds=5] [--seconds=6] [--connections=50]
//        [--configs=none,heapwatch,heapwatch-32k,heapwatch-512k] [--routes=hello,json] [--node=<path>]
// The app runs in a child process (on `--node`, default this Node); autocannon runs here, so the
// two share the machine's two cores. Prints one Markdown table per route: ratios to the bare app
// (`none`) of the same round, median [min–max] over the rounds.
// Beside throughput and latency, the app's CPU time per request (user + system, from
// /proc/<pid>/stat, all its threads: GC helpers included): on a shared machine, time another
// tenant steals from the app lowers its throughput but is not charged to its CPU time, so this
// ratio is the steadier one. Linux only (the column is left out elsewhere).
import { readFileSync } from 'node:fs';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { medianOf, parseFlags, shellCommand } from './lib/cli.mjs';

const flags = parseFlags(process.argv.slice(2), {
  rounds: '5',
  seconds: '6',
  connections: '50',
  configs: 'none,heapwatch,heapwatch-32k,heapwatch-512k',
  routes: 'hello,json',
  node: process.execPath,
});
const rounds = Number(flags.rounds);
const seconds = Number(flags.seconds);
const connections = Number(flags.connections);
const configs = flags.configs.split(',');
const routes = flags.routes.split(',');
if (configs[0] !== 'none') throw new Error('--configs must start with none, the baseline');
const appFile = fileURLToPath(new URL('./servers/express-app.mjs', import.meta.url));

/** Starts the app with one instrumentation; resolves with its base URL and a stop function. */
async function startApp(config) {
  const child = spawn(flags.node, [appFile, config], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  for await (const chunk of child.stdout) {
    output += chunk;
    const port = /port=(\d+)/.exec(output)?.[1];
    if (port) return { base: `http://127.0.0.1:${port}`, pid: child.pid, stop: () => (child.kill(), once(child, 'exit')) };
  }
  throw new Error(`the app with ${config} exited before listening`);
}

/** CPU seconds (user + system) the process has used so far, or NaN where /proc is not there. */
function cpuSeconds(pid) {
  try {
    // Fields after the command name (which is in parentheses and may hold spaces): utime is the
    // 12th, stime the 13th, in clock ticks of 1/100 s on Linux.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

function drive(url, duration) {
  return new Promise((resolve, reject) => {
    autocannon({ url, connections, duration, pipelining: 1 }, (error, result) => (error ? reject(error) : resolve(result)));
  });
}

/** results[config][route] = [{ rps, p50, p99 }, …], one per round. */
const results = Object.fromEntries(configs.map((config) => [config, Object.fromEntries(routes.map((route) => [route, []]))]));
const started = Date.now();
for (let round = 0; round < rounds; round++) {
  // Rotate the order, so no configuration always runs first (or right after a given other).
  const order = configs.map((_, i) => configs[(i + round) % configs.length]);
  for (const config of order) {
    const app = await startApp(config);
    try {
      for (const route of routes) {
        await drive(`${app.base}/${route}`, 1); // warm-up: JIT, connections
        const cpuBefore = cpuSeconds(app.pid);
        const result = await drive(`${app.base}/${route}`, seconds);
        const cpuPerRequest = (cpuSeconds(app.pid) - cpuBefore) / result.requests.total;
        if (result.non2xx > 0 || result.errors > 0) throw new Error(`${config} /${route}: ${result.non2xx} non-2xx, ${result.errors} errors`);
        results[config][route].push({ rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, cpu: cpuPerRequest });
      }
    } finally {
      await app.stop();
    }
  }
  process.stderr.write(`round ${round + 1}/${rounds} done (${Math.round((Date.now() - started) / 1000)} s)\n`);
}

const spread = (values, digits = 3) =>
  `${medianOf(values).toFixed(digits)} [${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)}]`;
const version = execFileSync(flags.node, ['--version'], { encoding: 'utf8' }).trim();

console.log(`\`${shellCommand()}\` — app on Node ${version}, autocannon on Node ${process.version}, ${connections} connections, ${seconds} s per measurement, ${rounds} rounds\n`);
for (const route of routes) {
  console.log(`/${route}: ratio to the bare app in the same round, median [min–max]\n`);
  const base = results.none[route];
  const withCpu = base.every((run) => Number.isFinite(run.cpu));
  console.log(`| instrumentation | throughput | p50 latency | p99 latency |${withCpu ? ' CPU per request |' : ''} req/s (median) |${withCpu ? ' CPU µs per request (median) |' : ''}`);
  console.log(`|---|---|---|---|${withCpu ? '---|' : ''}---|${withCpu ? '---|' : ''}`);
  for (const config of configs) {
    const runs = results[config][route];
    const ratio = (key) => runs.map((run, i) => run[key] / base[i][key]);
    const cpu = withCpu ? ` ${spread(ratio('cpu'))} |` : '';
    const cpuMicros = withCpu ? ` ${Math.round(medianOf(runs.map((run) => run.cpu)) * 1e6)} |` : '';
    console.log(`| ${config} | ${spread(ratio('rps'))} | ${spread(ratio('p50'), 2)} | ${spread(ratio('p99'), 2)} |${cpu} ${Math.round(medianOf(runs.map((run) => run.rps)))} |${cpuMicros}`);
  }
  console.log('');
}
