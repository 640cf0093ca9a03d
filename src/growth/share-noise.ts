/**
 * The standard deviation of a share estimated from `k` samples of `n` (0 to 1): binomial, with
 * one sample added to each side (Laplace), so that one sample of one is not taken as certain.
 */
export function shareDeviation(k: number, n: number): number {
  const p = (k + 1) / (n + 2);
  return Math.sqrt((p * (1 - p)) / (n + 1));
}
