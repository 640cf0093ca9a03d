// The scenario corpus (test/detector/scenarios.test.ts: leaks and look-alikes, each in a process of
// its own with a real monitor) run again and again on several Node lines, with each scenario's
// verdicts counted per line: a leak's test passes when it is suspected at its allocating function,
// a look-alike's when nothing is suspected.
//   node bench/scenario-rounds.mjs [--rounds=5] [--nodes=22,24,26] [--allocations=off[,on]]
// --allocations: one column per line and mode, the modes taking turns within each round: off (live
// mode, the default) or on (allocation mode, Node 26: HEAPWATCH_SCENARIO_ALLOCATIONS=1, see
// test/scenarios/run-scenario.mjs).
// (npm test or npm run pretest first: it runs the compiled test. The Node builds come from
// scripts/install-node-versions.sh.) Prints a Markdown table; each round's TAP output is kept in
// .node-versions/scenario-rounds/.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { parseFlags, shellCommand } from './lib/cli.mjs';

const flags = parseFlags(process.argv.slice(2), { rounds: '5', nodes: '22,24,26', allocations: 'off' });
const modes = flags.allocations.split(',');
if (!modes.every((mode) => ['off', 'on'].includes(mode))) {
  throw new Error(`Invalid --allocations="${flags.allocations}" - expected a comma-separated list of off, on`);
}
const envOf = (mode) => (mode === 'off' ? process.env : { ...process.env, HEAPWATCH_SCENARIO_ALLOCATIONS: '1' });
const rounds = Number(flags.rounds);
if (!(Number.isInteger(rounds) && rounds > 0)) throw new Error(`Invalid --rounds="${flags.rounds}" - expected a positive integer`);
const lines = flags.nodes.split(',');
// Builds already installed are used as they are (no registry round trip).
const installed = lines.map((line) => `${process.cwd()}/.node-versions/node_modules/node${line}/bin`);
const bins = installed.every((bin) => existsSync(`${bin}/node`))
  ? installed
  : execFileSync('bash', ['scripts/install-node-versions.sh', ...lines], { encoding: 'utf8' }).trim().split('\n');
const logDir = '.node-versions/scenario-rounds';
mkdirSync(logDir, { recursive: true });

/** Runs the corpus once; resolves with each scenario's verdict (true: as expected) and the TAP output. */
function runOnce(node, mode) {
  return new Promise((resolve) => {
    const child = spawn(node, ['--test', '--test-reporter=tap', '.test-build/test/detector/scenarios.test.js'], { stdio: ['ignore', 'pipe', 'pipe'], env: envOf(mode) });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.stderr.on('data', (chunk) => (out += chunk));
    child.on('close', () => {
      const verdicts = new Map();
      let group = '';
      for (const line of out.split('\n')) {
        const top = /^# Subtest: (.*)$/.exec(line);
        if (top) group = top[1];
        const sub = /^    (not ok|ok) \d+ - (.*)$/.exec(line);
        if (sub) verdicts.set(`${group}: ${sub[2]}`, sub[1] === 'ok');
      }
      resolve({ verdicts, out });
    });
  });
}

// One column per line and mode: `26` in live mode, `26 allocations` in allocation mode.
const columns = lines.flatMap((line, i) => modes.map((mode) => ({ line, mode, bin: bins[i], name: mode === 'off' ? line : `${line} allocations` })));
const tally = new Map(); // scenario → column → passes
const started = Date.now();
for (let round = 1; round <= rounds; round++) {
  for (const column of columns) {
    const { verdicts, out } = await runOnce(`${column.bin}/node`, column.mode);
    writeFileSync(`${logDir}/node${column.name.replace(' ', '-')}-round${round}.tap`, out);
    for (const [scenario, ok] of verdicts) {
      if (!tally.has(scenario)) tally.set(scenario, new Map());
      const row = tally.get(scenario);
      row.set(column.name, (row.get(column.name) ?? 0) + (ok ? 1 : 0));
    }
    const failed = [...verdicts].filter(([, ok]) => !ok).map(([name]) => name);
    console.error(`round ${round}, Node ${column.name}: ${verdicts.size - failed.length}/${verdicts.size}${failed.length ? ` — failed: ${failed.join('; ')}` : ''}`);
  }
}
const versionOf = new Map(lines.map((line, i) => [line, execFileSync(`${bins[i]}/node`, ['--version'], { encoding: 'utf8' }).trim()]));
const heading = (column) => `${versionOf.get(column.line)}${column.mode === 'off' ? '' : ', allocation mode'}`;
console.log(`\`${shellCommand()}\` — ${rounds} rounds on Node ${[...versionOf.values()].join(', ')}, ${Math.round((Date.now() - started) / 60000)} min\n`);
console.log(`| scenario | ${columns.map(heading).join(' | ')} |`);
console.log(`|---|${columns.map(() => '---').join('|')}|`);
for (const [scenario, row] of tally) console.log(`| ${scenario} | ${columns.map((column) => `${row.get(column.name) ?? 0}/${rounds}`).join(' | ')} |`);
