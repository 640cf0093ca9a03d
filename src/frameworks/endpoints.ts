import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HeapwatchOptions } from '../express/options.js';
import { resolveHeapwatchOptions } from '../express/options.js';
import { acquireMonitor } from '../express/shared-monitor.js';
import { refuseDebugRequest } from '../http/guard.js';
import { HeapHandler } from '../http/heap-handler.js';
import { serveMetrics } from '../http/metrics-handler.js';
import { servePprofHeap } from '../http/pprof-handler.js';
import { servePprofAllocs } from '../http/pprof-allocs-handler.js';
import { sendPlain } from '../http/respond.js';
import type { HeapMonitor } from '../monitor/monitor.js';

/** A `node:http` handler that writes the whole answer itself; the promise, when there is one, settles once it is written. */
export type NodeHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

/** One GET (and HEAD) endpoint, its path relative to where heapwatch is mounted. */
export interface Endpoint {
  readonly path: string;
  readonly serve: NodeHandler;
}

/**
 * What one heapwatch() call serves, for every framework alike: each adapter (Express, Fastify,
 * Koa, Hono) only finds the endpoint and hands it the request's `node:http` objects, so the
 * answers — bytes, headers, HEAD, the debug guard, content negotiation — are the same everywhere.
 */
export interface Endpoints {
  /** The process-wide monitor these endpoints serve. */
  readonly monitor: HeapMonitor;
  /** `metricsPath`, then the debug endpoints when `debug` is on. */
  readonly routes: readonly Endpoint[];
  /** The endpoint a request asks for (GET or HEAD, the path with or without a query), or undefined: not heapwatch's, or closed. */
  find(method: string | undefined, url: string): NodeHandler | undefined;
  /** Stops serving and releases this call's share of the monitor. Idempotent. */
  close(): void;
}

/** Whether `url` is `path`, with or without a query. */
function isPath(url: string, path: string): boolean {
  return url.startsWith(path) && (url.length === path.length || url[path.length] === '?');
}

/**
 * Validates `options` (throwing `HEAPWATCH_ERR_INVALID_OPTION` at once), takes a share of the
 * process-wide monitor and registers its metrics: the part of heapwatch() that does not depend on
 * the framework.
 */
export function openEndpoints(options: HeapwatchOptions | undefined): Endpoints {
  const resolved = resolveHeapwatchOptions(options);
  const lease = acquireMonitor(resolved.monitorOptions, resolved.monitor, resolved);
  const { monitor } = lease;
  const { metricsPath, registry, debug, debugToken } = resolved;
  const heapHandler = new HeapHandler(monitor);

  // The guard comes first on every debug request, in every framework.
  const guarded =
    (serve: NodeHandler): NodeHandler =>
    (req, res) => {
      const refusal = refuseDebugRequest(req, debugToken);
      if (refusal) return sendPlain(res, refusal.status, refusal.message, refusal.headers);
      return serve(req, res);
    };

  const routes: Endpoint[] = [];
  if (metricsPath !== false) routes.push({ path: metricsPath, serve: (_req, res) => serveMetrics(res, registry) });
  if (debug) {
    routes.push({ path: '/debug/heap', serve: guarded((req, res) => heapHandler.handle(req, res)) });
    routes.push({ path: '/debug/pprof/heap', serve: guarded((req, res) => servePprofHeap(req, res, monitor)) });
    routes.push({ path: '/debug/pprof/allocs', serve: guarded((req, res) => servePprofAllocs(req, res, monitor)) });
  }

  let closed = false;
  return {
    monitor,
    routes,
    find(method, url) {
      // Every request of the application passes here: a method check and a few string comparisons, no allocation.
      if (closed || (method !== 'GET' && method !== 'HEAD')) return undefined;
      for (const route of routes) if (isPath(url, route.path)) return route.serve;
      return undefined;
    },
    close() {
      closed = true;
      lease.release();
    },
  };
}
