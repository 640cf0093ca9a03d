import { pino } from 'pino';
import type { Logger } from 'pino';

/**
 * A pino logger for a worker thread's monitor whose every record is handed to `post` as its JSON
 * line, to be written by the main thread's logger ({@link relogThreadLine}). The thread's own
 * stdout is left alone: the application's logger, its level, transport and redaction live in
 * the main thread.
 */
export function forwardingLogger(post: (line: string) => void): Logger {
  return pino({ base: null, timestamp: false }, { write: post });
}

/**
 * Writes a record of a worker thread's monitor through the main thread's logger, at its level,
 * with the thread named: `heapwatch.thread` in the record, and in the message. A line that is
 * not one of heapwatch's records is dropped.
 */
export function relogThreadLine(logger: Logger, thread: string, line: string): void {
  let record: { level?: unknown; msg?: unknown; heapwatch?: unknown };
  try {
    record = JSON.parse(line) as typeof record;
  } catch {
    return;
  }
  const level = typeof record.level === 'number' ? pino.levels.labels[record.level] : undefined;
  if (level === undefined || typeof record.msg !== 'string' || typeof record.heapwatch !== 'object' || record.heapwatch === null) return;
  const write = (logger as unknown as Record<string, unknown>)[level];
  if (typeof write !== 'function') return;
  const message = record.msg.replace(/^heapwatch: /, `heapwatch (thread ${thread}): `);
  (write as (this: Logger, object: object, message: string) => void).call(logger, { heapwatch: { ...record.heapwatch, thread } }, message);
}
