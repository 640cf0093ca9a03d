// Request latencies of a long run in a fixed histogram: log-spaced buckets 10 % wide from 0.1 ms
// to about 5 minutes, allocated once, so that recording a million requests adds nothing to the
// heap a benchmark is measuring.

const FIRST_MS = 0.1;
const RATIO = 1.1;
const BUCKETS = 160;

export class LatencyHistogram {
  counts = new Float64Array(BUCKETS);
  total = 0;
  maxMs = 0;

  record(ms) {
    const bucket = ms <= FIRST_MS ? 0 : Math.min(BUCKETS - 1, Math.ceil(Math.log(ms / FIRST_MS) / Math.log(RATIO)));
    this.counts[bucket]++;
    this.total++;
    if (ms > this.maxMs) this.maxMs = ms;
  }

  /** The upper edge of the bucket holding quantile q (0–1): within 10 % above the true value. */
  quantileMs(q) {
    let seen = 0;
    for (let bucket = 0; bucket < BUCKETS; bucket++) {
      seen += this.counts[bucket];
      if (seen >= q * this.total && seen > 0) return Math.min(FIRST_MS * RATIO ** bucket, this.maxMs);
    }
    return this.maxMs;
  }
}
