import { createRequire } from 'node:module';
import { AggregatorRegistry } from 'prom-client';
import type { Registry } from 'prom-client';

/** The part of `node:cluster` read here. */
interface ClusterState {
  readonly isWorker: boolean;
  readonly worker?: { readonly id: number } | undefined;
}

// Loaded on first use, as prom-client does: some application servers (Passenger) break when
// `cluster` is merely imported.
let cluster: ClusterState | undefined;
function clusterState(): ClusterState {
  cluster ??= createRequire(import.meta.url)('node:cluster') as ClusterState;
  return cluster;
}

/**
 * The `worker` label of this process's per-site series, or undefined outside a cluster worker.
 * A slot number that survives restarts when one is given — `NODE_APP_INSTANCE`, which PM2 sets
 * in cluster mode (0 to instances − 1) and which a primary can pass to `cluster.fork()` — else
 * `cluster.worker.id`, which node:cluster gives anew at every fork. Never the pid, which also
 * changes at every restart and is unbounded over a process's life.
 */
export function clusterWorkerLabel(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const state = clusterState();
  if (!state.isWorker) return undefined;
  const slot = env['NODE_APP_INSTANCE'];
  if (slot !== undefined && /^\d{1,6}$/.test(slot)) return slot;
  return state.worker ? String(state.worker.id) : undefined;
}

/**
 * heapwatch's request for a worker's metrics and its answer: prom-client's messages under names of
 * heapwatch's own, so that `clusterMetrics()` in the primary never meets the listener of an
 * `AggregatorRegistry` there, which throws on an answer to a request it did not send.
 */
export const METRICS_REQUEST = 'heapwatch:getMetricsReq';
export const METRICS_RESPONSE = 'heapwatch:getMetricsRes';

let answering = false;
/** The registries heapwatch's metrics are on in this worker: what it answers `clusterMetrics()` with. */
const answered = new Set<Registry>();

/**
 * Makes a cluster worker answer its primary: prom-client's `AggregatorRegistry#clusterMetrics()`
 * and heapwatch's `clusterMetrics()`. prom-client adds the worker's IPC listener only in a process
 * where an `AggregatorRegistry` was constructed; constructing one here spares the application that
 * line. prom-client's listener is idempotent and answers with the registries of
 * `AggregatorRegistry.setRegistries()` (the global one by default); heapwatch's answers with
 * `registry` and the other registries heapwatch's metrics are on, until the returned function
 * takes `registry` out. A cluster worker's IPC channel keeps it alive anyway: the listeners change
 * nothing there. Outside a cluster worker, nothing is done.
 */
export function answerClusterPrimary(registry: Registry): () => void {
  if (!clusterState().isWorker) return () => {};
  if (!answering) {
    answering = true;
    new AggregatorRegistry();
    process.on('message', answerRequest);
  }
  answered.add(registry);
  return () => void answered.delete(registry);
}

function answerRequest(message: unknown): void {
  const request = message as { type?: unknown; requestId?: unknown } | null;
  if (typeof request !== 'object' || request === null || request.type !== METRICS_REQUEST) return;
  // A stopped heapwatch answers with no metrics rather than not at all: the primary waits for no one.
  Promise.all([...answered].map((registry) => registry.getMetricsAsJSON())).then(
    (metrics) => reply({ type: METRICS_RESPONSE, requestId: request.requestId, metrics }),
    (error: unknown) => reply({ type: METRICS_RESPONSE, requestId: request.requestId, error: error instanceof Error ? error.message : String(error) }),
  );
}

/** With a callback, a send on a channel the primary just closed fails there, not as an 'error' event that would kill the worker. */
function reply(answer: object): void {
  try {
    process.send?.(answer, undefined, undefined, () => {});
  } catch {
    // The primary is gone: there is no one to answer.
  }
}
