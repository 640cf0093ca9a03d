import type { ExportedSite } from '../export/isolates.js';
import type { MonitorStats } from '../monitor/stats.js';

/**
 * The BroadcastChannel a watched worker thread posts on and the main thread's hub listens to. A
 * channel of its own, never the application's `parentPort`, whose `message` listeners would
 * otherwise receive heapwatch's traffic.
 */
export const THREAD_CHANNEL = 'heapwatch:threads';

/** Bumped when a message's shape changes, so that two heapwatch copies of other versions ignore each other. */
export const PROTOCOL_VERSION = 1;

interface FromThread {
  readonly heapwatch: typeof PROTOCOL_VERSION;
  /** `worker_threads.threadId`: unique in the process for its whole life. */
  readonly threadId: number;
  /** The name the thread asked for; the hub derives the bounded `thread` label from it. */
  readonly name: string;
  /** The thread's monitor's `intervalMs`: a thread silent for a few of them may be gone. */
  readonly intervalMs: number;
}

/** After every reading of the thread's monitor: the figures the exporters read. */
export interface ThreadReport extends FromThread {
  readonly type: 'report';
  readonly sites: readonly ExportedSite[];
  readonly suspects: number;
  readonly stats: MonitorStats;
  readonly growthThresholdBytes: number;
  readonly windowMs: number;
  readonly heapSizeLimitBytes: number;
}

/** A record of the thread's monitor (pino's JSON line), for the main thread's logger. */
export interface ThreadLogLine extends FromThread {
  readonly type: 'log';
  readonly line: string;
}

/** The thread stopped watching itself, or is exiting: its series go now. */
export interface ThreadBye extends FromThread {
  readonly type: 'bye';
}

export type ThreadMessage = ThreadReport | ThreadLogLine | ThreadBye;

const isCount = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value) && value >= 0;

/**
 * The message if it is one of heapwatch's of this version, else undefined. Anything in the
 * process may post on a channel of this name: the hub must not trust, nor throw on, what it gets.
 */
export function parseThreadMessage(data: unknown): ThreadMessage | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const message = data as Partial<Record<string, unknown>>;
  if (message['heapwatch'] !== PROTOCOL_VERSION || !Number.isSafeInteger(message['threadId'])) return undefined;
  if (typeof message['name'] !== 'string' || message['name'].length === 0 || !isCount(message['intervalMs'])) return undefined;
  switch (message['type']) {
    case 'bye':
      return data as ThreadBye;
    case 'log':
      return typeof message['line'] === 'string' ? (data as ThreadLogLine) : undefined;
    case 'report':
      return isReport(message) ? (data as ThreadReport) : undefined;
    default:
      return undefined;
  }
}

function isReport(message: Partial<Record<string, unknown>>): boolean {
  const stats = message['stats'] as Partial<Record<keyof MonitorStats, unknown>> | null | undefined;
  const statsFields: Array<keyof MonitorStats> = ['readings', 'readingErrors', 'trackedSites', 'droppedSites', 'requestedGcs', 'skippedGcs', 'sampledLiveBytes', 'samplingIntervalBytes', 'logErrors'];
  return (
    Array.isArray(message['sites']) &&
    message['sites'].every(isSite) &&
    typeof stats === 'object' &&
    stats !== null &&
    statsFields.every((field) => isCount(stats[field])) &&
    ['suspects', 'growthThresholdBytes', 'windowMs', 'heapSizeLimitBytes'].every((field) => isCount(message[field]))
  );
}

function isSite(value: unknown): boolean {
  const site = value as Partial<ExportedSite> | null;
  const frame = site?.site;
  return (
    typeof site === 'object' &&
    site !== null &&
    typeof frame === 'object' &&
    frame !== null &&
    typeof frame.functionName === 'string' &&
    typeof frame.file === 'string' &&
    Number.isInteger(frame.line) &&
    Number.isInteger(frame.column) &&
    isCount(site.liveBytes) &&
    isCount(site.count) &&
    (site.externalBytes === undefined || isCount(site.externalBytes)) &&
    typeof site.growthBytes === 'number' &&
    Number.isFinite(site.growthBytes) &&
    typeof site.suspected === 'boolean' &&
    isCount(site.suspicions)
  );
}
