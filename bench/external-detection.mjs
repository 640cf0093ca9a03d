// How long a Buffer leak outside V8's heap runs before heapwatch suspects it, at which site, with
// what size; and whether Buffer look-alikes are ever suspected (issue 22). npm run build first.
//   node bench/external-detection.mjs [--leaks=8] [--lookalikes=1] [--seconds=120] [--parallel=4]
//        [--sampling=default|<KiB>] [--buffer-sampling=off|on] [--buffer-interval=default|<KiB>]
//        [--lookalike-modes=ring,drain,pool,socket]
// Each process is test/fixtures/buffer-leak.mjs (an Express service at heapwatch's defaults but
// for the warm-up, 100 requests/s of 16 KiB bodies from a worker thread): --leaks processes of
// mode `alloc` (16 KiB Buffer.alloc() kept at 1.6 MB/s by queueBody) and --lookalikes of each of
// `ring`, `drain`, `pool` and `socket` (or those --lookalike-modes names: `socket` keeps 1.6 MB/s,
// ~2.9 GB in a 30-minute run), each for --seconds, --parallel at a time. Prints, per leak,
// the delay from the leak's start to the first leak-suspected record, its site, and its
// externalBytes against what the service held then; per look-alike, the records it got.
// --buffer-sampling=on: heapwatch's Buffer sampler on in every process (`bufferSampling: true`),
// at --buffer-interval (`bufferSamplingIntervalBytes`; default 512 KiB, 4096 for the 4 MiB runs).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseFlags, shellCommand } from './lib/cli.mjs';

const flags = parseFlags(process.argv.slice(2), { leaks: '8', lookalikes: '1', seconds: '120', parallel: '4', sampling: 'default', 'buffer-sampling': 'off', 'buffer-interval': 'default', 'lookalike-modes': 'ring,drain,pool,socket' });
const env = {
  ...process.env,
  ...(flags.sampling === 'default' ? {} : { BUFFER_LEAK_SAMPLING: String(Number(flags.sampling) * 1024) }),
  ...(flags['buffer-sampling'] === 'on' ? { BUFFER_LEAK_BUFFER_SAMPLING: '1' } : {}),
  ...(flags['buffer-interval'] === 'default' ? {} : { BUFFER_LEAK_BUFFER_INTERVAL: String(Number(flags['buffer-interval']) * 1024) }),
};
const root = fileURLToPath(new URL('../', import.meta.url));
const jobs = [
  ...Array.from({ length: Number(flags.leaks) }, () => 'alloc'),
  ...Array.from({ length: Number(flags.lookalikes) }, () => flags['lookalike-modes'].split(',')).flat(),
];

function runOne(mode) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['test/fixtures/buffer-leak.mjs', mode], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err += c));
    const timer = setTimeout(() => child.kill(), Number(flags.seconds) * 1000 + 10_000);
    child.on('exit', () => {
      clearTimeout(timer);
      const json = (text) => text.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
      const truths = json(err).filter((l) => l.truth);
      const suspected = json(out).filter((l) => l.heapwatch?.event === 'leak-suspected');
      // The process-level verdict (memory no site explains, native or ArrayBuffer): no site's.
      const unexplained = json(out).filter((l) => l.heapwatch?.event === 'memory-unexplained-growth');
      resolve({ mode, truths, suspected, unexplained });
    });
  });
}

// A load generator starved of CPU keeps fewer Buffers: each row says the rate it kept.
const results = [];
const queue = [...jobs];
await Promise.all(
  Array.from({ length: Number(flags.parallel) }, async () => {
    while (queue.length > 0) results.push(await runOne(queue.shift()));
  }),
);

const kib = (flag) => (flag === 'default' ? "heapwatch's default (512 KiB)" : `${flag} KiB`);
const bufferSampler = flags['buffer-sampling'] === 'on' ? `on at ${kib(flags['buffer-interval'])}` : flags['buffer-sampling'];
console.log(`$ ${shellCommand()}\nNode ${process.version}, sampling ${kib(flags.sampling)}, Buffer sampler ${bufferSampler}\n`);
// What the service held at a time since the leak's start: between its two nearest truth lines.
const heldAt = (truths, seconds) => {
  const after = truths.findIndex((t) => t.seconds >= seconds);
  if (after <= 0) return after === 0 ? truths[0].heldBytes : truths.at(-1).heldBytes;
  const a = truths[after - 1];
  const b = truths[after];
  return a.heldBytes + ((b.heldBytes - a.heldBytes) * (seconds - a.seconds)) / (b.seconds - a.seconds);
};
const unexplainedOf = (run) =>
  run.unexplained.map((r) => `${r.heapwatch.kind} ${((r.time - (run.truths[0]?.leakStartedAt ?? r.time)) / 1000).toFixed(0)} s`).join(', ') || 'none';
console.log('| leak run | rate kept (MB/s) | suspected after (s) | site | externalBytes at the record | held then | ratio | ± noise | memory no site explains |');
console.log('|---|---|---|---|---|---|---|---|---|');
const delays = [];
for (const [i, run] of results.filter((r) => r.mode === 'alloc').entries()) {
  const first = run.suspected[0];
  const startedAt = run.truths[0]?.leakStartedAt;
  const last = run.truths.at(-1);
  const rate = last ? (last.heldBytes / last.seconds / 1e6).toFixed(2) : '—';
  if (!first || startedAt === undefined) {
    console.log(`| ${i + 1} | ${rate} | not within ${flags.seconds} s | | | | | | ${unexplainedOf(run)} |`);
    delays.push(Number.POSITIVE_INFINITY);
    continue;
  }
  const delay = (first.time - startedAt) / 1000;
  delays.push(delay);
  const held = heldAt(run.truths, delay);
  const h = first.heapwatch;
  console.log(`| ${i + 1} | ${rate} | ${delay.toFixed(0)} | ${h.site.function} | ${(h.externalBytes / 1e6).toFixed(1)} MB | ${(held / 1e6).toFixed(1)} MB | ${(h.externalBytes / held).toFixed(2)} | ${(h.externalNoiseBytes / 1e6).toFixed(1)} MB | ${unexplainedOf(run)} |`);
}
const within60 = delays.filter((d) => d <= 60).length;
delays.sort((a, b) => a - b);
console.log(`\nsuspected within 60 s: ${within60} of ${delays.length}; median ${delays[Math.floor(delays.length / 2)]} s`);
console.log('\n| look-alike | records | memory no site explains | last truth (held, top site\'s externalBytes) |');
console.log('|---|---|---|---|');
for (const run of results.filter((r) => r.mode !== 'alloc')) {
  const last = run.truths.at(-1);
  console.log(`| ${run.mode} | ${run.suspected.map((r) => r.heapwatch.site.function).join(', ') || 'none'} | ${unexplainedOf(run)} | ${(last?.heldBytes / 1e6).toFixed(1)} MB held; ${last?.top?.function ?? '—'} ${((last?.top?.externalBytes ?? 0) / 1e6).toFixed(1)} MB |`);
}
