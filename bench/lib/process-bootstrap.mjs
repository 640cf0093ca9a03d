// The ratio of two configurations' CPU per request when each ran in several processes over the
// same rounds, with an interval that knows the processes differ: two identical processes differ
// by a few percent (a heap laid out otherwise, other addresses), so resampling rounds alone would
// give an interval far narrower than what a second run with new processes would find.
import { quantile } from './distribution.mjs';

/**
 * `cells[process][round]` is `[cpu, requests]`; the rate is Σ cpu / Σ requests over the cells
 * chosen (every process and round by default): total CPU over total requests, so that a window
 * holding a rare costly event (a reading, a forced GC) keeps its weight.
 */
function rate(cells, processes, rounds) {
  let cpu = 0;
  let requests = 0;
  for (const p of processes) {
    for (const r of rounds) {
      cpu += cells[p][r][0];
      requests += cells[p][r][1];
    }
  }
  return cpu / requests;
}

const all = (count) => Array.from({ length: count }, (_, i) => i);

/** Configuration `a`'s CPU per request over `b`'s, over every process and round. */
export function rateRatio(a, b) {
  return rate(a, all(a.length), all(a[0].length)) / rate(b, all(b.length), all(b[0].length));
}

/**
 * 95 % interval of {@link rateRatio} by a two-level bootstrap (2000 resamples, fixed seed as in
 * distribution.mjs): each resample draws `a`'s processes and `b`'s processes with replacement,
 * each side on its own, and the rounds with replacement, the same rounds for both sides (a round
 * is a stretch of time: drawing it for both keeps the machine's drift paired).
 */
export function rateRatioInterval(a, b, resamples = 2000) {
  const rounds = a[0].length;
  if (b[0].length !== rounds) throw new Error(`rateRatioInterval: ${rounds} rounds against ${b[0].length} - expected the same rounds on both sides`);
  let seed = 42;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const draw = (count) => Array.from({ length: count }, () => Math.floor(random() * count));
  const estimates = [];
  for (let i = 0; i < resamples; i++) {
    const chosenRounds = draw(rounds);
    estimates.push(rate(a, draw(a.length), chosenRounds) / rate(b, draw(b.length), chosenRounds));
  }
  return [quantile(estimates, 0.025), quantile(estimates, 0.975)];
}
