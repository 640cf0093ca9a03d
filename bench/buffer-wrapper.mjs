// What heapwatch's Buffer sampler costs a call to a Buffer factory (issue 22): each factory timed
// with `Buffer` as Node made it and with heapwatch's wrappers in place (the sampler at 512 KiB,
// its default), in the same process, in many short batches that alternate (the order rotating),
// with the bare factory measured twice (A/A: the method's resolution). Short batches and medians:
// a batch of 16 KiB Buffers is mostly memory zeroing and the GCs that external memory brings,
// which land in one batch or another. npm run build first.
//   node bench/buffer-wrapper.mjs [--rounds=400] [--calls=1000]
// Prints, per call form, ns per call bare and the ratio wrapped / bare (and A/A): the median of
// the per-round ratios with its 95 % bootstrap interval, and the 10th–90th percentiles. The
// wrapped calls include the sampled ones (a stack capture per ~512 KiB made).
import { bufferSampler } from '../dist/buffers/buffer-sampler.js';
import { bootstrap, median, quantile } from './lib/distribution.mjs';
import { parseFlags, shellCommand } from './lib/cli.mjs';

const flags = parseFlags(process.argv.slice(2), { rounds: '400', calls: '1000' });
const rounds = Number(flags.rounds);
const calls = Number(flags.calls);
const text = 'x'.repeat(100);
const parts = [Buffer.from('abc'), Buffer.from('defgh')];

// Each form through the property, as applications call it: the wrapper is what `Buffer.alloc` is.
const forms = {
  'Buffer.alloc(16 KiB)': () => Buffer.alloc(16 * 1024),
  'Buffer.alloc(64)': () => Buffer.alloc(64),
  'Buffer.allocUnsafe(200) (pool)': () => Buffer.allocUnsafe(200),
  'Buffer.allocUnsafe(64 KiB)': () => Buffer.allocUnsafe(64 * 1024),
  'Buffer.from(100-char string) (pool)': () => Buffer.from(text),
  'Buffer.concat(2 small) (pool)': () => Buffer.concat(parts),
};

let sink = 0;
function time(form) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) sink += form().length;
  return Number(process.hrtime.bigint() - start) / calls;
}

const results = Object.fromEntries(Object.keys(forms).map((name) => [name, { bare: [], wrapped: [], again: [] }]));
const orders = [
  ['bare', 'wrapped', 'again'],
  ['wrapped', 'again', 'bare'],
  ['again', 'bare', 'wrapped'],
];
const WARMUP_ROUNDS = 20;
for (const [name, form] of Object.entries(forms)) {
  for (let round = 0; round < WARMUP_ROUNDS + rounds; round++) {
    for (const config of orders[round % 3]) {
      if (config === 'wrapped') bufferSampler.acquire(512 * 1024);
      const ns = time(form);
      if (config === 'wrapped') bufferSampler.release();
      if (round >= WARMUP_ROUNDS) results[name][config].push(ns);
    }
  }
}

console.log(`$ ${shellCommand()}\nNode ${process.version}, ${rounds} rounds (after ${WARMUP_ROUNDS}) of ${calls} calls per form and configuration; sink ${sink % 7}\n`);
console.log('| call | bare (ns/call, median [p10–p90]) | wrapped / bare: median (95 % CI) [p10–p90] | A/A: bare again / bare |');
console.log('|---|---|---|---|');
const f = (x, d) => x.toFixed(d);
const describe = (values, d) => {
  const [low, high] = bootstrap(values);
  return `${f(median(values), d)} (${f(low, d)}–${f(high, d)}) [${f(quantile(values, 0.1), d)}–${f(quantile(values, 0.9), d)}]`;
};
for (const [name, { bare, wrapped, again }] of Object.entries(results)) {
  const ratios = (other) => other.map((value, i) => value / bare[i]);
  console.log(`| ${name} | ${f(median(bare), 0)} [${f(quantile(bare, 0.1), 0)}–${f(quantile(bare, 0.9), 0)}] | ${describe(ratios(wrapped), 3)} | ${describe(ratios(again), 3)} |`);
}
