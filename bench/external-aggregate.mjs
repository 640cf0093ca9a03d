// What classifying the sampled ArrayBuffer wrappers adds to a reading (issue 22): the per-site sum
// of one profile by main's SiteAggregator (no wrappers) and by this one (wrappers classified and
// summed), side by side on the same recorded tree, alternating, plus process.memoryUsage().
//   node bench/external-aggregate.mjs --main=/work/main/dist [--sites=10000] [--rounds=61]
// One process retains --sites live sites (bench/lib/live-sites.mjs) sampled every 1 KiB, reads
// V8's profile once, and times aggregate() of each, --rounds times each, in alternation. Prints
// the median times with their quartiles, and the ratios, beside an A/A (main's twice). The request path is not
// involved: heapwatch reads the ArrayBuffer memory and classifies wrappers at its readings only.
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { parseFlags, shellCommand } from './lib/cli.mjs';
import { retainSites } from './lib/live-sites.mjs';

const flags = parseFlags(process.argv.slice(2), { main: '/work/main/dist', sites: '10000', rounds: '61' });
const load = (dist, path) => import(pathToFileURL(`${dist}/${path}`).href);
const here = new URL('../dist', import.meta.url).pathname;
const sampler = await load(here, 'v8/sampler.js');
sampler.startSampling({ samplingIntervalBytes: 1024 });
const kept = await retainSites(Number(flags.sites));
const { root } = sampler.readProfile();
const make = async (dist) => {
  const { SiteAggregator } = await load(dist, 'snapshot/site-aggregator.js');
  const { FrameInterner } = await load(dist, 'snapshot/frame-interner.js');
  const { sharedResolver } = await load(dist, 'snapshot/source-map.js');
  return new SiteAggregator(new FrameInterner(), sharedResolver);
};
const before = await make(flags.main);
const again = await make(flags.main);
const after = await make(here);
const times = { before: [], again: [], after: [] };
// Five rounds unmeasured (the functions' optimisation), then the measured ones.
for (let i = -5; i < Number(flags.rounds); i++) {
  for (const [name, aggregator] of [['before', before], ['again', again], ['after', after]]) {
    if (i < 0) {
      aggregator.aggregate(root);
      continue;
    }
    const start = performance.now();
    aggregator.aggregate(root);
    times[name].push(performance.now() - start);
  }
}
const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
const spread = (v) => `${Math.min(...v).toFixed(2)}–${Math.max(...v).toFixed(2)}`;
console.log(`$ ${shellCommand()}\nNode ${process.version}; ${kept.length ?? flags.sites} sites retained`);
const q = (v, f) => [...v].sort((a, b) => a - b)[Math.floor(v.length * f)].toFixed(2);
const line = (name, v) => `${name}: median ${median(v).toFixed(2)} ms (quartiles ${q(v, 0.25)}–${q(v, 0.75)})`;
console.log(`aggregate() ${line('main', times.before)}; ${line('main again (A/A)', times.again)}; ${line('with wrappers', times.after)}`);
console.log(`ratios: A/A ${(median(times.again) / median(times.before)).toFixed(3)}, with wrappers / main ${(median(times.after) / median(times.before)).toFixed(3)}`);
