// What a /metrics page says about per-site cardinality: the series that carry a site label, and
// the distinct sites among them. heapwatch bounds the sites to topSites plus the current suspects
// (docs/metrics.md); a long run scrapes the page and checks the bound from outside, as Prometheus
// would see it.

const SITE_LINE = /^(heapwatch_[a-z_]+)\{([^}]*\bfunction="[^}]*)\} /;

/** `{ series, sites }`: lines of the page with a `function` label, and distinct function/file/line. */
export function siteSeriesOf(page) {
  let series = 0;
  const sites = new Set();
  for (const line of page.split('\n')) {
    const match = SITE_LINE.exec(line);
    if (!match) continue;
    series++;
    // The site is function, file and line; other labels (worker, thread) do not make another site.
    const labels = match[2];
    const pick = (name) => new RegExp(`\\b${name}="((?:[^"\\\\]|\\\\.)*)"`).exec(labels)?.[1] ?? '';
    sites.add(`${pick('function')}\u0000${pick('file')}\u0000${pick('line')}`);
  }
  return { series, sites: sites.size };
}

/** The value of an unlabelled metric on the page, or undefined. */
export function metricValue(page, name) {
  const match = new RegExp(`^${name} ([0-9.e+-]+)$`, 'm').exec(page);
  return match ? Number(match[1]) : undefined;
}
