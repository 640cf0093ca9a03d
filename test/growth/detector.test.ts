import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ExternalShares } from '../../src/growth/external-share.js';

import { Detector } from '../../src/growth/detector.js';

import { SuspicionTracker } from '../../src/growth/suspicion.js';
import { GrowthWindow } from '../../src/growth/window.js';
import { frameKey, NATIVE_SITE } from '../../src/snapshot/frame.js';
import type { Frame } from '../../src/snapshot/frame.js';
import type { SiteReading } from '../../src/snapshot/site-aggregator.js';
import { Traceback } from '../../src/snapshot/traceback.js';

const MiB = 1024 * 1024;
const R = 32 * 1024;
// A reading a second, a 64 s window: horizons of 4, 8, 16, 32 s (twice the threshold) and 64 s.
const options = { intervalMs: 1000, windowMs: 64_000, growthThresholdBytes: 1 * MiB };
const frame = (name: string): Frame => ({ functionName: name, file: `/app/${name}.js`, line: 1, column: 1 });

/** What a run may add to its sites' readings. */
interface RunExtras {
  /** Sites keyed as the aggregator keys them (`frameKey`); the others are keyed by their name. */
  readonly frames?: Record<string, Frame>;
  readonly warmupEndsAt?: number;
  /** The callers of a site on its stack, innermost first, by name (sites of their own, some of them). */
  readonly callers?: Record<string, string[]>;
  /** Dead objects a site holds in the tick readings, not in the clean ones (bytes, a function of the time in s). */
  readonly garbage?: Record<string, (t: number) => number>;
}

/**
 * Feeds a detector readings of sites whose live bytes follow the given functions of the time (s),
 * every second, with a clean reading (the same values, less any garbage) every other second, and
 * returns when and over which horizon each site was raised or cleared.
 */
function run(sites: Record<string, (t: number) => number>, seconds: number, extras: RunExtras = {}) {
  const { frames = {}, warmupEndsAt, callers = {}, garbage = {} } = extras;
  const window = new GrowthWindow(65, 100, options.windowMs);
  const clean = new GrowthWindow(65, 100, options.windowMs);
  const tracker = new SuspicionTracker(options.windowMs);
  const detector = new Detector({ ...options, ...(warmupEndsAt === undefined ? {} : { warmupEndsAt }) }, window, (key, since) => clean.series(key, since), tracker, new ExternalShares(window));
  const events: string[] = [];
  const wanted: Array<number | undefined> = [];
  for (let t = 0; t <= seconds; t++) {
    const now = t * 1000;
    const reading = (withGarbage: boolean) => {
      const readings = new Map<string, SiteReading>();
      for (const [name, bytes] of Object.entries(sites)) {
        const given = frames[name];
        const key = given ? frameKey(given) : name;
        const stack = [given ?? frame(name), ...(callers[name] ?? []).map((caller) => frame(caller))];
        const size = bytes(t) + (withGarbage ? (garbage[name]?.(t) ?? 0) : 0);
        readings.set(key, { key, size, count: size / 100, traceback: new Traceback(stack) });
      }
      // Other memory that does not change, so that the whole grows as the sites do.
      return { readings, total: [...readings.values()].reduce((sum, site) => sum + site.size, 50 * MiB) };
    };
    const tick = reading(true);
    window.push(now, tick.readings, tick.total, (key) => tracker.isSuspect(key));
    if (t % 2 === 0) {
      const garbageFree = reading(false);
      clean.push(now, garbageFree.readings, garbageFree.total, (key) => tracker.isSuspect(key));
    }
    const judgement = detector.judge(now, R);
    wanted.push(judgement.wantedHorizonMs);
    for (const key of judgement.clear) if (tracker.clear(key, now)) events.push(`${t} s: ${key} cleared`);
    for (const [key, horizon] of judgement.raise) {
      if (tracker.raise(key, horizon, now)) events.push(`${t} s: ${key} raised over ${horizon.ms / 1000} s`);
    }
  }
  return { events, wanted, detector };
}

test('a fast leak is raised over a short horizon, a slow one over the window', () => {
  const { events } = run({ fast: (t) => 5 * MiB + (t > 10 ? (t - 10) * 1 * MiB : 0), slow: (t) => 5 * MiB + t * 0.03 * MiB }, 80);
  // The fast one passes twice the threshold within 3 s, and is judged once it has been watched
  // over a whole short horizon with clean readings spread over half of it.
  assert.match(events[0] ?? '', /^1\d s: fast raised over [48] s$/);
  assert.ok(events.includes('64 s: slow raised over 64 s'), events.join('; '));
  assert.equal(events.length, 2, events.join('; '));
});

test('a warm-up under twice the threshold is never raised, however long it takes', () => {
  // 1.8 MiB over 30 s (about half the window), then flat.
  const { events, detector } = run({ warm: (t) => 5 * MiB + Math.min(t, 30) * 0.06 * MiB }, 130);
  assert.deepEqual(events, []);
  assert.ok(detector.growthOf('warm', 512 * 1024).growthBytes < 1 * MiB, 'once it levelled off, the window shows no growth');
});

test('a warm-up of more than twice the threshold is a suspect while it grows: at that size it is a leak until it stops', () => {
  const { events } = run({ warm: (t) => 5 * MiB + Math.min(t, 30) * 0.3 * MiB }, 40);
  assert.equal(events.length, 1, events.join('; '));
  assert.match(events[0] ?? '', /warm raised over \d+ s/);
});

test('during the warm-up nothing is raised: a leak present from the start is raised when it ends, a large warm-up that stopped within it never', () => {
  const { events, wanted } = run(
    {
      leak: (t) => 5 * MiB + t * 1 * MiB,
      // 6 MiB (three times the threshold over the window) in 20 s, then flat.
      cache: (t) => 5 * MiB + Math.min(t, 20) * 0.3 * MiB,
    },
    130,
    { warmupEndsAt: 30_000 },
  );
  assert.deepEqual(events, ['30 s: leak raised over 4 s'], events.join('; '));
  // Clean readings are wanted for a candidate only once they can still serve when the warm-up
  // ends: from the warm-up's end minus the longest horizon it rises over, not at the start.
  assert.equal(wanted[0], undefined);
  assert.ok(wanted.slice(26, 30).every((ms) => ms !== undefined), JSON.stringify(wanted.slice(0, 31)));
});

test("a steady cache's bytes moving from its filling callee to the caller that inlined it are no leak, beside a leak elsewhere", () => {
  // A 4 MiB cache whose entries are replaced every 8 s; at 40 s TurboFan inlines `cacheEntry`
  // into `turnOver`, and V8 charges each new entry to `turnOver`. A leak elsewhere makes all sites
  // together grow as fast, so rule 4 of assessTrend does not tell.
  const moved = (t: number) => Math.min(Math.max(t - 40, 0) / 8, 1);
  const cache = 4 * MiB;
  const sites = { cacheEntry: (t: number) => cache * (1 - moved(t)), turnOver: (t: number) => cache * moved(t), leakSome: (t: number) => 5 * MiB + t * 0.5 * MiB };
  const callers = { cacheEntry: ['turnOver', 'tick'], turnOver: ['tick'], leakSome: ['tick'] };
  // Keyed as the aggregator keys them, so that a caller on a stack is found as a site.
  const frames = Object.fromEntries(Object.keys(sites).map((name) => [name, frame(name)]));
  const { events } = run(sites, 100, { frames, callers });
  assert.deepEqual(events.filter((event) => !event.includes('leakSome')), [], events.join('; '));
  assert.ok(events.some((event) => /leakSome raised/.test(event)), events.join('; '));
  // The same rise at a function on no stack with a falling site is raised.
  const unrelated = run(sites, 100, { frames, callers: { ...callers, cacheEntry: ['refill', 'tick'] } });
  assert.ok(unrelated.events.some((event) => /turnOver raised/.test(event)), unrelated.events.join('; '));
});

test("a leaking handler is raised as soon though the request garbage of a function it calls dropped at a major GC, beside a leak elsewhere", () => {
  // `handle` keeps 0.05 MiB/s; `parse`, which it calls, holds 1 MiB live and, in the tick readings
  // only, garbage: 5 to 15 MiB piled up by 20 s, collected by a major GC then, and piling again
  // more slowly — in the tick readings a fall of ~10 MiB beside the leak. `other` leaks too, so
  // all sites together grow. The clean readings show no fall.
  const sites = { handle: (t: number) => 5 * MiB + t * 0.05 * MiB, parse: () => 1 * MiB, other: (t: number) => 5 * MiB + t * 0.5 * MiB };
  const frames = Object.fromEntries(Object.keys(sites).map((name) => [name, frame(name)]));
  const garbage = { parse: (t: number) => (t < 20 ? (t + 10) * 0.5 : (t - 20) * 0.05) * MiB };
  const raised = (events: string[]) => events.find((event) => /handle raised/.test(event));
  // As soon as when `parse` is on no stack of `handle`'s.
  const apart = run(sites, 70, { frames, garbage });
  assert.ok(raised(apart.events), apart.events.join('; '));
  const { events } = run(sites, 70, { frames, callers: { parse: ['handle'] }, garbage });
  assert.equal(raised(events), raised(apart.events), events.join('; '));
});

test("a leak on a route is raised as soon though the framework's functions above it on the stack wander by chance", () => {
  // `queue` keeps 0.1 MiB/s below five framework functions, each a site of its own whose clean
  // readings wander by ±1 MiB (in-flight requests, sampling) with no trend: some fall over any
  // horizon. Their falls alone, summed, would pass for the leak's bytes having moved.
  const wander = (phase: number) => (t: number) => 3 * MiB + Math.round(Math.sin(t / 3 + phase)) * MiB;
  const framework = ['route', 'layer', 'next', 'dispatch', 'handle'];
  const sites: Record<string, (t: number) => number> = { queue: (t) => 5 * MiB + t * 0.1 * MiB };
  framework.forEach((name, i) => (sites[name] = wander(i * 1.3)));
  const frames = Object.fromEntries(Object.keys(sites).map((name) => [name, frame(name)]));
  const raised = (events: string[]) => events.find((event) => /queue raised/.test(event));
  const apart = run(sites, 70, { frames });
  assert.ok(raised(apart.events), apart.events.join('; '));
  const callers = Object.fromEntries(framework.map((name, i) => [name, framework.slice(i + 1)]));
  const { events } = run(sites, 70, { frames, callers: { ...callers, queue: framework } });
  assert.equal(raised(events), raised(apart.events), events.join('; '));
});

test('judging the suspects only (a reading that repeats the one before) raises nothing and clears a suspect that settled', () => {
  const window = new GrowthWindow(65, 100, options.windowMs);
  const tracker = new SuspicionTracker(options.windowMs);
  const detector = new Detector(options, window, (key, since) => window.series(key, since), tracker, new ExternalShares(window));
  // A leak of 1 MiB/s for 20 s, then nothing more: what it holds stays.
  const leak = (t: number) => 5 * MiB + Math.min(t, 20) * MiB;
  let raisedAt: number | undefined;
  let clearedAt: number | undefined;
  for (let t = 0; t <= 120 && clearedAt === undefined; t++) {
    const now = t * 1000;
    const readings = new Map<string, SiteReading>([['leak', { key: 'leak', size: leak(t), count: leak(t) / 100, traceback: new Traceback([frame('leak')]) }]]);
    window.push(now, readings, leak(t) + 50 * MiB, (key) => tracker.isSuspect(key));
    const quiet = detector.judge(now, R, true);
    assert.deepEqual(quiet.raise, [], `${t} s: nothing is raised from the suspects alone`);
    assert.equal(quiet.wantedHorizonMs, undefined);
    if (raisedAt === undefined) {
      const [raised] = detector.judge(now, R).raise;
      if (raised) {
        tracker.raise(raised[0], raised[1], now);
        raisedAt = t;
      }
    } else if (quiet.clear.includes('leak')) {
      assert.deepEqual(detector.judge(now, R).clear, ['leak'], 'the full judgement clears it at the same reading');
      clearedAt = t;
    }
  }
  assert.ok(raisedAt !== undefined && raisedAt < 20, `raised at ${raisedAt} s`);
  assert.ok(clearedAt !== undefined && clearedAt > 20, `cleared at ${clearedAt} s`);
});

test('growth that no JavaScript function allocated is never raised', () => {
  const native = { [NATIVE_SITE.functionName]: NATIVE_SITE };
  const { events, wanted } = run({ [NATIVE_SITE.functionName]: (t) => 5 * MiB + t * 1 * MiB }, 70, { frames: native });
  assert.deepEqual(events, []);
  assert.ok(wanted.every((ms) => ms === undefined), 'nor does it ask for clean readings');
});

test('clean readings are wanted as soon as a young site rises, over the shortest horizon', () => {
  const { wanted } = run({ fast: (t) => (t > 2 ? (t - 2) * 1 * MiB : 0), flat: () => 3 * MiB }, 6);
  assert.deepEqual(wanted.slice(0, 3), [undefined, undefined, undefined]);
  assert.equal(wanted[5], 4000);
});

test('no clean reading is wanted for a site that rose and stopped: garbage piled up under load, now at rest', () => {
  // +1.5 MiB over 10 s (past half of twice the threshold, under twice it), then flat.
  const { events, wanted } = run({ piled: (t) => 5 * MiB + Math.min(t, 10) * 0.15 * MiB }, 60);
  assert.deepEqual(events, []);
  assert.ok(wanted.slice(4, 11).some((ms) => ms !== undefined), 'wanted while it rose');
  // Once its late quarters are flat over every horizon: none.
  assert.ok(wanted.slice(20).every((ms) => ms === undefined), JSON.stringify(wanted));
});

test('a suspicion clears once the growth over its horizon and over the window has settled', () => {
  // 1 MiB/s for 20 s, then flat: raised over a short horizon, cleared about a window later.
  const { events } = run({ leak: (t) => 5 * MiB + Math.min(t, 20) * 1 * MiB }, 150);
  assert.equal(events.length, 2, events.join('; '));
  assert.match(events[0] ?? '', /leak raised over [48] s/);
  const cleared = Number(/^(\d+) s: leak cleared$/.exec(events[1] ?? '')?.[1]);
  assert.ok(cleared > 20 + 32 && cleared <= 20 + 64, events.join('; '));
});

test('a few clean readings that rise by chance do not make a turning-over site look like a leak', () => {
  // A cache warms up by 1.8 MiB over half the window, then turns over: its tick readings carry
  // the entries it replaced until each major GC (every 8 s) drops them, and its six clean
  // readings happen to rise after the warm-up too (+0.4 MiB: chance). From six readings without a
  // falling step, its wander would be zero and the chance rise a leak's late growth; the tick
  // readings' falls tell the wander until there are nine.
  const window = new GrowthWindow(65, 100, options.windowMs);
  const clean = new GrowthWindow(65, 100, options.windowMs);
  const tracker = new SuspicionTracker(options.windowMs);
  const detector = new Detector(options, window, (key, since) => clean.series(key, since), tracker, new ExternalShares(window));
  const live = (t: number) => 5 * MiB + Math.min(t, 32) * 0.056 * MiB + (t > 32 ? ((t - 32) / 32) * 0.4 * MiB : 0);
  const cleanAt = new Set([8, 24, 40, 48, 56, 64]);
  const reading = (size: number) => new Map([['warm', { key: 'warm', size, count: size / 100, traceback: new Traceback([frame('warm')]) }]]);
  const raised: string[] = [];
  for (let t = 0; t <= 64; t++) {
    const garbage = (t % 8) * 0.1 * MiB;
    window.push(t * 1000, reading(live(t) + garbage), live(t) + garbage + 50 * MiB, () => false);
    if (cleanAt.has(t)) clean.push(t * 1000, reading(live(t)), live(t) + 50 * MiB, () => false);
    for (const [key, horizon] of detector.judge(t * 1000, R).raise) raised.push(`${t} s: ${key} over ${horizon.ms / 1000} s`);
  }
  assert.deepEqual(raised, []);
});

/**
 * Feeds a detector a process whose ArrayBuffer memory grows by 1 MiB a second while its sites hold
 * the sampled wrappers the given functions of the time (s) say (bytes of V8's heap, R each), with
 * a clean reading every other second, and returns the sites raised. `outside` replaces that memory
 * (and gives its noise: the Buffer sampler's estimate taken from it).
 */
function runBuffers(
  wrappers: Record<string, (t: number) => number>,
  seconds: number,
  outside = (t: number) => ({ arrayBuffersBytes: 4 * MiB + t * MiB, sampledExternalNoiseBytes: 0 }),
): string[] {
  const window = new GrowthWindow(65, 100, options.windowMs);
  const clean = new GrowthWindow(65, 100, options.windowMs);
  const tracker = new SuspicionTracker(options.windowMs);
  const detector = new Detector(options, window, (key, since, share) => clean.series(key, since, share), tracker, new ExternalShares(window, clean));
  const raised: string[] = [];
  for (let t = 0; t <= seconds; t++) {
    const readings = new Map<string, SiteReading>();
    for (const [key, bytes] of Object.entries(wrappers)) {
      readings.set(key, { key, size: bytes(t), count: bytes(t) / 100, wrapperBytes: bytes(t), traceback: new Traceback([frame(key)]) });
    }
    const totalWrapperBytes = [...readings.values()].reduce((sum, reading) => sum + reading.size, 0);
    const memory = { ...outside(t), totalWrapperBytes };
    window.push(t * 1000, readings, totalWrapperBytes + 50 * MiB, (key) => tracker.isSuspect(key), memory);
    if (t % 2 === 0) clean.push(t * 1000, readings, totalWrapperBytes + 50 * MiB, (key) => tracker.isSuspect(key), memory);
    for (const [key, horizon] of detector.judge(t * 1000, R).raise) if (tracker.raise(key, horizon, t * 1000)) raised.push(key);
  }
  return raised;
}

test("a site is judged on its share of the ArrayBuffer growth with that share's noise: one sampled wrapper of a request in flight does not take half a Buffer leak", () => {
  // From 10 s one wrapper of the leak is sampled, and one object of a wrapper's size that a request
  // in flight holds (Express's parsed URL, seen on Node 26 under load): a share of one half each,
  // from one sample each. Neither is raised on that alone.
  const one = (t: number) => (t >= 10 ? R : 0);
  assert.deepEqual(runBuffers({ leak: one, inflight: one }, 70), []);
  // As the leak's wrappers keep being sampled (one more every 4 s), its share firms up and it is
  // raised; the request's object, still one sample, is not.
  const leak = (t: number) => (t >= 10 ? R * (1 + Math.floor((t - 10) / 4)) : 0);
  assert.deepEqual(runBuffers({ leak, inflight: one }, 70), ['leak']);
});

test("with the Buffer sampler on, what its estimate left over grows within that estimate's noise: the wrappers' site is not judged on it", () => {
  // A 4 MiB/s Buffer leak whose Buffers the sampler estimates at its keeper (another site), their
  // wrappers sampled on V8's heap at the caller the keeper was inlined into. The estimate came out
  // 0.1 MiB/s short: the memory left over grows by that, which the caller's wrappers would take.
  const caller = (t: number) => (t >= 2 ? R * (1 + Math.floor((t - 2) / 4)) : 0);
  const leftOver = (t: number) => 4 * MiB + t * 0.1 * MiB;
  // The sampler's estimate of 4 MiB/s at R a sample: its deviation grows as the square root.
  const estimateNoise = (t: number) => Math.sqrt(t * 4 * MiB * R);
  assert.deepEqual(runBuffers({ caller }, 64, (t) => ({ arrayBuffersBytes: leftOver(t), sampledExternalNoiseBytes: estimateNoise(t) })), []);
  // The same growth of exact memory (socket chunks, which no sampler estimates) is the caller's.
  assert.deepEqual(runBuffers({ caller }, 64, (t) => ({ arrayBuffersBytes: leftOver(t), sampledExternalNoiseBytes: 0 })), ['caller']);
});
