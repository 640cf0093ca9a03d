import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runNode } from '../helpers.js';

/** What examples/tracemalloc.mjs printed, taken apart. */
function parse(output: string) {
  const lines = output.split('\n');
  const number = (label: string): number => {
    const line = lines.find((l) => l.startsWith(label));
    assert.ok(line, `the example prints "${label}"`);
    return Number(/(-?\d+) bytes$/.exec(line)?.[1]);
  };
  const top = lines[1] ?? '';
  const tracebackStart = lines.indexOf('[ Traceback of the top site ]');
  const traceback = lines.slice(tracebackStart + 1, lines.indexOf('', tracebackStart)).map((l) => l.trim());
  return {
    header: lines[0],
    top,
    traceback,
    estimated: number('sum of positive size differences'),
    measured: number('heap growth measured with --expose-gc'),
  };
}

for (const reader of ['native', 'inspector'] as const) {
  test(`the first example (docs/concepts.md) finds MyObject's allocations with the ${reader} reader`, async () => {
    const result = parse(await runNode(['--expose-gc', 'examples/tracemalloc.mjs', `--reader=${reader}`]));
    assert.equal(result.header, `[ Top 5 differences, ${reader} reader ]`);
    // MyObject's constructor (line 7), or getData (line 12) when V8 inlined the constructor into it.
    assert.match(
      result.top,
      /^examples\/tracemalloc\.mjs:(7|12): size=\d+(\.\d)? (KiB|MiB) \(\+\d+(\.\d)? (KiB|MiB)\), count=\d+ \(\+\d+\), average=\d+ B$/,
    );
    const frames = result.traceback.map((line) => line.split(' ')[0]);
    assert.ok(frames.includes('getData'), result.traceback.join('\n'));
    assert.ok(frames.indexOf('run') > frames.indexOf('getData'), 'run calls getData');
    // The estimate of the growth against V8's own count, garbage collected on both sides.
    const ratio = result.estimated / result.measured;
    assert.ok(ratio > 0.7 && ratio < 1.3, `estimated ${result.estimated} vs measured ${result.measured} (ratio ${ratio.toFixed(2)})`);
  });
}
