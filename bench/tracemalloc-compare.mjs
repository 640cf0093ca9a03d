// How much Python's tracemalloc slows down its own documentation's kind of example, beside how
// much heapwatch slows down the port of it (examples/tracemalloc.mjs): 100 lists of 100 objects,
// each holding 100 random bytes, the allocating part repeated --repeat times so that start-up
// does not dominate. Every measurement is one fresh process, timed inside the program (Python:
// time.perf_counter(); Node: performance.now()); every round runs each tracer setting once, in an
// order rotated from round to round (A/B interleaved), and the slowdown of a round is its time
// with the tracer over the same round's time without it.
//   node bench/tracemalloc-compare.mjs [--rounds=7] [--repeat=50]
// (npm run build first.) The Python side runs only where `python3` is found.
// Prints a Markdown table: runtime, tracer, setting, median slowdown [min–max], for the workload
// alone and for the whole span of the example (snapshot, workload, snapshot, comparison).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { cpus } from 'node:os';
import { medianOf, parseFlags, shellCommand } from './lib/cli.mjs';

const flags = parseFlags(process.argv.slice(2), { rounds: '7', repeat: '50' });
const rounds = Number(flags.rounds);
const repeat = Number(flags.repeat);
if (!(rounds >= 1 && repeat >= 1)) throw new Error(`--rounds and --repeat must be positive integers, got ${flags.rounds} and ${flags.repeat}`);

const pythonScript = fileURLToPath(new URL('./python/tracemalloc_example.py', import.meta.url));
const nodeScript = fileURLToPath(new URL('./lib/tracemalloc-port.mjs', import.meta.url));

const python = spawnSync('python3', ['--version'], { encoding: 'utf8' });
const pythonVersion = python.status === 0 ? python.stdout.trim() || python.stderr.trim() : undefined;

// A setting is one command; `baseline` names the untraced setting of the same runtime.
const settings = [
  ...(pythonVersion
    ? [
        { runtime: pythonVersion, tracer: 'none', setting: 'tracemalloc off', command: ['python3', pythonScript, '--frames=off', '--json'] },
        { runtime: pythonVersion, tracer: 'tracemalloc', setting: '`tracemalloc.start()`: 1 frame (the default)', command: ['python3', pythonScript, '--frames=1', '--json'] },
        { runtime: pythonVersion, tracer: 'tracemalloc', setting: '`tracemalloc.start(25)`: 25 frames', command: ['python3', pythonScript, '--frames=25', '--json'] },
      ]
    : []),
  { runtime: `Node ${process.version}`, tracer: 'none', setting: 'heapwatch off', command: [process.execPath, nodeScript, '--sampling=off'] },
  { runtime: `Node ${process.version}`, tracer: 'heapwatch', setting: '`startSampling()`: 128 KiB (the default)', command: [process.execPath, nodeScript, '--sampling=131072'] },
  { runtime: `Node ${process.version}`, tracer: 'heapwatch', setting: "`startSampling({ samplingIntervalBytes: 4096 })` (the docs' first example)", command: [process.execPath, nodeScript, '--sampling=4096'] },
].map((s) => ({ ...s, command: [...s.command, `--repeat=${repeat}`], runs: [] }));
const baselineOf = (s) => settings.find((b) => b.runtime === s.runtime && b.tracer === 'none');

function measure(setting) {
  const [file, ...args] = setting.command;
  const result = spawnSync(file, args, { encoding: 'utf8', cwd: fileURLToPath(new URL('..', import.meta.url)) });
  if (result.status !== 0) throw new Error(`${setting.setting}: exited ${result.status}: ${result.stderr}`);
  return JSON.parse(result.stdout.trim().split('\n').at(-1));
}

const started = Date.now();
for (let round = 0; round < rounds; round++) {
  for (let k = 0; k < settings.length; k++) {
    const setting = settings[(round + k) % settings.length];
    setting.runs[round] = measure(setting);
  }
  process.stderr.write(`round ${round + 1}/${rounds} done after ${Math.round((Date.now() - started) / 1000)} s\n`);
}

const range = (ratios) => `${medianOf(ratios).toFixed(2)}× [${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}]`;
console.log(`### Python's tracemalloc vs heapwatch on tracemalloc's example (${repeat} runs of 100 × 100 objects per measurement)\n`);
console.log(`\`${shellCommand()}\` — ${rounds} rounds, one fresh process per measurement, ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), ${new Date().toISOString().slice(0, 10)}\n`);
console.log('| runtime | tracer | setting | median time of the workload | slowdown of the workload, median [min–max] | slowdown with the snapshots and their comparison, median [min–max] |');
console.log('|---|---|---|---|---|---|');
for (const s of settings) {
  const base = baselineOf(s);
  const workload = s.runs.map((r) => r.workloadSeconds);
  if (s === base) {
    console.log(`| ${s.runtime} | ${s.tracer} | ${s.setting} | ${medianOf(workload).toFixed(3)} s | 1 (baseline) | 1 (baseline) |`);
    continue;
  }
  const slow = s.runs.map((r, i) => r.workloadSeconds / base.runs[i].workloadSeconds);
  const slowTotal = s.runs.map((r, i) => r.totalSeconds / base.runs[i].totalSeconds);
  console.log(`| ${s.runtime} | ${s.tracer} | ${s.setting} | ${medianOf(workload).toFixed(3)} s | ${range(slow)} | ${range(slowTotal)} |`);
}
if (!pythonVersion) console.log('\n`python3` was not found: the Python rows are missing.');
console.log(`\nThe slowdown of a round is that round's time with the tracer over its time without it (same runtime, same round).` +
  ` Python's rows trace every allocation (tracemalloc); Node's sample one allocation per interval on average (V8's sampling heap profiler, ${settings.find((s) => s.tracer === 'heapwatch')?.runs[0]?.reader ?? 'auto'} reader).` +
  ` Total wall clock: ${Math.round((Date.now() - started) / 1000)} s.`);
