import type { SiteReport } from '../log/leak-log.js';

/** What the exporters read from a monitor. */
export interface SiteSource {
  readonly options: { readonly topSites: number };
  /** Every tracked site, largest first. */
  sites(): SiteReport[];
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
  const { topSites } = source.options;
  const chosen: LabelledSite[] = [];
  source.sites().forEach((report, rank) => {
    if (rank < topSites || report.suspected) chosen.push({ ...report, suspicions: source.suspicionsRaisedAt(report.key) });
  });
  return chosen;
}
