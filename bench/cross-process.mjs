// CPU across processes, at rest and at partial load: what a mostly idle service pays for
// heapwatch, which bench/cpu-per-request.mjs cannot see. That method switches configurations on
// and off inside one process in measurements of about a second, shorter than heapwatch's reading
// interval (10 s), so it charges a request for V8's sampler and for the few readings that fall in
// its measurement, but not for what heapwatch does between requests: the readings every 10 s, the
// forced full GCs, the detector, prom-client's default metrics. A service busy a few percent of
// the time pays mostly that.
//
// Configurations (bench/lib/cross-process-child.mjs): bare, heapwatch (`app.use(heapwatch())`),
// pprof (@datadog/pprof's `heap.start(512 * 1024, 64)`, dd-trace's defaults), and, to tell
// heapwatch's parts apart, heapwatch-no-default-metrics, heapwatch-no-forced-gc, heapwatch-no-readings and prom-client-defaults;
// on Node 26, allocation mode: heapwatch-allocations and pprof-allocations (dd-trace's default there); `<name>-again`
// is the same configuration in other processes; `<name>+no-memory-reducer` the same started with
// `--no-memory-reducer` (V8's major GCs once allocation slows down, which a process runs only after
// a first mark-compact of its own); `<name>+cpu-prof` the same with a CPU profile of its life
// written to /tmp/cross-process-cpu-prof as it exits (summarise with bench/lib/cpu-profile.mjs);
// `<name>+trace-gc` the same with V8's `--trace-gc` lines in /tmp/cross-process-trace-gc.
//
//   node bench/cross-process.mjs [--quick] [--configs=bare,bare-again,heapwatch,pprof]
//        [--processes=3] [--rounds=6] [--batch=200] [--route=/json] [--warmup=3000]
//        [--rest-seconds=60] [--duty=100,30,5] [--window-seconds=4,10,20] [--cpu=<core>|none]
//
// How:
// - Every configuration runs in --processes long-lived child processes (bench/lib/cross-process-child.mjs:
//   an Express app with the bench routes, as a user writes it), all alive for the whole run, all
//   pinned to one core (`taskset -c <core>`, the last core by default; --cpu=none leaves them
//   unpinned). Several processes per configuration, because two identical processes differ by a
//   few percent in CPU per request (one process each gave an A/A of 1.045): `bare-again`, the bare
//   app in other processes, is the A/A and says what the run resolves.
// - Requests are injected in-process (bench/lib/inject.mjs, no socket), a batch of --batch at a
//   time, on a message from this parent over IPC. The child answers with its CPU time
//   (process.cpuUsage(): user + system, every thread, exited ones too) and the clock as the message
//   arrived and as the batch ended. A window of a process runs from the arrival of its first batch
//   to the arrival of a last, empty batch sent when its next batch would have been due: its CPU
//   over the window is the difference of the two readings, so the rest between batches is counted,
//   and every window holds exactly one IPC wake per batch, whatever the configuration.
// - Duty cycle f (--duty, percent): a batch is due every T = b / f, where b is the time of a batch
//   of the bare app in the phase before (after warm-up for the first): the same arrival rate for
//   every configuration, so a slower one is busier, as a slower service would be. One core can
//   keep at most ⌊1/f⌋ processes at that duty at once, so the processes are measured in groups of
//   ⌊1/f⌋ (all of them when fewer), the group's batches served one after another in each cycle,
//   the other processes idle meanwhile (alive, not measured). At 100 %: one process at a time, batches back to back.
//   At 30 %: three at a time, each busy b out of every 3.3 b. At 5 %: up to twenty at a time.
//   Batches are scheduled against the clock (a late batch shortens the next rest). A window lasts
//   about --window-seconds (default 3 s / f, between 4 and 20 s: a few readings of heapwatch's in
//   the partial-load windows). The duty cycle achieved, busy time (the batches' wall time) over
//   the window's wall time, is printed per configuration.
// - Rounds rotate the order of the processes (configurations interleaved), so that each
//   configuration meets every moment of the round and every group mate; every process gets one
//   window per round and duty cycle.
// - CPU per request: total CPU over total requests of a configuration's windows, over the bare
//   app's, with a 95 % bootstrap interval that draws processes (each configuration on its own) and
//   rounds (the same for both): bench/lib/process-bootstrap.mjs. Below 100 %, where every
//   configuration gets the same arrival rate, the CPU per second of wall time beyond the bare app's
//   is printed too: comparable with the figures at rest.
// - At rest: after a warm-up of --warmup requests per process, and again after the load phases,
//   every process idles for --rest-seconds, and its CPU is read from /proc/<pid>/task/*/schedstat
//   (nanoseconds, every live thread) at the start and the end, without waking it: CPU ms per
//   second of wall time, per process. /proc/<pid>/stat's utime + stime (10 ms ticks, exited
//   threads too) is printed beside as the check.
// - heapwatch's counters (monitor.stats(): readings, clean readings, forced GCs), memory and CPU
//   are asked of every process, whatever its configuration, between phases only.
//
// What it resolves: at the defaults (3 processes, 6 rounds) the A/A's interval is about ±5–7 %
// on a shared machine — processes differ, and rounds of a few seconds see the neighbours' load —
// enough for the differences at rest and at 5 % busy, not for 1 % at 100 % (that is
// bench/cpu-per-request.mjs's job). More processes narrow it more than more rounds do.
//
// What it cannot see: a socket's cost (kernel, parsing: the same in every configuration); a
// service's concurrency (one batch at a time); dd-trace's other work (its profile exports every
// minute, its CPU profiler): `pprof` is @datadog/pprof's heap sampler alone. Processes idle while
// other processes are measured still share the core, so their timers steal wall time from the
// measured one (the same for every configuration: every process lives throughout).
//
// --quick: 2 rounds, 1 000 requests of warm-up, 20 s at rest, windows of 2, 4 and 8 s (about 3 min
// for 12 processes): to check that it works, not to resolve. Prints Markdown.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseFlags } from './lib/cli.mjs';
import { median, medianRange } from './lib/distribution.mjs';
import { procCpu, procCpuAvailable } from './lib/proc-cpu.mjs';
import { rateRatio, rateRatioInterval } from './lib/process-bootstrap.mjs';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const hasTaskset = (() => {
  try {
    execFileSync('taskset', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const flags = parseFlags(
  argv.filter((arg) => arg !== '--quick'),
  {
    configs: 'bare,bare-again,heapwatch,pprof',
    processes: '3',
    rounds: quick ? '2' : '6',
    batch: '200',
    route: '/json',
    warmup: quick ? '1000' : '3000',
    'rest-seconds': quick ? '20' : '60',
    duty: '100,30,5',
    'window-seconds': '',
    cpu: hasTaskset ? String(os.availableParallelism() - 1) : 'none',
  },
);

const configNames = flags.configs.split(',');
if (!configNames.includes('bare')) throw new Error(`--configs=${flags.configs} lacks "bare" - expected the bare app among the configurations: every ratio is taken against it`);
const processesEach = positiveInteger('processes');
const rounds = positiveInteger('rounds');
const batch = positiveInteger('batch');
const warmup = positiveInteger('warmup');
const restSeconds = Number(flags['rest-seconds']);
if (!(restSeconds >= 0)) throw new Error(`--rest-seconds=${flags['rest-seconds']} - expected a number of seconds, 0 to skip the rests`);
const route = flags.route;
const duties = flags.duty.split(',').map(Number);
if (duties.some((d) => !(d > 0 && d <= 100))) throw new Error(`--duty=${flags.duty} - expected percentages in (0, 100]`);
const windowSeconds = (() => {
  if (flags['window-seconds'] === '') return duties.map((d) => (quick ? clamp(1.2 / (d / 100), 2, 8) : clamp(3 / (d / 100), 4, 20)));
  const given = flags['window-seconds'].split(',').map(Number);
  if (given.length === 1) return duties.map(() => given[0]);
  if (given.length !== duties.length) throw new Error(`--window-seconds=${flags['window-seconds']} - expected one value, or one per --duty (${duties.length})`);
  return given;
})();
const cpu = flags.cpu;
if (cpu !== 'none' && !hasTaskset) throw new Error(`--cpu=${cpu} - taskset is not installed: expected --cpu=none`);
if (!procCpuAvailable()) throw new Error('/proc/<pid>/task/<tid>/schedstat cannot be read - expected Linux with scheduler statistics');

function positiveInteger(name) {
  const value = Number(flags[name]);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name}=${flags[name]} - expected a positive integer`);
  return value;
}
function clamp(value, low, high) {
  return Math.min(high, Math.max(low, value));
}

const nowMs = () => Number(process.hrtime.bigint()) / 1e6;
async function sleepUntil(ms) {
  const wait = ms - nowMs();
  if (wait > 0) await sleep(wait);
}
const log = (line) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`);

// ---- the processes --------------------------------------------------------------------------------

const childScript = fileURLToPath(new URL('./lib/cross-process-child.mjs', import.meta.url));
let ending = false;

/** A child process of one configuration; `ask` sends a message and resolves with its answer. */
function startChild(configuration, replica) {
  // `+no-memory-reducer` is a V8 flag the process must start with: set later, V8 has its reducer already.
  const flags = configuration.includes('+no-memory-reducer') ? ['--no-memory-reducer'] : [];
  // `+cpu-prof`: a CPU profile of the process's whole life, written to /tmp/cross-process-cpu-prof
  // as it exits (summarise with bench/lib/cpu-profile.mjs): where a configuration's CPU goes.
  if (configuration.includes('+cpu-prof')) flags.push('--cpu-prof', '--cpu-prof-dir=/tmp/cross-process-cpu-prof', `--cpu-prof-name=${configuration}-${replica}.cpuprofile`);
  // `+trace-gc`: V8's line per collection (`--trace-gc`, with its reason) written to
  // /tmp/cross-process-trace-gc/<configuration>-<replica>.log: which collections a configuration adds.
  let output = 2;
  if (configuration.includes('+trace-gc')) {
    flags.push('--trace-gc');
    mkdirSync('/tmp/cross-process-trace-gc', { recursive: true });
    output = openSync(`/tmp/cross-process-trace-gc/${configuration}-${replica}.log`, 'w');
  }
  const node = [process.execPath, ...flags, childScript, configuration, route];
  const command = cpu === 'none' ? node : ['taskset', '-c', cpu, ...node];
  // The child's standard output (heapwatch's pino logger) goes to our standard error, apart from the tables.
  const child = spawn(command[0], command.slice(1), { stdio: ['ignore', output, 2, 'ipc'] });
  const waiting = [];
  child.on('message', (message) => waiting.shift()?.(message));
  child.on('exit', (code, signal) => {
    if (ending) return;
    log(`${configuration} #${replica} (pid ${child.pid}) exited with ${signal ?? code} - expected it to live for the whole run`);
    endAll(1);
  });
  const handle = {
    configuration,
    replica,
    pid: child.pid,
    child,
    ask(message) {
      return new Promise((resolve) => {
        waiting.push(resolve);
        if (message) child.send(message);
      });
    },
  };
  handle.ready = handle.ask(null);
  return handle;
}

function endAll(code) {
  ending = true;
  for (const p of procs) if (p.child.exitCode === null) p.child.kill();
  process.exit(code);
}
process.on('SIGINT', () => endAll(130));

const startedAt = new Date();
const loadAtStart = os.loadavg();
// Interleaved: one process of each configuration, then the next of each, so that a rotation of
// this list mixes configurations everywhere.
const procs = [];
for (let replica = 0; replica < processesEach; replica++) {
  for (const configuration of configNames) {
    const p = startChild(configuration, replica);
    procs.push(p);
    await p.ready;
  }
}
log(`${procs.length} processes started${cpu === 'none' ? '' : ` on CPU ${cpu}`}`);

const ofConfig = (name) => procs.filter((p) => p.configuration === name);
const rotate = (list, by) => list.map((_, i) => list[(i + by) % list.length]);
const askAll = (message) => Promise.all(procs.map((p) => p.ask(message)));

// ---- warm-up: JIT, heap, heapwatch's first readings; and the time of a bare batch ----------------

const warmupBatches = Math.ceil(warmup / batch);
const batchTimes = new Map(procs.map((p) => [p, []]));
const warmupCpu = new Map(procs.map((p) => [p, []]));
for (const p of procs) {
  for (let k = 0; k < warmupBatches; k++) {
    const reply = await p.ask({ type: 'batch', requests: batch });
    batchTimes.get(p).push(reply.endMs - reply.startMs);
    warmupCpu.get(p).push((reply.cpuEndMicros - reply.cpuStartMicros) / batch);
  }
}
// The last batches of warm-up, where the JIT has settled: half of them, at most ten.
const tail = (list) => list.slice(-Math.max(1, Math.min(10, Math.floor(list.length / 2))));
const batchMs = median(ofConfig('bare').flatMap((p) => tail(batchTimes.get(p))));
const bareMicros = median(ofConfig('bare').flatMap((p) => tail(warmupCpu.get(p))));
log(`warm-up done: a bare batch of ${batch} takes ${batchMs.toFixed(1)} ms (${bareMicros.toFixed(1)} µs CPU per request)`);

/**
 * A phase's schedule from the time of a bare batch: re-made at the start of each phase from the
 * bare app's batches of the phase before, since the JIT keeps settling after warm-up and a batch
 * that got faster would leave the bare app below its duty cycle.
 */
function planPhase(percent, seconds, bareBatchMs) {
  const f = percent / 100;
  const together = Math.max(1, Math.min(procs.length, Math.floor(1 / f + 1e-9)));
  const cycleMs = f >= 1 ? bareBatchMs : bareBatchMs / f;
  const cycles = Math.max(1, Math.round((seconds * 1000) / cycleMs));
  const groups = Math.ceil(procs.length / together);
  return { percent, windowSeconds: seconds, batchMs: bareBatchMs, together, cycleMs, cycles, groups, seconds: (rounds * groups * cycles * cycleMs) / 1000 };
}
const plan = duties.map((percent, i) => planPhase(percent, windowSeconds[i], batchMs));
const plannedSeconds = plan.reduce((sum, phase) => sum + phase.seconds, 0) + 2 * (restSeconds + 2);
log(`planned: about ${(plannedSeconds / 60).toFixed(1)} min more (${plan.map((phase) => `${phase.percent} %: ${(phase.seconds / 60).toFixed(1)} min`).join(', ')}, rest ${restSeconds} s twice)`);

// ---- heapwatch's counters, asked of every process between phases ---------------------------------

const counterLog = [];
async function counters(label) {
  const replies = await askAll({ type: 'stats' });
  counterLog.push({ label, atMs: nowMs(), byProcess: new Map(procs.map((p, i) => [p, replies[i]])) });
}

// ---- at rest -------------------------------------------------------------------------------------

/** Settles, then reads every process's CPU from /proc before and after `restSeconds` of no request. */
async function rest(label) {
  await sleep(2000);
  const read = () => procs.map((p) => ({ atMs: nowMs(), ...procCpu(p.pid) }));
  const before = read();
  await sleep(restSeconds * 1000);
  const after = read();
  const result = new Map();
  procs.forEach((p, i) => {
    const seconds = (after[i].atMs - before[i].atMs) / 1000;
    result.set(p, {
      msPerSecond: (after[i].ns - before[i].ns) / 1e6 / seconds,
      statMsPerSecond: (after[i].statNs - before[i].statNs) / 1e6 / seconds,
      threadsChanged: after[i].threads !== before[i].threads,
    });
  });
  log(`at rest (${label}): done`);
  return result;
}

// ---- at a duty cycle -----------------------------------------------------------------------------

/**
 * One window of a group: `cycles` cycles of `cycleMs` (0: back to back), each serving one batch
 * to every member in turn; then, for each member, the empty batch that closes its window when its
 * next batch would have been due.
 */
async function runWindow(group, cycles, cycleMs) {
  const firstSentMs = [];
  const replies = group.map(() => []);
  const startMs = nowMs();
  for (let k = 0; k < cycles; k++) {
    if (cycleMs > 0) await sleepUntil(startMs + k * cycleMs);
    for (const [i, p] of group.entries()) {
      if (k === 0) firstSentMs[i] = nowMs();
      replies[i].push(await p.ask({ type: 'batch', requests: batch }));
    }
  }
  const closes = [];
  for (const [i, p] of group.entries()) {
    if (cycleMs > 0) await sleepUntil(firstSentMs[i] + cycles * cycleMs);
    closes.push(await p.ask({ type: 'batch', requests: 0 }));
  }
  return group.map((_, i) => {
    const first = replies[i][0];
    return {
      cpuMicros: closes[i].cpuStartMicros - first.cpuStartMicros,
      requests: cycles * batch,
      wallMs: closes[i].startMs - first.startMs,
      busyMs: replies[i].reduce((sum, r) => sum + (r.endMs - r.startMs), 0),
      // CPU per kind of thread over the window (ns; undefined without /proc).
      threadNs:
        first.threadsAtStart && closes[i].threadsAtStart
          ? Object.fromEntries(Object.keys(first.threadsAtStart).map((kind) => [kind, closes[i].threadsAtStart[kind] - first.threadsAtStart[kind]]))
          : undefined,
      // Garbage collections over the window, by kind (counts; the new space's size at the window's end).
      gcs: {
        scavenges: closes[i].gcsAtStart.scavenges - first.gcsAtStart.scavenges,
        majors: closes[i].gcsAtStart.majors - first.gcsAtStart.majors,
        promotedBytes: closes[i].gcsAtStart.promotedBytes - first.gcsAtStart.promotedBytes,
        newSpaceBytes: closes[i].gcsAtStart.newSpaceBytes,
      },
    };
  });
}

async function dutyPhase(phase) {
  const windows = new Map(procs.map((p) => [p, []]));
  const phaseStart = nowMs();
  for (let round = 0; round < rounds; round++) {
    const order = rotate(procs, round % procs.length);
    for (let g = 0; g < order.length; g += phase.together) {
      const group = order.slice(g, g + phase.together);
      const results = await runWindow(group, phase.cycles, phase.percent >= 100 ? 0 : phase.cycleMs);
      group.forEach((p, i) => windows.get(p).push(results[i]));
    }
    log(`${phase.percent} % busy: round ${round + 1}/${rounds}`);
  }
  return { ...phase, windows, tookSeconds: (nowMs() - phaseStart) / 1000 };
}

// ---- the run -------------------------------------------------------------------------------------

await counters('warm-up');
const restAfterWarmup = restSeconds > 0 ? await rest('after warm-up') : undefined;
await counters('at rest after warm-up');
const phases = [];
let bareBatchMs = batchMs;
for (const { percent, windowSeconds: seconds } of plan) {
  const phase = await dutyPhase(planPhase(percent, seconds, bareBatchMs));
  phases.push(phase);
  bareBatchMs = median(ofConfig('bare').flatMap((p) => phase.windows.get(p).map((w) => w.busyMs / phase.cycles)));
  await counters(`${percent} % busy`);
}
const restAfterRun = restSeconds > 0 ? await rest('after the load phases') : undefined;
await counters('at rest after the load phases');
const tookMinutes = (Date.now() - startedAt.getTime()) / 60_000;
const loadAtEnd = os.loadavg();
ending = true;
for (const p of procs) p.child.send({ type: 'exit' });
// A child that does not leave within 5 s (a handle left open) is ended here.
setTimeout(() => {
  for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill();
}, 5000).unref();

// ---- the tables ----------------------------------------------------------------------------------

const out = (line = '') => process.stdout.write(`${line}\n`);
const fixed = (value, digits) => (Number.isFinite(value) ? value.toFixed(digits) : '–');
const script = path.relative(process.cwd(), process.argv[1]);

/** `cells[process][round] = [cpu µs, requests]` of a configuration in a phase. */
const cellsOf = (phase, name) => ofConfig(name).map((p) => phase.windows.get(p).map((w) => [w.cpuMicros, w.requests]));
function ratioCell(phase, name) {
  const bareCells = cellsOf(phase, 'bare');
  const microsPerRequest = (cells) => cells.flat().reduce((s, [c]) => s + c, 0) / cells.flat().reduce((s, [, r]) => s + r, 0);
  if (name === 'bare') return { text: `1 (${microsPerRequest(bareCells).toFixed(0)} µs)`, micros: microsPerRequest(bareCells) };
  const cells = cellsOf(phase, name);
  const [low, high] = rateRatioInterval(cells, bareCells);
  return { text: `${rateRatio(cells, bareCells).toFixed(3)} [${low.toFixed(3)}–${high.toFixed(3)}]`, micros: microsPerRequest(cells), low, high, ratio: rateRatio(cells, bareCells) };
}
const restCell = (restResult, name, key = 'msPerSecond', digits = 2) => (restResult ? medianRange(ofConfig(name).map((p) => restResult.get(p)[key]), digits) : '–');

out(`## CPU at rest and at partial load, across processes (Node ${process.version})`);
out();
out(`\`${[process.argv0, script, ...argv].join(' ')}\``);
out();
out(
  `Node ${process.version}, ${os.platform()} ${os.arch()}, ${os.availableParallelism()} cores, load average ${loadAtStart[0].toFixed(1)} at the start and ${loadAtEnd[0].toFixed(1)} at the end; ` +
    `${processesEach} processes per configuration (${procs.length} in all) ${cpu === 'none' ? 'unpinned' : `pinned to CPU ${cpu} (\`taskset -c ${cpu}\`)`}; ` +
    `route \`${route}\`, batches of ${batch} requests; a bare batch ${batchMs.toFixed(0)} ms, ${bareMicros.toFixed(0)} µs of CPU per request after warm-up (${warmup} requests per process); ` +
    `${rounds} rounds per duty cycle; started ${startedAt.toISOString().slice(0, 16)}Z, ${tookMinutes.toFixed(1)} min.`,
);
out();
out('### Summary');
out();
out(`| configuration | at rest after warm-up: ms CPU per s | at rest after the load phases: ms CPU per s | ${phases.map((phase) => `CPU per request vs bare, ${phase.percent} % busy`).join(' | ')} |`);
out(`|---|---|---|${phases.map(() => '---|').join('')}`);
for (const name of configNames) {
  out(`| ${name} | ${restCell(restAfterWarmup, name)} | ${restCell(restAfterRun, name)} | ${phases.map((phase) => ratioCell(phase, name).text).join(' | ')} |`);
}
out();
out(
  `At rest: CPU per second of wall time over ${restSeconds} s without requests, from /proc/<pid>/task/*/schedstat, median of the processes [min–max]. ` +
    `CPU per request: total CPU over total requests of the configuration's windows (the rest between batches included) against the bare app's; ` +
    `[95 % interval]: two-level bootstrap over processes and rounds; for bare, µs of CPU per request.`,
);
out();

if (restAfterWarmup) {
  out('### At rest');
  out();
  out(`Every process idle for ${restSeconds} s, read from /proc without waking it, 2 s after the last message. Each process's ms of CPU per s, and the same from /proc/<pid>/stat (10 ms ticks: ±${(10 / restSeconds).toFixed(2)} ms/s).`);
  out();
  out('| configuration | after warm-up: each process | /proc/<pid>/stat | after the load phases: each process | /proc/<pid>/stat | vs bare after warm-up (ms/s, medians) | after the load phases |');
  out('|---|---|---|---|---|---|---|');
  const bareMedian = (r) => median(ofConfig('bare').map((p) => r.get(p).msPerSecond));
  for (const name of configNames) {
    const each = (r, key) => (r ? ofConfig(name).map((p) => r.get(p)[key].toFixed(2)).join(', ') : '–');
    const diff = (r) => (r ? `${median(ofConfig(name).map((p) => r.get(p).msPerSecond)) - bareMedian(r) >= 0 ? '+' : ''}${(median(ofConfig(name).map((p) => r.get(p).msPerSecond)) - bareMedian(r)).toFixed(2)}` : '–');
    out(`| ${name} | ${each(restAfterWarmup, 'msPerSecond')} | ${each(restAfterWarmup, 'statMsPerSecond')} | ${each(restAfterRun, 'msPerSecond')} | ${each(restAfterRun, 'statMsPerSecond')} | ${diff(restAfterWarmup)} | ${diff(restAfterRun)} |`);
  }
  const changed = [restAfterWarmup, restAfterRun].filter(Boolean).flatMap((r) => procs.filter((p) => r.get(p).threadsChanged));
  if (changed.length > 0) out(`\nThreads started or ended during a rest in ${changed.map((p) => `${p.configuration} #${p.replica}`).join(', ')}: the schedstat figure misses an ended thread's time; trust /proc/<pid>/stat there.`);
  out();
}

out('### CPU per request at partial load');
for (const phase of phases) {
  const windowMs = phase.cycles * phase.cycleMs;
  out();
  out(
    `**${phase.percent} % busy**: ${phase.together === 1 ? 'one process at a time' : `${phase.together} processes at a time`}, ` +
      `${phase.percent >= 100 ? `${phase.cycles} batches back to back` : `a batch due every ${phase.cycleMs.toFixed(0)} ms (a bare batch: ${phase.batchMs.toFixed(0)} ms in the phase before), ${phase.cycles} per window`} ` +
      `(a window of about ${(windowMs / 1000).toFixed(1)} s, ${phase.cycles * batch} requests); ${phase.groups} group${phase.groups === 1 ? '' : 's'} per round; ${(phase.tookSeconds / 60).toFixed(1)} min.`,
  );
  out();
  out('| configuration | duty achieved: busy / wall, median [min–max] of windows | core used: CPU / wall | µs of CPU per request | vs bare [95 %] | CPU per s of wall beyond bare (ms/s) | each process: µs per request (all its windows) |');
  out('|---|---|---|---|---|---|---|');
  // CPU per second of window over all windows: with the same arrival rate for every configuration,
  // the difference from the bare app's is the extra CPU per second, comparable with the figures at rest.
  const msPerSecond = (name) => {
    const windows = ofConfig(name).flatMap((p) => phase.windows.get(p));
    return windows.reduce((s, w) => s + w.cpuMicros / 1000, 0) / windows.reduce((s, w) => s + w.wallMs / 1000, 0);
  };
  for (const name of configNames) {
    const windows = ofConfig(name).flatMap((p) => phase.windows.get(p));
    const duty = medianRange(windows.map((w) => (100 * w.busyMs) / w.wallMs), 1);
    const used = medianRange(windows.map((w) => (100 * w.cpuMicros) / 1000 / w.wallMs), 1);
    const cell = ratioCell(phase, name);
    const each = ofConfig(name)
      .map((p) => {
        const ws = phase.windows.get(p);
        return (ws.reduce((s, w) => s + w.cpuMicros, 0) / ws.reduce((s, w) => s + w.requests, 0)).toFixed(0);
      })
      .join(', ');
    const beyond = msPerSecond(name) - msPerSecond('bare');
    // At 100 % there is no arrival rate: CPU per second of wall is the share of the core the process got.
    const beyondCell = phase.percent >= 100 ? '–' : name === 'bare' ? `(${msPerSecond('bare').toFixed(1)} in all)` : `${beyond >= 0 ? '+' : ''}${beyond.toFixed(2)}`;
    out(`| ${name} | ${duty} % | ${used} % | ${cell.micros.toFixed(0)} | ${name === 'bare' ? '1' : cell.text} | ${beyondCell} | ${each} |`);
  }
  // Where the CPU went, per kind of thread (from the children's /proc/self/task): the main
  // thread, V8's workers (concurrent GC, compilation), the rest; threads that ended mid-window
  // are missed, so the three may sum below the total.
  const threaded = configNames.every((name) => ofConfig(name).every((p) => phase.windows.get(p).every((w) => w.threadNs)));
  if (threaded) {
    out();
    out('| configuration | µs per request: main thread | V8 workers | other threads |');
    out('|---|---|---|---|');
    for (const name of configNames) {
      const windows = ofConfig(name).flatMap((p) => phase.windows.get(p));
      const requests = windows.reduce((s, w) => s + w.requests, 0);
      const per = (kind) => (windows.reduce((s, w) => s + w.threadNs[kind], 0) / 1000 / requests).toFixed(1);
      out(`| ${name} | ${per('main')} | ${per('v8Workers')} | ${per('other')} |`);
    }
  }
  // How often each configuration's processes collected: a count, not a time.
  out();
  out('| configuration | scavenges per 1 000 requests | major GCs per 1 000 requests | promoted by scavenges (KiB per request) | new space (MiB) at the windows\' ends, per process |');
  out('|---|---|---|---|---|');
  for (const name of configNames) {
    const windows = ofConfig(name).flatMap((p) => phase.windows.get(p));
    const requests = windows.reduce((s, w) => s + w.requests, 0);
    const per1000 = (key) => ((windows.reduce((s, w) => s + w.gcs[key], 0) * 1000) / requests).toFixed(1);
    const promoted = (windows.reduce((s, w) => s + w.gcs.promotedBytes, 0) / 1024 / requests).toFixed(2);
    const newSpace = ofConfig(name).map((p) => (phase.windows.get(p).at(-1).gcs.newSpaceBytes / 2 ** 20).toFixed(0)).join(', ');
    out(`| ${name} | ${per1000('scavenges')} | ${per1000('majors')} | ${promoted} | ${newSpace} |`);
  }
}
out();

// heapwatch's own work, phase by phase, and every process's memory at the end.
const watched = procs.filter((p) => counterLog[0].byProcess.get(p).monitor);
if (watched.length > 0) {
  out("### heapwatch's own work");
  out();
  out('Counters of `monitor.stats()` in each heapwatch process over each phase, median of the processes [min–max].');
  out();
  out('| configuration | phase | seconds | readings | clean readings (after a full GC) | forced GCs | skipped GCs | last tick (ms) |');
  out('|---|---|---|---|---|---|---|---|');
  for (const name of configNames.filter((n) => watched.some((p) => p.configuration === n))) {
    for (let i = 1; i < counterLog.length; i++) {
      const [before, after] = [counterLog[i - 1], counterLog[i]];
      const delta = (key) => medianRange(ofConfig(name).map((p) => after.byProcess.get(p).monitor[key] - before.byProcess.get(p).monitor[key]), 0);
      const last = medianRange(ofConfig(name).map((p) => after.byProcess.get(p).monitor.lastTickMs), 1);
      out(`| ${name} | ${after.label} | ${((after.atMs - before.atMs) / 1000).toFixed(0)} | ${delta('readings')} | ${delta('cleanReadings')} | ${delta('requestedGcs')} | ${delta('skippedGcs')} | ${last} |`);
    }
  }
  out();
}
out('### Memory at the end');
out();
out('| configuration | RSS (MiB) | heap used (MiB) | CPU over the whole run (s) |');
out('|---|---|---|---|');
const final = counterLog.at(-1).byProcess;
for (const name of configNames) {
  const of = (f, digits) => medianRange(ofConfig(name).map((p) => f(final.get(p))), digits);
  out(`| ${name} | ${of((s) => s.rssBytes / 2 ** 20, 0)} | ${of((s) => s.heapUsedBytes / 2 ** 20, 0)} | ${of((s) => s.cpuMicros / 1e6, 1)} |`);
}
