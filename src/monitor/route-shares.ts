import { attributeRoutes, RouteFinder } from '../routes/attribute.js';
import type { RouteShare } from '../routes/attribute.js';
import type { RouteTable } from '../routes/route-table.js';
import { sharedInterner } from '../snapshot/frame-interner.js';
import type { SampledSite } from '../snapshot/site-aggregator.js';

/**
 * The routes on a site's stacks at the latest reading, with the share of its live bytes each
 * allocated (see `HeapMonitor.routesOf`). Computed when asked, from the stacks of that one site, and
 * kept until the next reading: scrapes and pages between two readings reuse them. Never on the
 * request path.
 */
export class RouteShares {
  /** Route shares computed on the latest reading, per site. */
  private latest: { readonly sites: object; readonly finder: RouteFinder; readonly bySite: Map<string, readonly RouteShare[]> } | undefined;

  constructor(private readonly routes: RouteTable) {}

  /** The site's route shares in `sites` (the latest reading's), or undefined when it has none or no route is known. */
  of(sites: ReadonlyMap<string, SampledSite> | undefined, key: string): readonly RouteShare[] | undefined {
    const site = sites?.get(key);
    if (!sites || !site || !this.routes.known) return undefined;
    try {
      if (this.latest?.sites !== sites) {
        this.latest = { sites, finder: new RouteFinder(this.routes.ranges(), (id) => sharedInterner.fileOfScript(id)), bySite: new Map() };
      }
      let shares = this.latest.bySite.get(key);
      if (!shares) this.latest.bySite.set(key, (shares = attributeRoutes(site.stacks(), this.latest.finder)));
      return shares.length > 0 ? shares : undefined;
    } catch {
      // Routes of an unexpected shape, an inspector that failed: no route, never a failed verdict.
      return undefined;
    }
  }
}
