import type { SourceRange } from './source-range.js';
import { sourceRangeOf } from './source-range.js';
import { functionLocations } from '../v8/function-location.js';

/** A route as its framework spells it — `GET /orders/:id` — with the functions that handle it. */
export interface RouteHandlers {
  readonly route: string;
  /** The route's own functions (a route's middleware and its handler), not the app's middleware. */
  readonly handlers: readonly Function[];
}

/** Lists an application's routes when asked (at a verdict, never per request). */
export type RouteSource = (limit: number) => Iterable<RouteHandlers>;

/** A function's source range and the routes it handles. */
export interface RouteRange extends SourceRange {
  /** The route, or routes joined by ` | ` when one function handles several. */
  readonly route: string;
}

/**
 * Routes considered, across every source: past this, the rest are not attributed (their bytes
 * count as outside every route). The first verdict of an app with 2 000 routes held the main
 * thread about a second (BENCHMARKS.md, route attribution), reading their handlers' positions
 * once; later verdicts reuse them.
 */
export const MAX_ROUTES = 2000;

/** Handler functions → their source range (null: V8 gave none: a built-in, a native function). */
const ranges = new WeakMap<Function, SourceRange | null>();

/** Reads the positions of the handlers not seen before, in one batch. */
function readRanges(handlers: Iterable<Function>): void {
  const unknown = [...handlers].filter((handler) => !ranges.has(handler));
  const locations = functionLocations(unknown);
  unknown.forEach((handler, i) => {
    const location = locations[i];
    ranges.set(handler, location === undefined ? null : sourceRangeOf(location));
  });
}

/** Routes named for code shared by several; the others are counted. */
const MAX_JOINED = 3;

/** `GET /a | GET /b`; past three, `GET /a | GET /b | GET /c | … (+4 routes)`. */
function joinRoutes(routes: readonly string[]): string {
  const named = routes.slice(0, MAX_JOINED).join(' | ');
  return routes.length > MAX_JOINED ? `${named} | … (+${routes.length - MAX_JOINED} routes)` : named;
}

/**
 * The routes the frameworks told heapwatch about, gathered from every source (an Express app seen
 * by the middleware, a Fastify instance's `onRoute` hook) when a verdict asks, never on the request
 * path: routes added after heapwatch was mounted are found too.
 */
export class RouteTable {
  private readonly sources = new Set<RouteSource>();

  /** Adds a source; the function returned removes it again. */
  add(source: RouteSource): () => void {
    this.sources.add(source);
    return () => this.sources.delete(source);
  }

  /** Whether any framework can tell routes: without one, no verdict says "outside every route". */
  get known(): boolean {
    return this.sources.size > 0;
  }

  /**
   * The source range of every route's function, at most {@link MAX_ROUTES} routes. Code that
   * handles several routes — one function for two paths, closures of one factory, a library's
   * wrapper — is one range naming them all: its frames cannot tell which route ran.
   */
  ranges(): RouteRange[] {
    const routesOf = new Map<Function, string[]>();
    let count = 0;
    for (const source of this.sources) {
      let listed: Iterable<RouteHandlers>;
      try {
        listed = source(MAX_ROUTES - count);
      } catch {
        continue; // a framework of unexpected shape: no routes from it
      }
      for (const { route, handlers } of listed) {
        if (count++ >= MAX_ROUTES) break;
        for (const handler of handlers) {
          const routes = routesOf.get(handler) ?? [];
          if (!routes.includes(route)) routes.push(route);
          routesOf.set(handler, routes);
        }
      }
    }
    readRanges(routesOf.keys());
    const byCode = new Map<string, { range: SourceRange; routes: string[] }>();
    for (const [handler, routes] of routesOf) {
      const range = ranges.get(handler);
      if (!range) continue;
      const code = `${range.scriptId}:${range.start}`;
      const same = byCode.get(code);
      if (!same) byCode.set(code, { range, routes: [...routes] });
      else for (const route of routes) if (!same.routes.includes(route)) same.routes.push(route);
    }
    return [...byCode.values()].map(({ range, routes }) => ({ ...range, route: joinRoutes(routes) }));
  }
}
