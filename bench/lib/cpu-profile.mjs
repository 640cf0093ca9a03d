// Records a CPU profile of one part of a benchmark (node:inspector's Profiler, the profiler behind
// `node --cpu-prof`), and summarises a .cpuprofile — ours or one from `node --cpu-prof` — as
// Markdown: the functions with the most self time, and heapwatch's functions by total time (what
// each stage of a tick costs, its callees included), each with file:line.
//   node bench/lib/cpu-profile.mjs <file.cpuprofile> [top=15]
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Starts profiling the main thread; the returned function stops and writes the profile to `file`. */
export function startCpuProfile() {
  const session = new Session();
  session.connect();
  // In-process sessions answer synchronously: the profiler runs once post() returns.
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 250 }); // µs: a finer view of short ticks
  session.post('Profiler.start');
  return (file) => {
    session.post('Profiler.stop', (error, result) => {
      if (error) throw error;
      writeFileSync(file, JSON.stringify(result.profile));
    });
    session.disconnect();
  };
}

function location({ url, lineNumber }) {
  if (!url) return '';
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  const shown = path.startsWith('/') ? relative(process.cwd(), path) : path;
  return `${shown}:${lineNumber + 1}`; // the profile's lines are 0-based
}

/** Markdown tables of the top functions by self time, and of heapwatch's (`dist/`) by total time. */
export function summariseCpuProfile(profile, top = 15) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  // Each sample lasts until the next one.
  const selfUs = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i + 1] ?? 0;
    selfUs.set(profile.samples[i], (selfUs.get(profile.samples[i]) ?? 0) + delta);
  }
  const keyOf = (node) => {
    const { functionName, url } = node.callFrame;
    // C++ entered from JavaScript (an addon, a V8 API) has no script, and V8 may name it after
    // another callback of the same addon: name its JavaScript caller too.
    if (!url && !functionName.startsWith('(') && parentOf.has(node.id)) {
      const caller = byId.get(parentOf.get(node.id)).callFrame;
      return `${functionName} (native)\tcalled from ${caller.functionName} ${location(caller)}`;
    }
    return `${functionName || '(anonymous)'}\t${location(node.callFrame)}`;
  };
  const self = new Map();
  const total = new Map();
  let allUs = 0;
  for (const [id, us] of selfUs) {
    allUs += us;
    self.set(keyOf(byId.get(id)), (self.get(keyOf(byId.get(id))) ?? 0) + us);
    // A recursive function counts once per sample in its total.
    const seen = new Set();
    for (let at = id; at !== undefined; at = parentOf.get(at)) seen.add(keyOf(byId.get(at)));
    for (const key of seen) total.set(key, (total.get(key) ?? 0) + us);
  }
  const row = ([key, us]) => {
    const [name, where] = key.split('\t');
    return `| ${(us / 1000).toFixed(1)} | ${((100 * us) / allUs).toFixed(1)} % | ${(((total.get(key) ?? 0) * 100) / allUs).toFixed(1)} % | \`${name}\` | ${where} |`;
  };
  const header = ['| self ms | self | total | function | file:line |', '|---|---|---|---|---|'];
  const bySelf = [...self].sort((a, b) => b[1] - a[1]).slice(0, top);
  const ownByTotal = [...total].filter(([key]) => key.includes('dist/')).sort((a, b) => b[1] - a[1]).slice(0, top);
  return [
    `Profiled: ${(allUs / 1000).toFixed(0)} ms of main-thread samples.`,
    '',
    `Top ${top} functions by self time:`,
    '',
    ...header,
    ...bySelf.map(row),
    '',
    `heapwatch's functions by total time (callees included):`,
    '',
    ...header,
    ...ownByTotal.map(([key]) => row([key, self.get(key) ?? 0])),
  ].join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [file, top = '15'] = process.argv.slice(2);
  console.log(summariseCpuProfile(JSON.parse(readFileSync(file, 'utf8')), Number(top)));
}
