import type { Worker } from 'node:cluster';
import { createRequire } from 'node:module';
import { AggregatorRegistry } from 'prom-client';
import { integerOption, objectOption, rejectUnknownKeys } from '../options/validate.js';
import { METRICS_REQUEST, METRICS_RESPONSE } from './cluster-worker.js';

/** Options of {@link clusterMetrics}. */
export interface ClusterMetricsOptions {
  /**
   * How long the page waits for a worker's answer (milliseconds, 1 to 3600000): a worker still
   * starting (its `heapwatch()` not up yet), or stuck in a long synchronous task, is left out of
   * this page past it; the others' answers are the page. Keep it under Prometheus'
   * `scrape_timeout` (10 s by default). Default: `5000`, prom-client's own.
   */
  readonly timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 5000;

/** The part of `node:cluster` read here: the primary's workers and their events. */
interface ClusterPrimary {
  readonly workers?: NodeJS.Dict<Worker>;
  on(event: 'message', listener: (worker: Worker, message: unknown) => void): unknown;
  on(event: 'exit' | 'disconnect', listener: (worker: Worker) => void): unknown;
}

/** A page being gathered: the workers it still waits for, and the answers so far. */
interface PendingPage {
  readonly waiting: Set<Worker>;
  readonly answers: object[];
  finish(): void;
}

const pending = new Map<string, PendingPage>();
let nextRequestId = 0;
let cluster: ClusterPrimary | undefined;

function stopWaiting(page: PendingPage, worker: Worker): void {
  if (page.waiting.delete(worker) && page.waiting.size === 0) page.finish();
}

/**
 * The primary's listeners, added once and shared by every page: one set per scrape would pass
 * the emitter's listener limit under a dozen concurrent scrapes.
 */
function clusterPrimary(): ClusterPrimary {
  if (cluster) return cluster;
  // Loaded on first use, as prom-client does (some application servers break when it is imported).
  cluster = createRequire(import.meta.url)('node:cluster') as ClusterPrimary;
  cluster.on('message', (worker, message) => {
    const answer = message as { type?: unknown; requestId?: unknown; metrics?: unknown } | null;
    if (answer?.type !== METRICS_RESPONSE) return;
    const page = pending.get(String(answer.requestId));
    if (!page?.waiting.has(worker)) return;
    // An answer with an error (a collect() that threw in the worker) leaves that worker out.
    if (Array.isArray(answer.metrics) && answer.metrics.every(Array.isArray)) page.answers.push(...(answer.metrics as object[]));
    stopWaiting(page, worker);
  });
  const gone = (worker: Worker): void => {
    for (const page of pending.values()) stopWaiting(page, worker);
  };
  cluster.on('exit', gone);
  cluster.on('disconnect', gone);
  return cluster;
}

/**
 * The primary's page for the whole cluster: asks every connected worker for its metrics (each
 * worker's `heapwatch()` answers) and combines them by each metric's aggregator, as prom-client's
 * `AggregatorRegistry#clusterMetrics()` does — but a worker that exits or disconnects meanwhile is
 * no longer waited for, and one that has not answered after `timeoutMs` is left out, where
 * prom-client fails the whole page ("Operation timed out.") whenever a worker dies or starts
 * during a scrape. A left-out worker's series are missing from that page only. Outside a
 * cluster's primary there are no workers: the page is empty.
 *
 * Throws `HEAPWATCH_ERR_INVALID_OPTION` at the call for bad options; the promise rejects only when
 * the answers cannot be combined (prom-client throws for an unknown aggregator).
 */
export function clusterMetrics(options?: ClusterMetricsOptions): Promise<string> {
  const given = objectOption('options', options) as ClusterMetricsOptions;
  rejectUnknownKeys(given, ['timeoutMs'], 'clusterMetrics()');
  const timeoutMs = given.timeoutMs === undefined ? DEFAULT_TIMEOUT_MS : integerOption('timeoutMs', given.timeoutMs, 1, 3_600_000);
  const { workers = {} } = clusterPrimary();
  return answersOf(Object.values(workers), timeoutMs).then((answers) => AggregatorRegistry.aggregate(answers).metrics());
}

/** The metrics of every worker that answers before it exits, disconnects or `timeoutMs` passes. */
function answersOf(workers: ReadonlyArray<Worker | undefined>, timeoutMs: number): Promise<object[]> {
  return new Promise((resolve) => {
    const requestId = `heapwatch-${process.pid}-${nextRequestId++}`;
    let timer: NodeJS.Timeout | undefined;
    const page: PendingPage = {
      waiting: new Set(),
      answers: [],
      finish() {
        clearTimeout(timer);
        page.waiting.clear();
        pending.delete(requestId);
        resolve(page.answers);
      },
    };
    for (const worker of workers) if (worker?.isConnected()) page.waiting.add(worker);
    if (page.waiting.size === 0) return resolve(page.answers);
    pending.set(requestId, page);
    // The workers keep the primary up; this timer must not.
    timer = setTimeout(() => page.finish(), timeoutMs).unref();
    for (const worker of page.waiting) {
      // With a callback, a worker whose channel closed under the send is left out, instead of an
      // 'error' event on it that nothing may be listening to.
      worker.send({ type: METRICS_REQUEST, requestId }, undefined, undefined, (error) => error && stopWaiting(page, worker));
    }
  });
}
