import type { SiteReport } from '../log/site-report.js';
import type { ReadingTiming } from './stats.js';
import type { UnexplainedMemory } from './unexplained-memory.js';

export interface HeapMonitorEvents {
  'leak-suspected': [SiteReport];
  'leak-cleared': [SiteReport];
  /** After every tick's reading, failed or not. */
  reading: [ReadingTiming];
  /** The memory no site explains grows in a sustained way (main thread only; see docs/detection.md). */
  'memory-unexplained-growth': [UnexplainedMemory];
  /** That growth has settled. */
  'memory-unexplained-growth-cleared': [UnexplainedMemory];
}

/** Emits a monitor event; a listener that throws is logged once, and the monitor goes on. */
export type NotifyMonitorEvent = <E extends keyof HeapMonitorEvents>(event: E, ...args: HeapMonitorEvents[E]) => void;
