// How much a site's estimate moves between readings when nothing leaks: the noise the leak
// detector must tell growth from (docs/detection.md, "The noise of growth").
//   node --expose-gc bench/growth-noise.mjs [--interval=524288] [--read-ms=1000] [--seconds=600]
//        [--mib=20] [--clean-every=5]
// (npm run build first.)
//
// One process, V8's sampler at --interval, four sites of --mib MiB of 1 KB entries each (an array
// of 118 numbers in a small object: 1041 B of heap each on Node 20), kept live by the process:
//   holdStatic        allocated once, never touched again;
//   turnSlow          a ring whose oldest entry is replaced at 20 KB/s  (an entry lives ~1000 s at 20 MiB);
//   turnMedium        a ring, replaced at 200 KB/s                      (~100 s);
//   turnFast          a ring, replaced at 2 MB/s                        (~10 s);
// plus request-like churn (50 rows serialised to JSON every 10 ms, dropped), whose site holds
// only in-flight objects and the garbage not collected yet.
// Every --read-ms, one reading as the monitor's native reader takes it (no forced GC: garbage
// included); every --clean-every readings, a second one right after a full GC (gc(): no garbage).
// For each site and horizon h (in readings), the standard deviation of x(t + h) − x(t) over all t,
// beside the model: sqrt(2 × min(τ × h, L) × R) for a site of L bytes replaced at τ bytes/s, 0 for
// a site whose objects do not change, sampled every R bytes. Measures, never asserts.
import { cpus, loadavg } from 'node:os';
import { startSampling, stopSampling, takeSnapshot } from 'heapwatch';
import { parseFlags, shellCommand } from './lib/cli.mjs';

const flags = parseFlags(process.argv.slice(2), { interval: '524288', 'read-ms': '1000', seconds: '600', mib: '20', 'clean-every': '5' });
const R = Number(flags.interval);
const readMs = Number(flags['read-ms']);
const seconds = Number(flags.seconds);
const siteBytes = Number(flags.mib) * 1024 * 1024;
const cleanEvery = Number(flags['clean-every']);
if (typeof globalThis.gc !== 'function') throw new Error('Run with --expose-gc: the clean readings need gc()');

const ENTRY_BYTES = 1000;
const entries = Math.round(siteBytes / ENTRY_BYTES);
// Each entry is allocated in the site's own function: V8 charges an allocation to the function
// that makes it, so a shared helper would make one site of all four. (Not a padded string: `padEnd`
// builds a rope of small cons strings, about 520 B for 960 characters.)
const kept = {};
function holdStatic() {
  const ring = [];
  for (let i = 0; i < entries; i++) ring.push({ i, items: new Array(118).fill(i) });
  return ring;
}
// One function per ring so each is a site of its own; each replaces its oldest entry.
function turnSlow(ring, i) { ring[i % ring.length] = { i, items: new Array(118).fill(i) }; }
function turnMedium(ring, i) { ring[i % ring.length] = { i, items: new Array(118).fill(i) }; }
function turnFast(ring, i) { ring[i % ring.length] = { i, items: new Array(118).fill(i) }; }
// Every ring is filled and turned over through this one call site, which also calls two other
// functions: five targets make it megamorphic, and TurboFan does not inline a megamorphic call.
// Inlined, a ring's allocations would be charged to its caller, a site of another size.
const noopA = () => {};
const noopB = () => {};
function turnOver(turn, ring, i) {
  turn(ring, i);
}
function fillRing(turn) {
  const ring = new Array(entries);
  for (let i = 0; i < entries; i++) turnOver(turn, ring, i);
  return ring;
}
function churn(i) {
  const rows = [];
  for (let k = 0; k < 50; k++) rows.push({ k, name: `row-${k}-${i}` });
  return JSON.stringify(rows).length;
}

const rings = [
  { name: 'turnSlow', turn: turnSlow, rate: 20_000 },
  { name: 'turnMedium', turn: turnMedium, rate: 200_000 },
  { name: 'turnFast', turn: turnFast, rate: 2_000_000 },
];

for (const target of [noopA, noopB, turnSlow, turnMedium, turnFast]) turnOver(target, [0], 0);
startSampling({ samplingIntervalBytes: R, reader: 'native' });
kept.static = holdStatic();
for (const ring of rings) {
  ring.entries = fillRing(ring.turn);
  ring.next = entries;
}
const names = ['holdStatic', ...rings.map((r) => r.name), 'churn'];

// The rings turn over against the clock, every 10 ms, as the churn does.
const started = Date.now();
let step = 0;
const driver = setInterval(() => {
  churn(step++);
  const elapsed = (Date.now() - started) / 1000;
  for (const ring of rings) {
    const owed = entries + Math.floor((ring.rate * elapsed) / ENTRY_BYTES);
    while (ring.next < owed) turnOver(ring.turn, ring.entries, ring.next++);
  }
}, 10);

function read() {
  const bytes = Object.fromEntries(names.map((name) => [name, 0]));
  for (const stat of takeSnapshot().statistics('site')) {
    if (stat.site.functionName in bytes) bytes[stat.site.functionName] += stat.size;
  }
  return bytes;
}

const dirty = [];
const clean = [];
await new Promise((resolve) => {
  const reader = setInterval(() => {
    dirty.push(read());
    if (dirty.length % cleanEvery === 0) {
      globalThis.gc();
      clean.push(read());
    }
    if (dirty.length * readMs >= seconds * 1000) {
      clearInterval(reader);
      resolve();
    }
  }, readMs);
});
clearInterval(driver);
stopSampling();

const sd = (values) => {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, values.length - 1));
};
const mb = (bytes) => (bytes / 1e6).toFixed(2);
const lifetimeOf = (name) => rings.find((r) => r.name === name);
const model = (name, seconds) => {
  if (name === 'holdStatic') return '0';
  const ring = lifetimeOf(name);
  if (!ring) return '—';
  return mb(Math.sqrt(2 * Math.min(ring.rate * seconds, siteBytes) * R));
};

function table(series, spacingMs, label) {
  const horizons = [1, 2, 4, 8, 16, 32, 64, 128].filter((h) => h < series.length / 2);
  const lines = [];
  lines.push(`### ${label}: standard deviation of x(t + h) − x(t), MB (model in brackets)`);
  lines.push('');
  lines.push(`| site | mean size | ${horizons.map((h) => `h = ${(h * spacingMs) / 1000} s`).join(' | ')} |`);
  lines.push(`|---|---|${horizons.map(() => '---').join('|')}|`);
  for (const name of names) {
    const values = series.map((reading) => reading[name]);
    const cells = horizons.map((h) => {
      const deltas = values.slice(h).map((value, i) => value - values[i]);
      return `${mb(sd(deltas))} [${model(name, (h * spacingMs) / 1000)}]`;
    });
    lines.push(`| \`${name}\` | ${mb(values.reduce((a, b) => a + b, 0) / values.length)} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

console.log(`\`${shellCommand()}\``);
console.log();
console.log(
  `Node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), load average ${loadavg()[0].toFixed(2)} at the end; ` +
    `sampling every ${R / 1024} KiB, sites of ${flags.mib} MiB (1 KB entries), ${dirty.length} readings every ${readMs} ms, ` +
    `${clean.length} clean ones (after gc()) every ${(cleanEvery * readMs) / 1000} s.`,
);
console.log();
console.log(table(dirty, readMs, 'Readings as the native reader takes them (garbage included)'));
console.log();
console.log(table(clean, cleanEvery * readMs, 'Readings right after a full GC (no garbage)'));
