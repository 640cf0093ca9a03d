// Is a series flat? A long run's verdict on each of its memory series: the least-squares slope
// over the second half of the run, projected over that half, against the first half's level,
// with the uncertainty of that slope beside it.
// A series is flat when that projected change is within the tolerance: a fraction of the level,
// but never less than an absolute floor (a small series, heapwatch's own few MiB measured as the
// difference of two processes, moves by a fraction of a MiB from GC timing alone).

/** Least-squares slope of y over x (units of y per unit of x), and its standard error. */
export function slopeOf(xs, ys) {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  const slope = den === 0 ? 0 : num / den;
  let residuals = 0;
  for (let i = 0; i < n; i++) residuals += (ys[i] - my - slope * (xs[i] - mx)) ** 2;
  const standardError = n > 2 && den > 0 ? Math.sqrt(residuals / (n - 2) / den) : NaN;
  return { slope, standardError };
}

/**
 * `{ level, slope, change, margin, allowed, flat }` for samples `[{ x, y }]` in order of x: level
 * is the mean of the first half, slope that of the second half, change the slope times the
 * second half's span, margin two standard errors of that change (a series that swings from one
 * sample to the next, as RSS does, has a wide one), allowed max(fraction × |level|, floor).
 * `flat`: 'yes' when |change| ≤ allowed; 'no' when even |change| − margin > allowed; else
 * 'noise' (the run cannot tell); undefined below 4 points.
 */
export function flatness(points, { fraction, floor }) {
  // Two points per half at least, or there is no slope to speak of.
  if (points.length < 4) return { level: NaN, slope: NaN, change: NaN, margin: NaN, allowed: NaN, flat: undefined };
  const half = Math.floor(points.length / 2);
  const first = points.slice(0, half);
  const second = points.slice(half);
  const level = first.reduce((a, p) => a + p.y, 0) / first.length;
  const { slope, standardError } = slopeOf(second.map((p) => p.x), second.map((p) => p.y));
  const span = second.at(-1).x - second[0].x;
  const change = slope * span;
  const margin = 2 * standardError * span;
  const allowed = Math.max(fraction * Math.abs(level), floor);
  const flat = Math.abs(change) <= allowed ? 'yes' : Math.abs(change) - margin > allowed ? 'no' : 'noise';
  return { level, slope, change, margin, allowed, flat };
}
