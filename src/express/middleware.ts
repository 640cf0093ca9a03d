import type { IncomingMessage, ServerResponse } from 'node:http';
import { openEndpoints } from '../frameworks/endpoints.js';
import type { HeapMonitor } from '../monitor/monitor.js';
import type { HeapwatchOptions } from './options.js';
import { expressRoutes } from '../routes/express-routes.js';

/** Express apps one heapwatch() keeps for their routes (two apps in one process are common, dozens are not). */
const MAX_APPS = 16;

/** The middleware heapwatch() returns: an Express (4 or 5) middleware, also a plain `node:http` handler. */
export interface HeapwatchMiddleware {
  (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void): void;
  /** The process-wide monitor this middleware serves: its sites, suspects and `leak-suspected` events. */
  readonly monitor: HeapMonitor;
  /**
   * Stops serving and releases this middleware's share of the monitor; the monitor and V8's
   * sampler stop when every heapwatch() has been stopped. Idempotent. For graceful shutdown.
   */
  stop(): void;
}

/**
 * Watches this process's heap for leaks and serves the findings: `app.use(heapwatch())`.
 *
 * Starts the process-wide monitor (or shares it: one per process, see `HEAPWATCH_ERR_MONITOR_CONFLICT`),
 * registers the Prometheus metrics on `registry` and the OpenTelemetry instruments on
 * `meterProvider`, serves `GET metricsPath` and, when `debug` is on, `/debug/heap`,
 * `/debug/pprof/heap` and `/debug/pprof/allocs`. Every other request goes on untouched: the cost per request is a method
 * check and a string comparison. Throws at once for bad options, never while serving.
 */
export function heapwatch(options?: HeapwatchOptions): HeapwatchMiddleware {
  const endpoints = openEndpoints(options);
  // The apps this middleware serves, for the routes a verdict names: Express hands each request its
  // app (`req.app`), and nothing else tells a middleware which app mounted it. Their routes are
  // read only when a verdict asks (routes added after heapwatch count too).
  const apps = new Set<unknown>();
  let lastApp: unknown;
  const removeRoutes = endpoints.monitor.routes.add((limit) => {
    const routes = [];
    for (const app of apps) routes.push(...expressRoutes(app, limit - routes.length));
    return routes;
  });
  const middleware = (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void): void => {
    // One comparison per request; a new app is kept once (none under plain node:http).
    const app = (req as { app?: unknown }).app;
    if (app !== lastApp) {
      lastApp = app;
      if (app !== undefined && apps.size < MAX_APPS) apps.add(app);
    }
    const serve = endpoints.find(req.method, req.url ?? '');
    if (serve === undefined) return next();
    void serve(req, res);
  };
  return Object.assign(middleware, {
    monitor: endpoints.monitor,
    stop(): void {
      removeRoutes();
      apps.clear();
      endpoints.close();
    },
  });
}
