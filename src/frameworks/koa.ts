// heapwatch for Koa (2 and 3): `app.use(heapwatch())`. Koa is not imported, not even for its
// types: the middleware needs three fields of the context, so neither `koa` nor `@types/koa` has
// to be installed, in any version, for this module to load and type-check.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HeapwatchOptions } from '../express/options.js';
import type { HeapMonitor } from '../monitor/monitor.js';
import { openEndpoints } from './endpoints.js';

/** The part of Koa's `ctx` heapwatch uses. */
export interface KoaContext {
  /** Node's request, which heapwatch's handlers read. */
  readonly req: IncomingMessage;
  /** Node's response, which they write. */
  readonly res: ServerResponse;
  /** Set to `false` on heapwatch's answers: Koa then leaves the response alone. */
  respond?: boolean;
}

/** The middleware heapwatch() returns for Koa. */
export interface HeapwatchKoaMiddleware {
  (ctx: KoaContext, next: () => Promise<unknown>): Promise<void>;
  /** The process-wide monitor this middleware serves: its sites, suspects and `leak-suspected` events. */
  readonly monitor: HeapMonitor;
  /** Stops serving and releases this middleware's share of the monitor (see the Express middleware's `stop()`). Idempotent. */
  stop(): void;
}

/**
 * Koa middleware: `app.use(heapwatch(options))`, with the Express middleware's options
 * (docs/api.md). Serves `GET`/`HEAD` `metricsPath` and, when `debug` is on, `/debug/heap`,
 * `/debug/pprof/heap` and `/debug/pprof/allocs` (paths as `ctx.url` has them); every other request goes on to `next()`
 * untouched. Middleware before it (authentication, logging) runs first, as for the app's routes.
 */
export function heapwatch(options?: HeapwatchOptions): HeapwatchKoaMiddleware {
  const endpoints = openEndpoints(options);
  const middleware = async (ctx: KoaContext, next: () => Promise<unknown>): Promise<void> => {
    const serve = endpoints.find(ctx.req.method, ctx.req.url ?? '');
    if (serve === undefined) {
      await next();
      return;
    }
    // Koa's own way out: heapwatch writes the answer on the raw response, the same bytes and
    // headers as under every framework, and Koa leaves that response alone.
    ctx.respond = false;
    await serve(ctx.req, ctx.res);
  };
  return Object.assign(middleware, {
    monitor: endpoints.monitor,
    stop(): void {
      endpoints.close();
    },
  });
}

export type { HeapwatchOptions };
