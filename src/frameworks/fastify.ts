// heapwatch for Fastify (4 and 5): `await fastify.register(heapwatch, options)`. Fastify is only a
// type here: importing 'heapwatch/fastify' loads no framework, and Express users never need it.
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { HeapwatchOptions } from '../express/options.js';
import type { HeapMonitor } from '../monitor/monitor.js';
import { openEndpoints } from './endpoints.js';
import type { RouteHandlers } from '../routes/route-table.js';

/** What the plugin decorates its Fastify instance with. */
export interface HeapwatchDecoration {
  /** The process-wide monitor: its sites, suspects and `leak-suspected` events. */
  readonly monitor: HeapMonitor;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** heapwatch's monitor, in the context where `heapwatch` was registered and the contexts inside it. */
    readonly heapwatch: HeapwatchDecoration;
  }
}

/**
 * Routes one plugin keeps for the verdicts (see `routes/route-table.ts`); an application that
 * registers more (generated routes) gets the first ones attributed.
 */
const MAX_ROUTES = 2000;

/** `GET /orders/:id`, `GET,POST /search`, as Fastify's `onRoute` tells the route. */
function fastifyRoute(method: string | readonly string[], url: string): string {
  return `${typeof method === 'string' ? method : method.join(',')} ${url}`;
}

/** Options Fastify's `register` reads itself; heapwatch hands them to the context of its routes. */
const REGISTER_OPTIONS = ['prefix', 'logLevel', 'logSerializers'] as const;

async function heapwatchPlugin(fastify: FastifyInstance, options: HeapwatchOptions): Promise<void> {
  const own: Record<string, unknown> = { ...options };
  const scope: Record<string, unknown> = {};
  for (const name of REGISTER_OPTIONS) {
    if (own[name] !== undefined) scope[name] = own[name];
    delete own[name];
  }
  const endpoints = openEndpoints(own as HeapwatchOptions);
  // The routes registered from here on, in this context and those inside it (onRoute hooks are
  // inherited), for the routes a verdict names: Fastify tells each route once, with its handler.
  const routes: RouteHandlers[] = [];
  const removeRoutes = endpoints.monitor.routes.add((limit) => routes.slice(0, limit));
  try {
    fastify.decorate('heapwatch', { monitor: endpoints.monitor } satisfies HeapwatchDecoration);
    fastify.addHook('onRoute', (route) => {
      if (routes.length >= MAX_ROUTES || typeof route.handler !== 'function') return;
      // The HEAD route Fastify adds beside a GET one runs the same handler: GET names it.
      if (route.method === 'HEAD' && routes.some((known) => known.handlers[0] === route.handler && known.route === fastifyRoute('GET', route.url))) return;
      routes.push({ route: fastifyRoute(route.method, route.url), handlers: [route.handler] });
    });
    // onClose hooks run on close() whatever the context: the last close() stops the monitor.
    fastify.addHook('onClose', async () => {
      removeRoutes();
      endpoints.close();
    });
  } catch (error) {
    removeRoutes();
    endpoints.close();
    throw error;
  }
  // The routes go in a context of their own, so that `prefix` (which Fastify ignores for a plugin
  // that is not encapsulated) moves them, as it moves any plugin's routes; the application's hooks
  // of the enclosing contexts (authentication, rate limits) apply to them as to its own routes.
  await fastify.register(async (routes) => {
    for (const endpoint of endpoints.routes) {
      routes.route({
        method: ['GET', 'HEAD'],
        url: endpoint.path,
        // HEAD is served whatever the application's `exposeHeadRoutes`, by the handler itself.
        exposeHeadRoute: false,
        handler(request, reply) {
          // heapwatch writes its answer on the raw response, as under every framework, so that the
          // bytes, headers, HEAD and `?seconds=` answers are the same ones (see endpoints.ts).
          reply.hijack();
          // Headers the application's hooks set on the reply (a request id, CORS) go out with it,
          // as they do under Express, where such middleware sets them on the response itself.
          for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) reply.raw.setHeader(name, value);
          return endpoint.serve(request.raw, reply.raw);
        },
      });
    }
  }, scope);
}

/**
 * The Fastify plugin: `await fastify.register(heapwatch, options)`, with heapwatch()'s options
 * (docs/api.md) and Fastify's `prefix`.
 *
 * Starts or shares the process-wide monitor, registers the metrics, and adds `GET`/`HEAD`
 * `metricsPath` and, when `debug` is on, `/debug/heap`, `/debug/pprof/heap` and `/debug/pprof/allocs` to Fastify's router;
 * no hook runs on the application's other routes. Not encapsulated (as `fastify-plugin` would make
 * it): `fastify.heapwatch.monitor` is there for the context that registered it. Its share of the
 * monitor is released by `fastify.close()`. Bad options reject `register` with
 * `HEAPWATCH_ERR_INVALID_OPTION`.
 */
export const heapwatch: FastifyPluginAsync<HeapwatchOptions> = Object.assign(heapwatchPlugin, {
  // What fastify-plugin sets, and what Fastify documents as its `skip-override` hidden property:
  // set here so that heapwatch needs no dependency for three symbols.
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: 'heapwatch',
  [Symbol.for('plugin-meta')]: { name: 'heapwatch', fastify: '4.x || 5.x' },
});

export default heapwatch;
export type { HeapwatchOptions };
