import type { IncomingMessage, ServerResponse } from 'node:http';
import { HeapHandler } from '../http/heap-handler.js';
import { serveMetrics } from '../http/metrics-handler.js';
import { servePprofHeap } from '../http/pprof-handler.js';
import { refuseDebugRequest } from '../http/guard.js';
import { pathOf } from '../http/query.js';
import { sendPlain } from '../http/respond.js';
import type { HeapMonitor } from '../monitor/monitor.js';
import type { HeapwatchOptions } from './options.js';
import { resolveHeapwatchOptions } from './options.js';
import { acquireMonitor } from './shared-monitor.js';

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

/** Whether `url` is `path`, with or without a query. */
function isPath(url: string, path: string): boolean {
  return url.startsWith(path) && (url.length === path.length || url[path.length] === '?');
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
  const resolved = resolveHeapwatchOptions(options);
  const lease = acquireMonitor(resolved.monitorOptions, resolved.monitor, resolved);
  const { monitor } = lease;
  const { metricsPath, registry, debug, debugToken } = resolved;
  const heapHandler = new HeapHandler(monitor);
  let stopped = false;

  const serveDebug = (req: IncomingMessage, res: ServerResponse, path: string): void => {
    const refusal = refuseDebugRequest(req, debugToken);
    if (refusal) return sendPlain(res, refusal.status, refusal.message, refusal.headers);
    if (path === '/debug/heap') return heapHandler.handle(req, res);
    void servePprofHeap(req, res, monitor);
  };

  const middleware = (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void): void => {
    const url = req.url ?? '';
    if (stopped || (req.method !== 'GET' && req.method !== 'HEAD')) return next();
    if (metricsPath !== false && isPath(url, metricsPath)) {
      void serveMetrics(res, registry);
      return;
    }
    if (debug && url.startsWith('/debug/')) {
      const path = pathOf(url);
      if (path === '/debug/heap' || path === '/debug/pprof/heap') return serveDebug(req, res, path);
    }
    next();
  };

  return Object.assign(middleware, {
    monitor,
    stop(): void {
      stopped = true;
      lease.release();
    },
  });
}
