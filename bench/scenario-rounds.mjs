// The scenario corpus (test/detector/scenarios.test.ts: leaks and look-alikes, each in a process of
// its own with a real monitor) run again and again on several Node lines, with each scenario's
// verdicts counted per line: a leak's test passes when it is suspected at its allocating function,
// a look-alike's when nothing is suspected.
//   node bench/scenario-rounds.mjs [--rounds=5] [--nodes=22,24,26]
// (npm test or npm run pretest first: it runs the compiled test. The Node builds come from
// scripts/install-node-versions.sh.) Prints a Markdown table; each round's TAP output is kept in
// .node-versions/scenario-rounds/.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseFlags, shellCommand } from './lib/cli.mjs';

const flags = parseFlags(process.argv.slice(2), { rounds: '5', nodes: '22,24,26' });
const rounds = Number(flags.rounds);
if (!(Number.isInteger(rounds) && rounds > 0)) throw new Error(`Invalid --rounds="${flags.rounds}" - expected a positive integer`);
const lines = flags.nodes.split(',');
const bins = execFileSync('bash', ['scripts/install-node-versions.sh', ...lines], { encoding: 'utf8' }).trim().split('\n');
const logDir = '.node-versions/scenario-rounds';
mkdirSync(logDir, { recursive: true });

/** Runs the corpus once; resolves with each scenario's verdict (true: as expected) and the TAP output. */
function runOnce(node) {
  return new Promise((resolve) => {
    const child = spawn(node, ['--test', '--test-reporter=tap', '.test-build/test/detector/scenarios.test.js'], { stdio: ['ignore', 'pipe', 'pipe'] });
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

const tally = new Map(); // scenario → line → passes
const started = Date.now();
for (let round = 1; round <= rounds; round++) {
  for (const [i, line] of lines.entries()) {
    const node = `${bins[i]}/node`;
    const { verdicts, out } = await runOnce(node);
    writeFileSync(`${logDir}/node${line}-round${round}.tap`, out);
    for (const [scenario, ok] of verdicts) {
      if (!tally.has(scenario)) tally.set(scenario, new Map());
      const row = tally.get(scenario);
      row.set(line, (row.get(line) ?? 0) + (ok ? 1 : 0));
    }
    const failed = [...verdicts].filter(([, ok]) => !ok).map(([name]) => name);
    console.error(`round ${round}, Node ${line}: ${verdicts.size - failed.length}/${verdicts.size}${failed.length ? ` — failed: ${failed.join('; ')}` : ''}`);
  }
}
const versions = bins.map((bin) => execFileSync(`${bin}/node`, ['--version'], { encoding: 'utf8' }).trim());
console.log(`\`${shellCommand()}\` — ${rounds} rounds on Node ${versions.join(', ')}, ${Math.round((Date.now() - started) / 60000)} min\n`);
console.log(`| scenario | ${versions.join(' | ')} |`);
console.log(`|---|${versions.map(() => '---').join('|')}|`);
for (const [scenario, row] of tally) console.log(`| ${scenario} | ${lines.map((line) => `${row.get(line) ?? 0}/${rounds}`).join(' | ')} |`);
