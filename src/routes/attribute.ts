import type { Frame } from '../snapshot/frame.js';
import type { SampledStack } from '../snapshot/site-aggregator.js';
import type { RouteRange } from './route-table.js';
import { positionOf } from './source-range.js';

/** The part of a site's live bytes allocated under one route. */
export interface RouteShare {
  /**
   * The route as its framework spells it (`GET /orders/:id`); routes joined by ` | ` when one
   * function handles them all; null for the bytes allocated outside every route (timers set at
   * startup, module scope, middleware that every request passes through).
   */
  readonly route: string | null;
  /** Estimated live bytes of the site allocated under the route. */
  readonly bytes: number;
  /** `bytes` over the site's live bytes, 0 to 1. */
  readonly share: number;
}

/** Routes listed per site, largest share first; the others' bytes are in no entry. */
export const MAX_ROUTES_PER_SITE = 10;

/**
 * Which route a frame belongs to: the innermost route function whose source range holds the
 * frame's declaration — the function itself, or a callback or closure declared inside it, which
 * runs later on a stack of its own (a `setTimeout` callback's stack holds no handler).
 */
export class RouteFinder {
  private readonly byFile = new Map<string, RouteRange[]>();
  /** Frames are interned: one answer per function, whatever the number of stacks. */
  private readonly found = new Map<Frame, string | null>();

  /**
   * `fileOfScript` names the file of a script id as frames carry it (the interner knows the
   * scripts of the readings in memory): a range whose script no frame comes from matches nothing.
   */
  constructor(ranges: readonly RouteRange[], fileOfScript: (scriptId: number) => string | undefined) {
    for (const range of ranges) {
      const file = fileOfScript(range.scriptId);
      if (file === undefined) continue;
      const inFile = this.byFile.get(file) ?? [];
      inFile.push(range);
      this.byFile.set(file, inFile);
    }
    // Innermost first: a handler declared inside another function that handles a route wins.
    for (const inFile of this.byFile.values()) inFile.sort((a, b) => a.end - a.start - (b.end - b.start));
  }

  routeOf(frame: Frame): string | null {
    let route = this.found.get(frame);
    if (route === undefined) {
      const position = positionOf(frame.line, frame.column);
      route = this.byFile.get(frame.file)?.find((range) => range.start <= position && position <= range.end)?.route ?? null;
      this.found.set(frame, route);
    }
    return route;
  }
}

/**
 * Splits a site's live bytes by route: each stack goes to the innermost frame that belongs to a
 * route (see {@link RouteFinder}) — the route's handler, not the middleware that called it — or to
 * no route. Largest share first, at most {@link MAX_ROUTES_PER_SITE} entries.
 */
export function attributeRoutes(stacks: Iterable<SampledStack>, finder: RouteFinder): RouteShare[] {
  const bytesOf = new Map<string | null, number>();
  let total = 0;
  for (const { frames, bytes } of stacks) {
    let route: string | null = null;
    for (const frame of frames) {
      route = finder.routeOf(frame);
      if (route !== null) break;
    }
    bytesOf.set(route, (bytesOf.get(route) ?? 0) + bytes);
    total += bytes;
  }
  return [...bytesOf]
    .map(([route, bytes]) => ({ route, bytes, share: total > 0 ? bytes / total : 0 }))
    .sort((a, b) => b.bytes - a.bytes || String(a.route).localeCompare(String(b.route)))
    .slice(0, MAX_ROUTES_PER_SITE);
}

/** `GET /orders/:id 97 %, outside every route 3 %`: shares as a message gives them. */
export function describeRoutes(shares: readonly RouteShare[]): string {
  return shares.map(({ route, share }) => `${route ?? 'outside every route'} ${Math.round(share * 100)} %`).join(', ');
}
