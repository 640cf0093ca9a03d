import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ExternalShares } from '../../src/growth/external-share.js';
import { shareDeviation } from '../../src/growth/share-noise.js';
import { GrowthWindow } from '../../src/growth/window.js';
import { makesBackingStores, wrapperSizes } from '../../src/snapshot/backing-stores.js';
import { sharedInterner } from '../../src/snapshot/frame-interner.js';
import { frameKey } from '../../src/snapshot/frame.js';
import type { Frame } from '../../src/snapshot/frame.js';
import { SiteAggregator } from '../../src/snapshot/site-aggregator.js';
import type { SiteReading } from '../../src/snapshot/site-aggregator.js';
import { sharedResolver } from '../../src/snapshot/source-map.js';
import { Traceback } from '../../src/snapshot/traceback.js';
import { readProfile, startSampling, stopSampling } from '../../src/v8/sampler.js';

const R = 512 * 1024;
const site = (key: string, size: number, wrapperBytes: number): SiteReading => ({
  key,
  size,
  count: size / 100,
  wrapperBytes,
  traceback: new Traceback([{ functionName: key, file: '/app/a.js', line: 1, column: 1 }]),
});
const sites = (...readings: SiteReading[]) => new Map(readings.map((reading) => [reading.key, reading]));
const never = () => false;
const push = (window: GrowthWindow, t: number, arrayBuffersBytes: number, ...readings: SiteReading[]) => {
  const totalWrapperBytes = readings.reduce((sum, reading) => sum + (reading.wrapperBytes ?? 0), 0);
  window.push(t, sites(...readings), 0, never, { arrayBuffersBytes, totalWrapperBytes });
};

test('gives the growth of ArrayBuffer memory to the site whose wrappers grew, not to a ring whose wrappers stayed', () => {
  const window = new GrowthWindow(64, 100, 600_000);
  // A ring holds 4 MB throughout (one sampled wrapper); the leak's first wrapper is sampled at 40 s.
  for (let t = 0; t <= 60; t += 10) {
    const leak = t >= 40 ? site('leak', R, R) : undefined;
    push(window, t * 1000, 4e6 + t * 1.6e6, site('ring', R, R), ...(leak ? [leak] : []));
  }
  const shares = new ExternalShares(window);
  const leak = shares.of('leak', R);
  const ring = shares.of('ring', R);
  assert.equal(leak?.growthShare, 1);
  assert.equal(ring?.growthShare, 0);
  // The growth (96 MB) is the leak's, the rest (4 MB) is shared by wrappers now: half each.
  assert.equal(leak?.externalBytes, 96e6 + 2e6);
  assert.equal(ring?.externalBytes, 2e6);
  // One sample of two behind the level shares, one of one behind the growth: noise stated, and
  // under the estimate for the leak.
  assert.ok((leak?.noiseBytes ?? 0) > 0 && (leak?.noiseBytes ?? 0) < (leak?.externalBytes ?? 0) / 2);
});

test("with the Buffer sampler on, a share of what its estimate left over carries that estimate's noise", () => {
  // The leak's wrappers alone grew: it takes all the growth left over, 60 MB, exactly as far as the
  // share goes (one site, a share of 1). What is left over is exact memory less the sampler's
  // estimate, ±3 MB at each reading: the figure is ±4.2 MB at least, not ±0.
  const window = new GrowthWindow(64, 100, 600_000);
  for (let t = 0; t <= 60; t += 10) {
    const leak = site('leak', R + t * 0.1 * R, R + t * 0.1 * R);
    window.push(t * 1000, sites(leak), 0, never, { arrayBuffersBytes: 1e6 + t * 1e6, totalWrapperBytes: leak.wrapperBytes ?? 0, sampledExternalNoiseBytes: 3e6 });
  }
  const leak = new ExternalShares(window).of('leak', R);
  assert.equal(leak?.growthShare, 1);
  assert.ok((leak?.noiseBytes ?? 0) >= Math.hypot(3e6, 3e6) - 1, `±${leak?.noiseBytes}`);
});

test('says what the process-level verdict judges: the ArrayBuffer memory at the latest reading, and whether a site’s wrappers took its growth', () => {
  const window = new GrowthWindow(64, 100, 600_000);
  const shares = new ExternalShares(window);
  assert.equal(shares.placed(R), undefined, 'nothing before the first reading');
  for (let t = 0; t <= 30; t += 10) push(window, t * 1000, 1e6 + t * 1e6, site('ring', R, R));
  assert.deepEqual(shares.placed(R), { unplacedBytes: 31e6, growthShared: false }, 'a ring’s wrappers stayed: the growth is no site’s');
  push(window, 40_000, 41e6, site('ring', R, R), site('leak', R, R));
  push(window, 50_000, 51e6, site('ring', R, R), site('leak', R, R));
  assert.deepEqual(shares.placed(R), { unplacedBytes: 51e6, growthShared: true }, 'a leak’s wrappers grew: the growth is its site’s');
});

test('leaves growth unattributed while no site\'s wrappers grew, and gives nothing to a site without wrappers', () => {
  const window = new GrowthWindow(64, 100, 600_000);
  for (let t = 0; t <= 30; t += 10) push(window, t * 1000, 1e6 + t * 1e6, site('ring', R, R), site('strings', 5 * R, 0));
  const shares = new ExternalShares(window);
  assert.equal(shares.of('ring', R)?.growthShare, 0);
  assert.equal(shares.of('ring', R)?.externalBytes, 31e6);
  assert.equal(shares.of('strings', R), undefined);
});

test('a wrapper that grew in the tick readings but not in the clean ones (garbage not yet collected) takes no share of the growth', () => {
  const window = new GrowthWindow(64, 100, 600_000);
  const clean = new GrowthWindow(64, 100, 600_000);
  for (let t = 0; t <= 60; t += 10) {
    // The parser's garbage of a wrapper's size stays in the tick readings from 30 s; a leak's wrapper from 40 s.
    const ticks = [site('parser', R, t >= 30 ? R : 0), ...(t >= 40 ? [site('leak', R, R)] : [])];
    push(window, t * 1000, 4e6 + t * 1.6e6, ...ticks);
    // The clean readings (right after major GCs) hold the leak's wrapper, not the garbage.
    if (t % 20 === 0) push(clean, t * 1000 + 1, 4e6 + t * 1.6e6, site('parser', R, 0), ...(t >= 40 ? [site('leak', R, R)] : []));
  }
  const shares = new ExternalShares(window, clean);
  assert.equal(shares.of('leak', R)?.growthShare, 1);
  assert.equal(shares.of('parser', R)?.growthShare, 0);
  // Without the clean readings, the garbage takes half.
  assert.equal(new ExternalShares(window).of('parser', R)?.growthShare, 0.5);
});

test("a leak's few wrappers, split by inlining between its function and the caller it was inlined into, are that stack's growth, at the site with most", () => {
  // V8 samples one of the leak's wrappers at queueBody by 10 s; TurboFan then inlines queueBody into
  // placeOrder, where the next two are sampled (30 s, 50 s). Three of three grown wrappers are that
  // stack's: its growth is placeOrder's, whose traceback holds queueBody.
  const at = (line: number, name: string): Frame => ({ functionName: name, file: '/app/orders.js', line, column: 1 });
  const shares = (queueBodyCaller: Frame) => {
    const window = new GrowthWindow(64, 100, 600_000);
    for (let t = 0; t <= 60; t += 10) {
      const reading = (frames: Frame[], wrappers: number): SiteReading => ({ key: frameKey(frames[0] as Frame), size: wrappers, count: wrappers / 100, wrapperBytes: wrappers, traceback: new Traceback(frames) });
      const inQueueBody = t >= 10 ? R : 0;
      const inPlaceOrder = (t >= 30 ? R : 0) + (t >= 50 ? R : 0);
      push(window, t * 1000, 4e6 + t * 1.6e6, reading([at(1, 'queueBody'), queueBodyCaller], inQueueBody), reading([at(10, 'placeOrder'), at(20, 'handle')], inPlaceOrder));
    }
    const all = new ExternalShares(window);
    return { queueBody: all.of(frameKey(at(1, 'queueBody')), R), placeOrder: all.of(frameKey(at(10, 'placeOrder')), R) };
  };
  const { queueBody, placeOrder } = shares(at(10, 'placeOrder'));
  assert.equal(placeOrder?.growthShare, 1);
  assert.equal(queueBody?.growthShare, 0);
  // Three samples of three: a share beyond three deviations (±0.2), and the whole growth (96 MB).
  assert.ok(3 * (placeOrder?.growthShareDeviation ?? 1) < 1, `±${placeOrder?.growthShareDeviation}`);
  assert.ok((placeOrder?.externalBytes ?? 0) >= 96e6, `${placeOrder?.externalBytes}`);
  // Were queueBody called from elsewhere, two samples of three would be no certain share.
  const apart = shares(at(30, 'elsewhere')).placeOrder;
  assert.ok(Math.abs((apart?.growthShare ?? 0) - 2 / 3) < 1e-9);
  assert.ok(3 * (apart?.growthShareDeviation ?? 0) > (apart?.growthShare ?? 1), `${apart?.growthShare} ± ${apart?.growthShareDeviation}`);
});

test('a share from one sample of one is not certain; from many, nearly', () => {
  assert.ok(shareDeviation(1, 1) > 0.3);
  assert.ok(shareDeviation(100, 100) < 0.02);
  assert.ok(Math.abs(shareDeviation(50, 100) - 0.05) < 0.002);
});

test('knows the frames that make Buffers and the wrappers\' sizes on this V8', () => {
  assert.ok(makesBackingStores({ functionName: 'FastBuffer', file: 'node:internal/buffer', line: 960, column: 1 }));
  assert.ok(makesBackingStores({ functionName: 'Uint8Array', file: '', line: 0, column: 0 }));
  assert.ok(!makesBackingStores({ functionName: 'repeat', file: '', line: 0, column: 0 }));
  assert.ok(!makesBackingStores({ functionName: 'onStreamRead', file: 'node:internal/stream_base_commons', line: 1, column: 1 }));
  assert.deepEqual(wrapperSizes('11.3.244.8'), [88, 96]);
  assert.deepEqual(wrapperSizes('14.6.202.34'), [96, 104]);
});

// Real Buffers under V8's sampler, at 32 KiB so that a test of a few seconds holds enough samples.
function keepBuffers(into: Buffer[], n: number): void {
  for (let i = 0; i < n; i++) into.push(Buffer.alloc(16 * 1024, i));
}
function keepStrings(into: string[], n: number): void {
  for (let i = 0; i < n; i++) into.push(`order-${i}-`.repeat(20));
}

test('estimates the ArrayBuffer memory real Buffers hold at the site that keeps them, within 2x, with its noise', () => {
  const interval = 32 * 1024;
  startSampling({ samplingIntervalBytes: interval });
  try {
    const aggregator = new SiteAggregator(sharedInterner, sharedResolver);
    const window = new GrowthWindow(64, 2000, 600_000);
    const buffers: Buffer[] = [];
    const strings: string[] = [];
    const read = (t: number) => {
      const { sites: readings, totalBytes, totalWrapperBytes } = aggregator.aggregate(readProfile().root);
      window.push(t, readings, totalBytes, never, { arrayBuffersBytes: process.memoryUsage().arrayBuffers, totalWrapperBytes });
      return readings;
    };
    read(0);
    for (let step = 1; step <= 6; step++) {
      keepBuffers(buffers, 1000);
      keepStrings(strings, 20_000);
      read(step * 10_000);
    }
    const shares = new ExternalShares(window);
    const key = [...window.keys()].find((k) => k.endsWith(':keepBuffers'));
    const stringsKey = [...window.keys()].find((k) => k.endsWith(':keepStrings'));
    assert.ok(key, 'the site keeping Buffers is tracked');
    const estimate = shares.of(key, interval);
    const truth = buffers.length * 16 * 1024;
    assert.ok(estimate, 'the site keeping Buffers has an estimate');
    assert.ok(estimate.externalBytes > truth / 2 && estimate.externalBytes < truth * 2, `${estimate.externalBytes} of ${truth}`);
    assert.ok(estimate.noiseBytes > 0 && estimate.noiseBytes < estimate.externalBytes / 2, `noise ${estimate.noiseBytes}`);
    assert.ok(estimate.growthShare > 0.5, `growth share ${estimate.growthShare}`);
    // The strings' site holds no backing store: a share of nothing, or a small one by chance.
    assert.ok((shares.of(stringsKey ?? '', interval)?.externalBytes ?? 0) < truth / 10);
  } finally {
    stopSampling();
  }
});
