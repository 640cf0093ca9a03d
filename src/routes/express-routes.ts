import type { RouteHandlers } from './route-table.js';

// The parts of Express's router (4: lib/router; 5: the `router` package) read here. Nothing of
// Express is imported: the app arrives as `req.app`, its routes are read when a verdict needs them.
interface ExpressLayer {
  readonly handle?: unknown;
  readonly method?: string;
  readonly route?: { readonly path?: unknown; readonly stack?: readonly ExpressLayer[] };
  /** Express 5's router keeps the path a layer was mounted at. */
  readonly rawPath?: unknown;
  /** Express 4's router keeps only the path's regular expression (and its parameter names). */
  readonly regexp?: RegExp & { fast_slash?: boolean };
  readonly keys?: ReadonlyArray<{ readonly name?: unknown }>;
}
interface ExpressRouter {
  readonly stack?: readonly ExpressLayer[];
}

/** Routers mounted in routers: deeper ones are not walked (and a router mounted in itself ends here). */
const MAX_DEPTH = 8;

/** Express 4's `app._router`, Express 5's `app.router`; undefined for anything else. */
function routerOf(app: unknown): ExpressRouter | undefined {
  if (typeof app !== 'function' && (typeof app !== 'object' || app === null)) return undefined;
  const fields = app as { router?: unknown; _router?: unknown };
  // Express 4's `app.router` is a getter that throws ("'app.router' is deprecated"): `_router` first.
  const router = fields._router ?? safeRouter(fields);
  return isRouter(router) ? router : undefined;
}

function safeRouter(fields: { router?: unknown }): unknown {
  try {
    return fields.router;
  } catch {
    return undefined;
  }
}

function isRouter(value: unknown): value is ExpressRouter {
  return (typeof value === 'function' || typeof value === 'object') && value !== null && Array.isArray((value as ExpressRouter).stack);
}

/** `a,b` for a route of several paths; a regular expression as its source. */
function pathText(path: unknown): string {
  if (Array.isArray(path)) return path.map(pathText).join(',');
  return path instanceof RegExp ? String(path) : String(path);
}

/**
 * The path a router was mounted at (`app.use('/api', router)`): Express 5 keeps it; from Express
 * 4's regular expression, the static paths and `:name` parameters path-to-regexp 0.1 makes come
 * back, anything else shows as the expression.
 */
function mountPath(layer: ExpressLayer): string {
  if (layer.rawPath !== undefined) {
    const raw = pathText(layer.rawPath);
    return raw === '/' ? '' : raw.replace(/\/$/, '');
  }
  const regexp = layer.regexp;
  if (!regexp || regexp.fast_slash === true) return '';
  const names = (layer.keys ?? []).map((key) => String(key.name));
  let source = regexp.source.replace(/^\^/, '').replace(/\\\/\?\(\?=\\\/\|\$\)$/, '');
  // A parameter: `(?:([^\/]+?))`, or `(?:\/([^/]+?))` when the slash before it goes with it.
  source = source.replace(/\(\?:(\\\/)?\(\[\^(?:\\)?\/\]\+\?\)\)/g, (_match, slash?: string) => `${slash === undefined ? '' : '/'}:${names.shift() ?? '?'}`);
  if (/[()[\]*+?|{}^$]/.test(source.replace(/\\\//g, ''))) return `<${regexp.source}>`;
  return source.replace(/\\(.)/g, '$1');
}

/** Express 5's `app.all()` adds the handlers once per HTTP method: this many or more is ALL. */
const ALL_METHODS = 20;

/**
 * Methods whose functions are the same ones, as one entry: `GET,POST` for `route.get(h).post(h)`,
 * `ALL` for Express 5's `app.all()`, which adds them for each of the HTTP methods.
 */
function sameHandlers(byMethod: ReadonlyMap<string, Function[]>): Array<[string, Function[]]> {
  const groups: Array<{ methods: string[]; handlers: Function[] }> = [];
  for (const [method, handlers] of byMethod) {
    const same = groups.find((group) => group.handlers.length === handlers.length && group.handlers.every((handler, i) => handler === handlers[i]));
    if (same) same.methods.push(method);
    else groups.push({ methods: [method], handlers });
  }
  return groups.map(({ methods, handlers }) => [methods.length >= ALL_METHODS ? 'ALL' : methods.join(','), handlers]);
}

/**
 * The routes of an Express app (4 or 5), method by method — `GET /orders/:id` with the functions
 * its route stack calls for GET — with those of the routers mounted in it (`app.use('/api', router)`)
 * under their mount path. Middleware added with `app.use` is no route's: it is not listed. Apps
 * mounted in the app (`app.use('/v2', otherApp)`) are not reached (Express keeps no link to them).
 * Stops at `limit` routes. Never throws: an app of unexpected shape has no routes.
 */
export function expressRoutes(app: unknown, limit: number): RouteHandlers[] {
  const routes: RouteHandlers[] = [];
  const walk = (router: ExpressRouter, prefix: string, depth: number): void => {
    for (const layer of router.stack ?? []) {
      if (routes.length >= limit) return;
      if (layer.route) {
        const path = `${prefix}${pathText(layer.route.path)}`;
        const byMethod = new Map<string, Function[]>();
        for (const step of layer.route.stack ?? []) {
          if (typeof step.handle !== 'function') continue;
          // `app.all()` and `route.all()` leave the method out.
          const method = step.method === undefined || step.method === '_all' ? 'ALL' : step.method.toUpperCase();
          const handlers = byMethod.get(method) ?? [];
          handlers.push(step.handle);
          byMethod.set(method, handlers);
        }
        for (const [method, handlers] of sameHandlers(byMethod)) if (routes.length < limit) routes.push({ route: `${method} ${path}`, handlers });
      } else if (depth < MAX_DEPTH && isRouter(layer.handle)) {
        walk(layer.handle, `${prefix}${mountPath(layer)}`, depth + 1);
      }
    }
  };
  try {
    const router = routerOf(app);
    if (router) walk(router, '', 0);
  } catch {
    // A router changed under the walk, a getter that throws: the routes found so far stand.
  }
  return routes;
}
