/**
 * The `thread` label of watched worker threads: the thread's name, and for a second live thread
 * of the same name `name-2`, then `name-3`… always the smallest suffix free. A pool of four
 * `resize` threads that replaces its threads all day long uses the same four values, where
 * `threadId` would give a new series for every thread ever started.
 */
export class ThreadLabels {
  /** threadId → label, for live threads. */
  private readonly byThread = new Map<number, string>();
  private readonly taken = new Set<string>();

  /** At most this many live labels: past it, {@link labelOf} gives none. */
  constructor(private readonly maxThreads: number) {}

  get size(): number {
    return this.byThread.size;
  }

  /** The thread's label, given at its first call; undefined when `maxThreads` are labelled. */
  labelOf(threadId: number, name: string): string | undefined {
    const existing = this.byThread.get(threadId);
    if (existing !== undefined) return existing;
    if (this.byThread.size >= this.maxThreads) return undefined;
    let label = name;
    for (let n = 2; this.taken.has(label); n++) label = `${name}-${n}`;
    this.byThread.set(threadId, label);
    this.taken.add(label);
    return label;
  }

  /** Frees the label of a thread that exited or stopped watching itself. */
  release(threadId: number): void {
    const label = this.byThread.get(threadId);
    if (label === undefined) return;
    this.byThread.delete(threadId);
    this.taken.delete(label);
  }
}
