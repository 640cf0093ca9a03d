// Where the Buffer sampler's cost goes (issue 22): the Buffers of bench/lib/routes.mjs's `/buffers`
// route (a 16 KiB Buffer.alloc, 20 small Buffer.from strings, a Buffer.concat: ~33 KiB, 22 calls)
// made in a loop, without Express, under configurations that add the sampler's parts one by one:
//   bare          Buffer as Node made it
//   layer         the wrappers in place, handing each Buffer to a function that does nothing
//   countdown     the sampler at an interval so large that it never samples: the byte countdown
//   sampler-<KiB>k  the sampler at that interval: countdown, stack captures, WeakRefs
//   sampler-every the sampler sampling every Buffer it counts (R = 1 byte): two samples a
//                 request, so that (sampler-every − countdown) / 2 is the cost of one sample
// The Buffers are made 24 frames down (a recursion standing for Express and Node's HTTP code), so
// that a stack capture has its frames to walk; the samples are read (and the dead ones let go)
// after each measurement, outside it, as a monitor's readings do.
// Two ways, since swapping the factories in and out is itself a cost a service does not pay:
//   --mode=process  each measurement in a process of its own that sets its configuration once
//                   (the processes of all configurations interleaved, `bare` twice: the A/A)
//   --mode=toggle   every configuration switched on and off in one process, in rotating order
//   --mode=capture  what a stack capture costs by its depth: the stack trace API called as
//                   src/buffers/call-stack.ts calls it (CallSites, each frame's name, file and
//                   enclosing position read), 30 frames down, at depths 2 to 16
// Prints CPU ns per request-worth of Buffers (median over measurements) and the ratio to `bare`
// with its 95 % bootstrap interval. npm run build first (or --dist=<a built dist directory>).
//   node bench/buffer-sampler-parts.mjs [--mode=process|toggle|capture] [--runs=12] [--batches=30]
//        [--requests=2000] [--configs=bare,bare-again,layer,countdown,sampler-512k,sampler-4096k]
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { bootstrap, median } from './lib/distribution.mjs';
import { parseFlags, shellCommand } from './lib/cli.mjs';

const flags = parseFlags(process.argv.slice(2), {
  mode: 'process',
  runs: '12',
  batches: '30',
  requests: '2000',
  configs: 'bare,bare-again,layer,countdown,sampler-512k,sampler-4096k',
  dist: new URL('../dist', import.meta.url).pathname,
  child: '',
});
const dist = pathToFileURL(resolve(flags.dist)).href;
const { bufferSampler } = await import(`${dist}/buffers/buffer-sampler.js`);
const { installBufferWrappers, removeBufferWrappers } = await import(`${dist}/buffers/buffer-wrappers.js`);

let sink = 0;
/** One request's Buffers, as the `/buffers` route makes them. */
function requestBuffers(i) {
  const query = String(i);
  const body = Buffer.alloc(16 * 1024, query);
  const parts = [];
  for (let k = 0; k < 20; k++) parts.push(Buffer.from(`part-${k}-${query};`));
  return Buffer.concat([...parts, body]);
}

const noop = () => {};
function configuration(name) {
  const base = name.replace(/-again$/, '');
  if (base === 'bare') return { on() {}, off() {} };
  if (base === 'layer') return { on: () => installBufferWrappers(noop), off: () => removeBufferWrappers() };
  if (base === 'sampler-every') return { on: () => bufferSampler.acquire(1), off: () => bufferSampler.release() };
  if (base === 'countdown') return { on: () => bufferSampler.acquire(2 ** 50), off: () => bufferSampler.release() };
  const sampler = /^sampler-(\d+)k$/.exec(base);
  if (sampler) return { on: () => bufferSampler.acquire(Number(sampler[1]) * 1024), off: () => bufferSampler.release() };
  throw new Error(`Unknown configuration "${name}"`);
}

/**
 * CPU ns per request over `count` requests: CPU time (user + system, every thread: the GCs that
 * the external memory brings included), not wall time, since the core is shared.
 */
function measure(count) {
  const start = process.cpuUsage();
  for (let i = 0; i < count; i++) sink += below(24, i);
  const used = process.cpuUsage(start);
  bufferSampler.read();
  return ((used.user + used.system) * 1000) / count;
}

/** `requestBuffers(i)`'s length, called `depth` frames down. */
function below(depth, i) {
  return depth === 0 ? requestBuffers(i).length : below(depth - 1, i) + 0;
}

if (flags.mode === 'capture') {
  const callSites = (_error, sites) => sites;
  const capture = (depth, below) => {
    const holder = {};
    const [prepare, limit] = [Error.prepareStackTrace, Error.stackTraceLimit];
    try {
      Error.prepareStackTrace = callSites;
      Error.stackTraceLimit = depth;
      Error.captureStackTrace(holder, below);
      return holder.stack;
    } finally {
      Error.prepareStackTrace = prepare;
      Error.stackTraceLimit = limit;
    }
  };
  const frames = (sites) =>
    sites.map((site) => ({
      functionName: site.getFunctionName() ?? '(anonymous)',
      scriptName: site.getFileName() ?? '',
      line: site.getEnclosingLineNumber?.() ?? site.getLineNumber() ?? 0,
      column: site.getEnclosingColumnNumber?.() ?? site.getColumnNumber() ?? 0,
    }));
  const sampled = (depth) => frames(capture(depth, sampled)).length;
  const down = (n, depth) => (n === 0 ? sampled(depth) : down(n - 1, depth) + 0);
  const depths = [2, 4, 6, 8, 12, 16];
  const micros = Object.fromEntries(depths.map((depth) => [depth, []]));
  for (let round = 0; round < Number(flags.runs) * 5; round++) {
    for (const depth of depths) {
      const start = process.cpuUsage();
      for (let i = 0; i < 500; i++) sink += down(30, depth);
      const used = process.cpuUsage(start);
      micros[depth].push((used.user + used.system) / 500);
    }
  }
  console.log(`$ ${shellCommand()}\nNode ${process.version}, ${Number(flags.runs) * 5} rounds of 500 captures per depth, 30 frames down; sink ${sink % 7}\n`);
  console.log('| depth (frames) | µs per capture, median (95 % CI) |');
  console.log('|---|---|');
  for (const depth of depths) {
    const [low, high] = bootstrap(micros[depth]);
    console.log(`| ${depth} | ${median(micros[depth]).toFixed(2)} (${low.toFixed(2)}–${high.toFixed(2)}) |`);
  }
  process.exit(0);
}

const requests = Number(flags.requests);
const batches = Number(flags.batches);

if (flags.child !== '') {
  // One process, one configuration, set once: warm up, then the median of the batches.
  const config = configuration(flags.child);
  config.on();
  for (let i = 0; i < 10; i++) measure(requests);
  const values = [];
  for (let b = 0; b < batches; b++) values.push(measure(requests));
  config.off();
  process.stdout.write(JSON.stringify({ ns: median(values), sink: sink % 7 }));
  process.exit(0);
}

const names = flags.configs.split(',');
const results = Object.fromEntries(names.map((name) => [name, []]));
if (flags.mode === 'process') {
  for (let run = 0; run < Number(flags.runs); run++) {
    const order = names.map((_, i) => names[(i + run) % names.length]);
    for (const name of order) {
      const child = spawnSync(process.execPath, [new URL(import.meta.url).pathname, `--child=${name}`, `--dist=${flags.dist}`, `--batches=${batches}`, `--requests=${requests}`], { encoding: 'utf8' });
      if (child.status !== 0) throw new Error(child.stderr);
      results[name].push(JSON.parse(child.stdout).ns);
    }
    process.stderr.write(`run ${run + 1}/${flags.runs}\n`);
  }
} else {
  const configs = names.map((name) => [name, configuration(name)]);
  for (let i = 0; i < 10; i++) measure(requests);
  for (let round = 0; round < Number(flags.runs) * batches; round++) {
    for (let j = 0; j < configs.length; j++) {
      const [name, config] = configs[(j + round) % configs.length];
      config.on();
      measure(requests / 10);
      results[name].push(measure(requests));
      config.off();
    }
  }
}

const bare = results.bare;
console.log(`$ ${shellCommand()}\nNode ${process.version}, mode ${flags.mode}, dist ${flags.dist}; sink ${sink % 7}\n`);
console.log('| configuration | ns per request (median) | vs bare: median ratio (95 % CI) | ns over bare |');
console.log('|---|---|---|---|');
for (const name of names) {
  const ratios = results[name].map((value, i) => value / bare[i]);
  const [low, high] = bootstrap(ratios);
  const over = results[name].map((value, i) => value - bare[i]);
  const [overLow, overHigh] = bootstrap(over);
  console.log(`| ${name} | ${median(results[name]).toFixed(0)} | ${median(ratios).toFixed(4)} (${low.toFixed(4)}–${high.toFixed(4)}) | ${median(over).toFixed(0)} (${overLow.toFixed(0)}–${overHigh.toFixed(0)}) |`);
}
if (results['sampler-every'] && results.countdown) {
  // Two Buffers a request are counted (the 16 KiB alloc and the concat): each sampled at R = 1.
  const perSample = results['sampler-every'].map((value, i) => (value - results.countdown[i]) / 2 / 1000);
  const [low, high] = bootstrap(perSample);
  console.log(`\nOne sample (stack capture, key, WeakRef), from sampler-every − countdown over 2: ${median(perSample).toFixed(2)} µs (${low.toFixed(2)}–${high.toFixed(2)})`);
}
