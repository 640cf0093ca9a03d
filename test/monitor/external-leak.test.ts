import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { defaults } from '../../src/options/defaults.js';
import { repoRoot } from '../helpers.js';

// Issue 22, at heapwatch's defaults (512 KiB sampling, readings every 10 s, 2 MiB threshold) but
// for the warm-up: real Express services holding real Buffers, loaded at 100 requests/s of 16 KiB
// bodies from a worker thread (test/fixtures/buffer-leak.mjs), all six at once, 230 s of leak.
const RUN_MS = 240_000;
// Without the Buffer sampler the leak's site is named once V8 has sampled two of its Buffers'
// small objects on its heap that stay (a share from one is judged too noisy): ~196 B per 16 KiB
// Buffer, one sample per ~27 s at 100 requests/s, a Poisson arrival. It is suspected once its
// series covers the shortest horizon (40 s): runs side by side on Node 24 and 26 were suspected
// 5 to 45 s after V8's second sample that stayed (95 s once, before the shares of an inlined
// keeper and its caller were judged together). The chance of fewer than two samples in m
// expected is e^-m (1 + m): over the whole run 1 in 150 at 100 requests/s, but 1 in 15 when a
// loaded CI machine serves 60 a second, which failed a CI run. The detection is therefore
// asserted when V8 sampled the keeper twice at least 100 s before the end, and otherwise skipped
// with the odds; the delay over many runs is bench/external-detection.mjs's (BENCHMARKS §4).
const WRAPPER_BYTES = 196;
const BODY_BYTES = 16 * 1024;
const SAMPLED_TWICE_BEFORE_END_S = 100;

interface Truth {
  readonly seconds: number;
  readonly heldBytes: number;
  readonly arrayBuffers: number;
  readonly leakStartedAt: number;
  readonly top?: { readonly function: string; readonly file: string; readonly externalBytes: number; readonly externalNoiseBytes: number };
  /** Outside V8's heap at the sites of Node's own making: `(native)` and Node's functions. */
  readonly nodeExternalBytes: number;
  /** V8's heap at the alloc leak's keeper: about one sampling interval per sample V8 took there. */
  readonly keeperHeapBytes: number;
}
interface Suspected {
  readonly time: number;
  readonly msg: string;
  readonly heapwatch: {
    readonly event: string;
    readonly site: { readonly function: string; readonly file?: string; readonly line?: number };
    readonly liveBytes: number;
    readonly externalBytes: number;
    readonly externalNoiseBytes: number;
    readonly growthBytes: number;
  };
}

async function runService(mode: string): Promise<{ truths: Truth[]; suspected: Suspected[] }> {
  // `alloc-sampled`: the Buffer leak with heapwatch's Buffer sampler on (`bufferSampling: true`).
  const env = mode === 'alloc-sampled' ? { ...process.env, BUFFER_LEAK_BUFFER_SAMPLING: '1' } : process.env;
  const fixtureMode = mode === 'alloc-sampled' ? 'alloc' : mode;
  const child = spawn(process.execPath, ['test/fixtures/buffer-leak.mjs', fixtureMode], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const timer = setTimeout(() => child.kill(), RUN_MS);
  await once(child, 'exit');
  clearTimeout(timer);
  const lines = (text: string) => text.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as unknown);
  const truths = lines(stderr).filter((line): line is Truth => (line as { truth?: boolean }).truth === true);
  const suspected = lines(stdout).filter((line): line is Suspected => (line as Suspected).heapwatch?.event === 'leak-suspected');
  assert.ok(truths.length > 0, `${mode}: the service ran\n${stderr}`);
  return { truths, suspected };
}

const within2x = (estimate: number, truth: number) => estimate >= truth / 2 && estimate <= truth * 2;

// The Buffer leak's keeper, as V8 can name it. V8 charges an inlined function's allocations to the
// function it was inlined into, the one whose frame is on the stack (docs/concepts.md, "a site is a function"): on Node 26 queueBody is
// inlined into placeOrder, and on a loaded machine V8 has inlined the whole dispatch from Express's
// router down — Layer.handleRequest, Route.dispatch, placeOrder, queueBody — into the router's
// callback after the route's parameters (`(anonymous)`, node_modules/router/index.js:305, seen in
// CI on Node 22). Any of those frames is the keeper's stack; any other function is a wrong one.
const isKeeper = (site: Suspected['heapwatch']['site'] | Truth['top']) =>
  site !== undefined && (['queueBody', 'placeOrder'].includes(site.function) || /node_modules\/router\//.test(site.file ?? ''));

/**
 * A record's figure outside V8's heap is within 2x of what the service held when it was written
 * (between the truth lines on either side of it), its heap figure stays the heap's, and it states
 * its noise.
 */
function assertSizedApart(record: Suspected, truths: readonly Truth[], delaySeconds: number): void {
  const after = truths.findIndex((truth) => truth.seconds >= delaySeconds);
  assert.ok(after > 0, 'truth lines on both sides of the record');
  const [a, b] = [truths[after - 1] as Truth, truths[after] as Truth];
  const heldThen = a.heldBytes + ((b.heldBytes - a.heldBytes) * (delaySeconds - a.seconds)) / (b.seconds - a.seconds);
  const { externalBytes, liveBytes, externalNoiseBytes } = record.heapwatch;
  assert.ok(within2x(externalBytes, heldThen), `reported ${externalBytes} B outside the heap, held ~${heldThen} B`);
  assert.ok(liveBytes < externalBytes / 10, "V8's heap figure stays the heap's");
  assert.ok(externalNoiseBytes > 0, 'the estimate states its noise');
}

// The six services at once, once: each test reads its part.
const MODES = ['alloc', 'alloc-sampled', 'socket', 'ring', 'drain', 'pool'] as const;
const runs = Promise.all(MODES.map(runService));
const run = async (mode: (typeof MODES)[number]) => (await runs)[MODES.indexOf(mode)] as Awaited<ReturnType<typeof runService>>;

test('16 KiB Buffer.alloc() kept at 1.6 MB/s is suspected at the keeping function with its size within 2x, outside V8\'s heap apart', async (t) => {
  const alloc = await run('alloc');
  const first = alloc.suspected[0];
  const last = alloc.truths.at(-1) as Truth;
  // V8's samples of the keeper's objects that stayed: the least it held at any later truth line.
  // Its request garbage is sampled there too, and dies (twice "sampled" 15 s into a CI run on
  // Node 24 that was never suspected); the kept Buffers' objects never do.
  const samples = alloc.truths.map((truth) => Math.round(truth.keeperHeapBytes / defaults.samplingIntervalBytes));
  const kept = samples.map((_, i) => Math.min(...samples.slice(i)));
  const sampledTwice = alloc.truths.find((_, i) => (kept[i] as number) >= 2);
  if (first === undefined && (sampledTwice === undefined || last.seconds - sampledTwice.seconds < SAMPLED_TWICE_BEFORE_END_S)) {
    // Nothing to judge yet: say so, with the odds of it, rather than pass or fail on chance.
    const judgedFor = (last.seconds - SAMPLED_TWICE_BEFORE_END_S) / last.seconds;
    const expected = (judgedFor * (last.heldBytes / BODY_BYTES) * WRAPPER_BYTES) / defaults.samplingIntervalBytes;
    const chance = Math.exp(-expected) * (1 + expected);
    t.skip(`V8 sampled the keeper's objects ${kept.at(-1)} time(s) in ${last.seconds} s, fewer than twice by ${last.seconds - SAMPLED_TWICE_BEFORE_END_S} s (${expected.toFixed(1)} samples expected by then at the load served, ${Math.round(last.heldBytes / BODY_BYTES / last.seconds)} requests/s; fewer than two: 1 in ${Math.round(1 / chance)})`);
    return;
  }
  assert.ok(first, `the Buffer leak is suspected (V8 had sampled two of its keeper's objects that stayed by ${sampledTwice?.seconds} s after it began; kept samples every 5 s: ${kept.join(' ')}; at the end ${JSON.stringify(last.top)})`);
  const where = (record: Suspected) => `${record.heapwatch.site.function} (${record.heapwatch.site.file}:${record.heapwatch.site.line}): ${record.msg}`;
  assert.ok(isKeeper(first.heapwatch.site), alloc.suspected.map(where).join('\n'));
  const leakStartedAt = (alloc.truths[0] as Truth).leakStartedAt;
  // Not asserted against 60 s at the defaults: the site is named once V8 has sampled two of its
  // Buffers' small objects (~196 bytes on V8's heap per 16 KiB Buffer: one sample per ~27 s at
  // 512 KiB, a Poisson arrival). bench/external-detection.mjs measures the delay over many runs
  // (BENCHMARKS §4). With the Buffer sampler on it is asserted (the test below).
  const delaySeconds = (first.time - leakStartedAt) / 1000;
  assertSizedApart(first, alloc.truths, delaySeconds);
  assert.ok(first.heapwatch.growthBytes > 4 * 1024 * 1024, 'growth judged on the heap and the Buffers together');
  assert.match(first.msg, /of Buffers outside it \(±/);
  assert.ok(last.top && isKeeper(last.top), `${last.top?.function} (${last.top?.file})`);
  assert.ok(within2x(last.top.externalBytes, last.heldBytes), `${last.top.externalBytes} of ${last.heldBytes}`);
});

test('with bufferSampling on, the same leak is suspected at the keeping function within 60 s, its size within 2x', async () => {
  const alloc = await run('alloc-sampled');
  // The sampled Buffers' stacks are the JavaScript stack trace's, which no inlining folds: the
  // keeping function itself is suspected. The caller V8 inlined it into may be suspected at the
  // same reading and logged first (seen in CI on Node 26): see the end of this test.
  const first = alloc.suspected.find((record) => record.heapwatch.site.function === 'queueBody');
  assert.ok(first, `the Buffer leak is suspected at queueBody: ${alloc.suspected.map((record) => record.heapwatch.site.function).join(', ')}`);
  // Within the delay of a 1 MB/s heap leak: the Buffer sampler (src/buffers/) samples the leak's
  // Buffers by their bytes — about three samples a second here — so the site is tracked from the
  // first reading after the leak starts and judged once it covers the shortest horizon (40 s at
  // the defaults): 50 s in 16 runs of 16 (bench/external-detection.mjs, BENCHMARKS §4, issue 22).
  const delaySeconds = (first.time - (alloc.truths[0] as Truth).leakStartedAt) / 1000;
  assert.ok(delaySeconds <= 60, `suspected ${delaySeconds} s after the leak started`);
  assertSizedApart(first, alloc.truths, delaySeconds);
  // No function off the keeper's stack is blamed. The caller V8 inlined queueBody into may be
  // suspected as well (seen in CI on Node 22): the Buffers' small objects on V8's heap are charged
  // there, and take a share of the ArrayBuffer growth the sampler's estimate left over — the same
  // leak, on its own stack.
  const others = alloc.suspected.filter((record) => !isKeeper(record.heapwatch.site));
  assert.deepEqual(others.map((record) => `${record.heapwatch.site.function} (${record.heapwatch.site.file})`), []);
});

test("request bodies' socket chunks kept in an array are sized within 2x at the sites their allocation stack allows, Node's own, and the record says the keeper is not on it", async () => {
  // Node's HTTP parser makes a request body's chunks from C++: no function of the service is on
  // their allocation stack. With no JavaScript on it the site is `(native)`; when Node's own
  // JavaScript was on it (draining the tick queue, `runNextTicks`; a connection's first bytes,
  // `connectionListenerInternal` — seen on Node 26) the site is that function of Node's. Those are
  // all the sites the stack allows: the size is judged on their sum, and the top one is one of them.
  const socket = await run('socket');
  const last = socket.truths.at(-1) as Truth;
  const isNodes = (site: { readonly function: string; readonly file?: string } | undefined) =>
    site !== undefined && (site.function === '(native)' || (site.file ?? '').startsWith('node:'));
  assert.ok(isNodes(last.top), `${last.top?.function} (${last.top?.file})`);
  assert.ok(within2x(last.nodeExternalBytes, last.heldBytes), `${last.nodeExternalBytes} of ${last.heldBytes}`);
  const [first, ...others] = socket.suspected;
  assert.ok(first, 'the chunks kept are suspected');
  assert.ok(isNodes(first.heapwatch.site), `${first.heapwatch.site.function} (${first.heapwatch.site.file})`);
  assert.match(first.msg, /the function that keeps these objects is not on the stack that allocated them/);
  // Node's other sites may be suspected as well, with the same note — but no function of the service's.
  // The keeper itself (the `data` handler, line 31 of the fixture) may be suspected too, for what it
  // does allocate on V8's heap: the array it pushes the chunks into grows. That is the right
  // function; any other of the service's would be a wrong one.
  const isDataHandler = (site: Suspected['heapwatch']['site']) => (site.file ?? '').endsWith('buffer-leak.mjs') && site.line === 31;
  const blamed = others.filter(
    (record) => !isNodes(record.heapwatch.site) && !isDataHandler(record.heapwatch.site),
  );
  assert.deepEqual(blamed.map((record) => `${record.heapwatch.site.function} (${record.heapwatch.site.file})`), [], 'no function of the service is blamed');
  for (const record of others.filter((other) => !isDataHandler(other.heapwatch.site))) {
    assert.match(record.msg, /the function that keeps these objects is not on the stack that allocated them/, record.msg);
  }
});

for (const [mode, what] of [
  ['ring', 'a fixed ring of 256 Buffers replaced one by one'],
  ['drain', 'a stream that buffers bodies for 20 s, then drains'],
  ['pool', "200-byte slices of Node's Buffer pool, the latest 2 000 kept"],
] as const) {
  test(`${what} is never suspected`, async () => {
    const { suspected, truths } = await run(mode);
    assert.ok(truths.length >= 20, 'it ran');
    assert.deepEqual(suspected.map((record) => record.msg), []);
  });
}
