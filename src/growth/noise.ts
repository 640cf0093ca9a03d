import { median } from './robust.js';
import type { BytesSeries } from './window.js';

/** Growth must stand this many deviations of its noise above zero. */
export const NOISE_DEVIATIONS = 3;

/**
 * How fast a site's estimate wanders when its objects turn over: the variance, per millisecond,
 * of the change between two consecutive readings once the site's own rise is taken out (bytes²
 * per ms). Measured on readings without garbage (right after a full GC): there, a site whose
 * objects do not change does not move at all — V8 keeps each sample for as long as its object
 * lives — and a site whose objects die and are replaced moves by the samples that left and the
 * ones that came, a random walk whose variance grows with the time between the readings (see
 * docs/detection.md, "The noise of growth"). The rise is the median rate of the steps: a leak's
 * own new samples stay in the variance, which is their noise too.
 */
export function turnoverVariancePerMs(clean: BytesSeries | undefined): number {
  if (!clean || clean.bytes.length < 3) return 0;
  const rates: number[] = [];
  for (let i = 1; i < clean.bytes.length; i++) {
    const elapsed = (clean.timestamps[i] as number) - (clean.timestamps[i - 1] as number);
    if (elapsed > 0) rates.push(((clean.bytes[i] as number) - (clean.bytes[i - 1] as number)) / elapsed);
  }
  if (rates.length < 2) return 0;
  const rise = median(rates);
  let squares = 0;
  let elapsedSum = 0;
  for (let i = 1; i < clean.bytes.length; i++) {
    const elapsed = (clean.timestamps[i] as number) - (clean.timestamps[i - 1] as number);
    if (elapsed <= 0) continue;
    const step = (clean.bytes[i] as number) - (clean.bytes[i - 1] as number) - rise * elapsed;
    squares += step * step;
    elapsedSum += elapsed;
  }
  return elapsedSum > 0 ? squares / elapsedSum : 0;
}

/**
 * The standard deviation of a growth estimate (bytes): the noise a site's growth must stand
 * out of. Two sources:
 * - the samples that arrived: growth G brings about G / R samples of R bytes each (R the
 *   sampling interval), a Poisson count: variance G × R. This alone decides for a site whose
 *   other objects do not change;
 * - turnover: objects that die and are replaced move the estimate like a random walk, whose
 *   variance grows with the horizon at the measured rate — up to twice the site's whole
 *   variance (L × R for L live bytes), reached when every object of the site has been replaced.
 * The turnover rate is measured on readings that include the rise, so it holds the rise's own
 * sample noise too: the larger of the two is taken, not their sum.
 */
export function growthNoiseBytes(
  growthBytes: number,
  liveBytes: number,
  horizonMs: number,
  samplingIntervalBytes: number,
  turnoverPerMs: number,
): number {
  const growth = Math.max(growthBytes, 0);
  const samples = growth * samplingIntervalBytes;
  const turnover = Math.min(turnoverPerMs * horizonMs, 2 * Math.max(liveBytes, 0) * samplingIntervalBytes + samples);
  return Math.sqrt(Math.max(samples, turnover));
}
