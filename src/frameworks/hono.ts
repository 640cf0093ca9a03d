// heapwatch for Hono on Node (@hono/node-server): `app.use(heapwatch())`. Hono is only a type
// here: importing 'heapwatch/hono' loads no framework.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MiddlewareHandler } from 'hono';
import type { HeapwatchOptions } from '../express/options.js';
import type { HeapMonitor } from '../monitor/monitor.js';
import { captureResponse } from './captured-response.js';
import { openEndpoints } from './endpoints.js';

/** What @hono/node-server puts in `c.env`: the request's `node:http` objects. */
interface NodeBindings {
  readonly incoming?: IncomingMessage;
  readonly outgoing?: ServerResponse;
}

/** The middleware heapwatch() returns for Hono. */
export interface HeapwatchHonoMiddleware extends MiddlewareHandler {
  /** The process-wide monitor this middleware serves: its sites, suspects and `leak-suspected` events. */
  readonly monitor: HeapMonitor;
  /** Stops serving and releases this middleware's share of the monitor (see the Express middleware's `stop()`). Idempotent. */
  stop(): void;
}

/**
 * Hono middleware for an app served by @hono/node-server: `app.use(heapwatch(options))`, with the
 * Express middleware's options (docs/api.md). Serves `GET`/`HEAD` `metricsPath` and, when `debug`
 * is on, `/debug/heap`, `/debug/pprof/heap` and `/debug/pprof/allocs` — paths as the request has them: Hono does not take
 * a mount path off — and passes every other request to `next()` untouched. It reads the request
 * from Node's (`c.env.incoming`, for the client's address the guard checks) and answers with a
 * `Response`, which the middleware before it sees as any route's.
 */
export function heapwatch(options?: HeapwatchOptions): HeapwatchHonoMiddleware {
  const endpoints = openEndpoints(options);
  const middleware: MiddlewareHandler = async (c, next) => {
    const { incoming, outgoing } = (c.env ?? {}) as NodeBindings;
    if (incoming === undefined || outgoing === undefined) {
      // Not served by @hono/node-server (app.request() in a test, another runtime): heapwatch
      // cannot answer, and says so on its own paths rather than throwing into the app.
      if (endpoints.find(c.req.method, new URL(c.req.url).pathname) === undefined) return next();
      return c.text('heapwatch: the Hono middleware needs an app served by @hono/node-server (c.env.incoming and c.env.outgoing)\n', 500);
    }
    const serve = endpoints.find(incoming.method, incoming.url ?? '');
    if (serve === undefined) return next();
    // The shared handlers write the answer (endpoints.ts) and Hono sends it as a Response. Not
    // written on `outgoing` with @hono/node-server's RESPONSE_ALREADY_SENT: Hono answers HEAD
    // with a new Response made from the one returned, which loses that mark, and the server
    // then writes the head a second time (ERR_HTTP_HEADERS_SENT).
    const captured = captureResponse(incoming, outgoing);
    void serve(incoming, captured.res);
    return captured.response;
  };
  return Object.assign(middleware, {
    monitor: endpoints.monitor,
    stop(): void {
      endpoints.close();
    },
  });
}

export type { HeapwatchOptions };
