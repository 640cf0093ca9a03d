// What heapwatch's Buffer sampler costs a call to a Buffer factory (issue 22): each factory timed
// with `Buffer` as Node made it and with heapwatch's wrappers in place (the sampler at 512 KiB,
// its default), in the same process, in alternating rounds, with the bare factory measured twice
// (A/A: the method's resolution). npm run build first.
//   node bench/buffer-wrapper.mjs [--rounds=30] [--calls=200000]
// Prints, per call form, ns per call bare and the ratio wrapped / bare (and A/A), median [min–max]
// over the rounds. The wrapped calls include the sampled ones (a stack capture per ~512 KiB made).
import { bufferSampler } from '../dist/buffers/buffer-sampler.js';
import { medianRange } from './lib/distribution.mjs';
import { parseFlags, shellCommand } from './lib/cli.mjs';

const flags = parseFlags(process.argv.slice(2), { rounds: '30', calls: '200000' });
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
for (let round = 0; round < rounds; round++) {
  // The order rotates: bare, wrapped, bare again; then wrapped first.
  const order = round % 2 === 0 ? ['bare', 'wrapped', 'again'] : ['wrapped', 'bare', 'again'];
  for (const [name, form] of Object.entries(forms)) {
    for (const config of order) {
      if (config === 'wrapped') bufferSampler.acquire(512 * 1024);
      time(form); // warm-up of this configuration (the property's new value deoptimises the caller)
      results[name][config].push(time(form));
      if (config === 'wrapped') bufferSampler.release();
    }
  }
}

console.log(`$ ${shellCommand()}\nNode ${process.version}, ${rounds} rounds of ${calls} calls per form and configuration; sink ${sink % 7}\n`);
console.log('| call | bare (ns/call) | wrapped / bare | A/A (bare again / bare) |');
console.log('|---|---|---|---|');
for (const [name, { bare, wrapped, again }] of Object.entries(results)) {
  const ratios = (other) => other.map((value, i) => value / bare[i]);
  console.log(`| ${name} | ${medianRange(bare, 0)} | ${medianRange(ratios(wrapped), 3)} | ${medianRange(ratios(again), 3)} |`);
}
