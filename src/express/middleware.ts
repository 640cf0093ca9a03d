import type { IncomingMessage, ServerResponse } from 'node:http';
import { openEndpoints } from '../frameworks/endpoints.js';
import type { HeapMonitor } from '../monitor/monitor.js';
import type { HeapwatchOptions } from './options.js';

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
 * `meterProvider`, serves `GET metricsPath` and, when `debug` is on, `/debug/heap` and
 * `/debug/pprof/heap`. Every other request goes on untouched: the cost per request is a method
 * check and a string comparison. Throws at once for bad options, never while serving.
 */
export function heapwatch(options?: HeapwatchOptions): HeapwatchMiddleware {
  const endpoints = openEndpoints(options);
  const middleware = (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void): void => {
    const serve = endpoints.find(req.method, req.url ?? '');
    if (serve === undefined) return next();
    void serve(req, res);
  };
  return Object.assign(middleware, {
    monitor: endpoints.monitor,
    stop(): void {
      endpoints.close();
    },
  });
}
