import { constants, PerformanceObserver } from 'node:perf_hooks';
import type { PerformanceEntry } from 'node:perf_hooks';

/**
 * How heapwatch learns of V8's major GCs in this isolate:
 * - `sentinel`: a Symbol registered with a FinalizationRegistry, cleared only by a mark-compact.
 *   Nothing runs at young-generation collections (up to a hundred a second on an
 *   allocation-bound route).
 * - `gc-entries`: a `gc` PerformanceObserver, called after every collection, major or minor:
 *   exact, and what is left where the sentinel fails its test.
 * - `probing`: not known yet; the `gc` entries tell, while the sentinel is put to the test.
 */
export type MajorGcSignal = 'sentinel' | 'gc-entries' | 'probing';

/**
 * Young-generation collections the sentinel must have outlived (beside one major GC it was
 * cleared at) before it alone is trusted.
 */
export const MINORS_TO_OUTLIVE = 4;

/** What the test of a kind of sentinel concluded, shared by the watchers that use it. */
export interface SentinelVerdict {
  learned: Exclude<MajorGcSignal, 'probing'> | undefined;
}

/** Makes a sentinel: a target no one else holds. */
export type SentinelFactory = () => object;

/** Symbol() is allocated in V8's old generation; an object literal would be young. */
const oldSentinel: SentinelFactory = () => Symbol('heapwatch: major GC sentinel') as unknown as object;

/** The verdict on {@link oldSentinel} in this isolate (module state is per isolate). */
const isolateVerdict: SentinelVerdict = { learned: undefined };

/** How this isolate's major GCs are known now (see {@link MajorGcSignal}). */
export function majorGcSignal(): MajorGcSignal {
  return isolateVerdict.learned ?? 'probing';
}

/**
 * Calls `onMajorGc` shortly after each full mark-compact GC completes, on a later turn of the
 * event loop, once however many came within one. Right after such a GC the profile holds no
 * garbage; between two of them, objects that were promoted and then died still count as live with
 * the native reader. Returns a function that stops watching.
 *
 * The signal is a sentinel held by nothing but a FinalizationRegistry: when a GC clears it, V8
 * calls the registry back. No young-generation collection may clear it, and whether one can
 * depends on the V8 at hand: Node 20–24 keep registered targets alive through them, Node 26's V8
 * clears young targets there (`--handle-weak-ref-weakly-in-minor-gc`: 35 calls for 35 scavenges
 * and no major GC). So the sentinel is a Symbol, which V8 allocates in the old generation, where
 * only a mark-compact collects. Rather than trust that, or a version number, each isolate puts it
 * to the test once: a `gc` PerformanceObserver tells the collections apart and drives the callback
 * meanwhile, and after every batch of young-generation collections the sentinel must still be
 * there. Once it has outlived {@link MINORS_TO_OUTLIVE} of them and was cleared at a major GC, the
 * observer goes and the sentinel alone remains; cleared without a major GC, or refused as a
 * target, it goes and the observer stays.
 */
export function onMajorGc(onMajorGc: (at: number) => void): () => void {
  const watch = new MajorGcWatch(onMajorGc, oldSentinel, isolateVerdict);
  return () => watch.stop();
}

/**
 * One watcher; see {@link onMajorGc}. Tests construct it with another sentinel (an object
 * literal, which Node 26 clears at young-generation collections) and a verdict of their own: an
 * internal seam, not an API.
 */
export class MajorGcWatch {
  private watching = true;
  private callPending = false;
  private readonly registry: FinalizationRegistry<undefined>;
  /** While on test, the sentinel armed now; undefined between its clearing and the next. */
  private sentinel: WeakRef<object> | undefined;
  private observer: PerformanceObserver | undefined;
  /** Whether the sentinel alone calls back: its test passed, in this watch or an earlier one. */
  private trusted: boolean;
  /** While on test: major GCs the entries told of since the sentinel was armed. */
  private majorsSinceArm = 0;
  /** While on test: young-generation collections the sentinel outlived. */
  private outlived = 0;
  /** While on test: the sentinel was cleared, and the entries have not yet told by what. */
  private clearedUnjudged = false;

  constructor(
    private readonly callback: (at: number) => void,
    private readonly makeSentinel: SentinelFactory,
    private readonly verdict: SentinelVerdict,
  ) {
    this.registry = new FinalizationRegistry<undefined>(() => this.sentinelCleared());
    this.trusted = verdict.learned === 'sentinel';
    if (verdict.learned !== 'gc-entries' && !this.arm()) {
      verdict.learned = 'gc-entries';
      this.trusted = false;
    }
    if (!this.trusted) this.observe();
  }

  /** How this watch learns of major GCs now. */
  get signal(): MajorGcSignal {
    return this.trusted ? 'sentinel' : this.verdict.learned === 'gc-entries' ? 'gc-entries' : 'probing';
  }

  stop(): void {
    // A sentinel still registered may be cleared once more; nothing is called then.
    this.watching = false;
    this.observer?.disconnect();
    this.observer = undefined;
  }

  /** Registers a new sentinel; false when this V8 takes no Symbol as a target. */
  private arm(): boolean {
    const sentinel = this.makeSentinel();
    try {
      this.registry.register(sentinel, undefined);
      // Looked at only while on test: a WeakRef keeps its target through the job that made it,
      // and the trusted sentinel must be cleared by a full GC that job itself brings.
      this.sentinel = this.trusted ? undefined : new WeakRef(sentinel);
    } catch {
      return false; // TypeError: invalid target (symbols as weak targets came with V8 10.8)
    }
    this.majorsSinceArm = 0;
    return true;
  }

  private sentinelCleared(): void {
    if (!this.watching) return;
    if (this.trusted) {
      this.sentinel = undefined;
      this.call();
      this.armNextTurn();
      return;
    }
    // On test: the entries of the collection that cleared it may come before or after this (V8
    // queues the cleanup as a task, Node the entries as an immediate): it is judged with the first
    // batch of entries that holds a collection, this one's at the latest.
    this.clearedUnjudged = true;
    this.countEntries(this.observer?.takeRecords() ?? []);
  }

  /**
   * Armed on the next turn: a full GC the callback brings within this cleanup (a reading through
   * the inspector forces one) would clear it again at once, and call again, without end.
   */
  private armNextTurn(): void {
    setImmediate(() => {
      if (this.watching && this.verdict.learned !== 'gc-entries') this.arm();
    }).unref();
  }

  private observe(): void {
    this.observer = new PerformanceObserver((list) => {
      if (this.watching) this.countEntries(list.getEntries());
    });
    this.observer.observe({ entryTypes: ['gc'] });
  }

  /** A batch of `gc` entries: the callback for major GCs; the sentinel's test while on test. */
  private countEntries(entries: readonly PerformanceEntry[]): void {
    let majors = 0;
    let minors = 0;
    for (const entry of entries as ReadonlyArray<PerformanceEntry & { detail?: { kind?: number } }>) {
      const kind = entry.detail?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) majors++;
      else if (kind === constants.NODE_PERFORMANCE_GC_MINOR) minors++;
    }
    if (majors > 0) this.call();
    if (this.trusted || this.verdict.learned === 'gc-entries' || this.sentinel === undefined) return;
    this.majorsSinceArm += majors;
    if (this.clearedUnjudged) {
      if (majors + minors === 0) return;
      // Cleared with no major GC since it was armed: a young-generation collection did it.
      this.clearedUnjudged = false;
      this.sentinel = undefined;
      if (this.majorsSinceArm === 0) return this.fail();
      if (this.outlived >= MINORS_TO_OUTLIVE) this.trust();
      this.armNextTurn();
      return;
    }
    // Only a batch of young-generation collections alone says anything of them.
    if (majors > 0 || minors === 0) return;
    if (this.sentinel.deref() === undefined) this.fail();
    else this.outlived += minors;
  }

  /** The sentinel was cleared without a major GC: the entries stay, here and in later watches. */
  private fail(): void {
    this.verdict.learned = 'gc-entries';
    this.sentinel = undefined;
  }

  /** The sentinel passed: it alone calls back from now on. */
  private trust(): void {
    this.verdict.learned ??= 'sentinel';
    this.trusted = true;
    this.observer?.disconnect();
    this.observer = undefined;
  }

  private call(): void {
    if (this.callPending || !this.watching) return;
    this.callPending = true;
    // On the next turn, out of V8's cleanup or the observer's delivery.
    setImmediate(() => {
      this.callPending = false;
      if (this.watching) this.callback(Date.now());
    }).unref();
  }
}
