// Distributions for benchmark tables: a median with its range, never a single number.

/** The q-quantile (0–1) of a non-empty list, interpolated between the two nearest ranks. */
export function quantile(values, q) {
  const sorted = [...values].sort((a, b) => a - b);
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const above = Math.min(below + 1, sorted.length - 1);
  return sorted[below] + (sorted[above] - sorted[below]) * (position - below);
}

export function median(values) {
  return quantile(values, 0.5);
}

/** `12.3 [11.0–14.2]`: median [min–max]; `–` for an empty list. */
export function medianRange(values, digits = 1) {
  if (values.length === 0) return '–';
  const f = (value) => value.toFixed(digits);
  return `${f(median(values))} [${f(Math.min(...values))}–${f(Math.max(...values))}]`;
}

/**
 * 95 % bootstrap interval of a statistic of a list (2000 resamples with replacement, a fixed
 * seed, so that a run's table is reproducible from its data): [2.5th, 97.5th percentile].
 */
export function bootstrap(values, statistic = median) {
  let seed = 42;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const estimates = [];
  for (let b = 0; b < 2000; b++) estimates.push(statistic(values.map(() => values[Math.floor(random() * values.length)])));
  estimates.sort((x, y) => x - y);
  return [estimates[Math.floor(0.025 * estimates.length)], estimates[Math.floor(0.975 * estimates.length)]];
}
