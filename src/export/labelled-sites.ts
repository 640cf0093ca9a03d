import type { SiteReport } from '../log/site-report.js';

/** What the exporters read from a monitor. */
export interface SiteSource {
  readonly options: { readonly topSites: number };
  /** The `limit` largest tracked sites, largest first. */
  sites(limit: number): SiteReport[];
  /** The sites suspected now. */
  suspects(): SiteReport[];
  suspicionsRaisedAt(key: string): number;
}

/** A site that carries labels (Prometheus) or attributes (OpenTelemetry), with its suspicion count. */
export interface LabelledSite extends SiteReport {
  /** Suspicions raised at this site since the start. */
  readonly suspicions: number;
}

/**
 * The sites that carry labels: the `topSites` largest by live bytes, plus every current suspect
 * however small. This bounds metric cardinality at topSites + suspects; a site that leaves the set
 * has no series at the next scrape.
 */
export function labelledSites(source: SiteSource): LabelledSite[] {
  const top = source.sites(source.options.topSites);
  const inTop = new Set(top.map((report) => report.key));
  const chosen = [...top, ...source.suspects().filter((report) => !inTop.has(report.key))];
  return chosen.map((report) => ({ ...report, suspicions: source.suspicionsRaisedAt(report.key) }));
}
