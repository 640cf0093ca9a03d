/**
 * Rank-based and median-based statistics: a leak detector must not be moved by one spike, and
 * V8's estimates come with Poisson noise that is far from Gaussian for small sites.
 */

/** Median of a non-empty list (the mean of the two middle values for even lengths). */
export function median(values: ArrayLike<number>): number {
  // A typed copy sorts numerically without a comparator call per pair.
  return medianOfSorted(Float64Array.from(values).sort());
}

/** Median of values already sorted in ascending order. */
export function medianOfSorted(sorted: ArrayLike<number>): number {
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** Standard normal upper tail, P(Z > z), from Abramowitz & Stegun 7.1.26 (error < 1.5e-7). */
export function normalUpperTail(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erfc = poly * Math.exp(-x * x);
  return z >= 0 ? erfc / 2 : 1 - erfc / 2;
}

/**
 * Mann–Kendall test for an increasing trend: the one-sided p-value that a series without trend
 * would show at least this many rising pairs. Ties (a site at 0 bytes for a while) are corrected
 * for in the variance. Needs no assumption on the noise's distribution.
 */
export function mannKendallIncreasingP(values: readonly number[]): number {
  const n = values.length;
  if (n < 3) return 1;
  let s = 0;
  for (let i = 0; i < n - 1; i++) {
    const vi = values[i] as number;
    for (let j = i + 1; j < n; j++) s += Math.sign((values[j] as number) - vi);
  }
  const ties = new Map<number, number>();
  for (const value of values) ties.set(value, (ties.get(value) ?? 0) + 1);
  let tieTerm = 0;
  for (const t of ties.values()) if (t > 1) tieTerm += t * (t - 1) * (2 * t + 5);
  const variance = (n * (n - 1) * (2 * n + 5) - tieTerm) / 18;
  if (variance <= 0 || s <= 0) return 1;
  return normalUpperTail((s - 1) / Math.sqrt(variance));
}
