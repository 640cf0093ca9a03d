import { createRequire } from 'node:module';
import { AggregatorRegistry } from 'prom-client';

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

let answering = false;

/**
 * Makes a cluster worker answer the primary's `AggregatorRegistry#clusterMetrics()`. prom-client
 * adds the worker's IPC listener only in a process where an `AggregatorRegistry` was constructed;
 * constructing one here spares the application that line. prom-client's listener is idempotent
 * and answers with the registries of `AggregatorRegistry.setRegistries()` (the global one by
 * default). A cluster worker's IPC channel keeps it alive anyway: the listener changes nothing
 * there. Outside a cluster worker, nothing is done.
 */
export function answerClusterPrimary(): void {
  if (answering || !clusterState().isWorker) return;
  answering = true;
  new AggregatorRegistry();
}
