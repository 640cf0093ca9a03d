import { frameKey } from '../snapshot/frame.js';
import type { Traceback } from '../snapshot/traceback.js';
import type { BytesSeries } from './series.js';
import { NOISE_DEVIATIONS } from './noise.js';
import { quarterGrowth } from './trend.js';
import type { GrowthWindow } from './window.js';

/**
 * How many frames apart two sites may be on one stack for an object's charge to move between them:
 * TurboFan inlines at most five levels deep (V8's `--max-inlining-levels`).
 */
const MAX_INLINING_LEVELS = 5;

/**
 * Whether `key` is among the traceback's callers within {@link MAX_INLINING_LEVELS} frames above
 * its site: a caller that is itself a site is keyed alike (`frameKey` of the resolved frame, as
 * the aggregator keys sites).
 */
function callsNear(traceback: Traceback | undefined, key: string): boolean {
  if (traceback === undefined || traceback.siteIndex < 0) return false;
  const above = traceback.siteIndex + 1;
  return traceback.frames.slice(above, above + MAX_INLINING_LEVELS).some((frame) => frameKey(frame) === key);
}

/**
 * Whether two tracked sites are on one stack within the levels TurboFan inlines: either is among
 * the other's callers (each site's largest stack's). V8 charges an object to the innermost function
 * on its stack, and an inlined callee's objects to its caller: the sites one allocation is charged
 * to as the code tiers up.
 */
export function onOneStack(window: GrowthWindow, a: string, b: string): boolean {
  return callsNear(window.tracebackOf(a), b) || callsNear(window.tracebackOf(b), a);
}

/**
 * Sites' amounts gathered per stack: each group of sites on one stack (linked through any of its
 * members, see {@link onOneStack}) has the sum of its members' amounts at the member with the
 * most (the first of equals), and nothing at the others.
 */
export function gatherOnStacks(window: GrowthWindow, amounts: ReadonlyMap<string, number>): Map<string, number> {
  const keys = [...amounts.keys()];
  const parent = keys.map((_, i) => i);
  const root = (i: number): number => {
    while (parent[i] !== i) i = parent[i] as number;
    return i;
  };
  for (let i = 0; i < keys.length; i++) {
    for (let j = i + 1; j < keys.length; j++) if (onOneStack(window, keys[i] as string, keys[j] as string)) parent[root(j)] = root(i);
  }
  const sums = new Map<number, number>();
  const leaders = new Map<number, string>();
  for (const [i, key] of keys.entries()) {
    const group = root(i);
    const amount = amounts.get(key) as number;
    sums.set(group, (sums.get(group) ?? 0) + amount);
    const leader = leaders.get(group);
    if (leader === undefined || amount > (amounts.get(leader) as number)) leaders.set(group, key);
  }
  return new Map([...leaders].map(([group, key]) => [key, sums.get(group) as number]));
}

/**
 * The growth of a series, as the detector measures it from four readings on, and from first to
 * last below that (the three clean readings a horizon may hold).
 */
function growthOf(series: BytesSeries): number {
  const { bytes } = series;
  if (bytes.length >= 4) return quarterGrowth(series);
  return bytes.length >= 2 ? (bytes.at(-1) as number) - (bytes[0] as number) : 0;
}

/**
 * How much the sites on one stack with `key` fell together over the clean readings since `start`
 * (bytes, ≤ 0), when that fall stands {@link NOISE_DEVIATIONS} deviations out of their sampling
 * noise; 0 otherwise. "On one stack": its callees (sites whose tracebacks have it among their
 * callers) and its callers (sites among its own), within the levels TurboFan inlines. V8 charges an
 * object to the innermost function on its stack, and a callee TurboFan inlines is charged to its
 * caller: when the callee that fills a steady cache is inlined (or deoptimized, the other way),
 * the cache's bytes move from one site to the other as its entries are replaced — one site rises
 * as the other falls, and nothing is kept. When a leak elsewhere makes all sites together grow,
 * rule 4 of `assessTrend` does not see it (measured on Node 22 and 26: a 2 MB cache's caller
 * raised every time its callee was inlined mid-run).
 *
 * The sites' growths are summed with their signs, and judged against their noise (each end of
 * each series a Poisson estimate, ±sqrt(bytes × R)): a framework's handlers on a route's stack
 * each wander by chance, and their falls alone, summed, once held a Buffer leak's suspicion back a
 * reading (CI, Node 24). The falls are read from the clean readings, which a site about to be
 * raised has within its horizon (rule 7 of docs/detection.md): in the tick readings a callee's
 * request garbage piles up and drops at each major GC (the native reader counts it until then).
 *
 * Each site's traceback is its largest stack's: a callee called from several places is related
 * through that one. Judged only for a site about to be raised: a pass over the tracked sites.
 */
export function fallOnStack(
  window: GrowthWindow,
  cleanSeriesOf: (key: string, since: number) => BytesSeries | undefined,
  key: string,
  start: number,
  samplingIntervalBytes: number,
): number {
  const traceback = window.tracebackOf(key);
  if (!traceback || traceback.siteIndex < 0) return 0;
  let growth = 0;
  let variance = 0;
  for (const other of window.keys()) {
    if (other === key || !onOneStack(window, key, other)) continue;
    const series = cleanSeriesOf(other, start);
    if (!series || series.bytes.length < 2) continue;
    growth += growthOf(series);
    variance += ((series.bytes[0] as number) + (series.bytes.at(-1) as number)) * samplingIntervalBytes;
  }
  return growth < -NOISE_DEVIATIONS * Math.sqrt(variance) ? growth : 0;
}
