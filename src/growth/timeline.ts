/**
 * Which readings a window keeps, and where: a fixed number of slots for the readings of the last
 * `spanMs`. While the readings of the span fit, every one is kept. When they do not (a window of
 * an hour read every 10 s is 361 readings), the recent ones stay dense and the older ones are
 * thinned out, each kept reading standing for a stretch that grows with its age: the short
 * horizons that judge fast leaks need every recent reading, the long ones that judge slow leaks
 * need the whole span, not every reading of it. Memory stays `capacity` slots per site.
 */
export class ReadingTimeline {
  /** Timestamp of the reading in each slot (ms since the epoch). */
  private readonly slotTimes: Float64Array;
  /** Slots holding a reading, oldest first. */
  private order: number[] = [];
  /** Slots free for the next readings. */
  private readonly free: number[];

  constructor(
    readonly capacity: number,
    readonly spanMs: number,
  ) {
    if (capacity < 3) throw new RangeError(`capacity: expected at least 3 slots, received ${capacity}`);
    this.slotTimes = new Float64Array(capacity);
    this.free = Array.from({ length: capacity }, (_, i) => capacity - 1 - i);
  }

  /** Readings kept now. */
  get size(): number {
    return this.order.length;
  }

  /** When the latest reading was taken, or undefined before the first. */
  get latestTimestamp(): number | undefined {
    const last = this.order.at(-1);
    return last === undefined ? undefined : this.slotTimes[last];
  }

  /** When the slot's reading was taken. */
  timeOf(slot: number): number {
    return this.slotTimes[slot] as number;
  }

  /**
   * Makes room for a reading taken at `timestamp` (no earlier than the latest) and returns its
   * slot. Readings older than the span go first — one reading at or before the span's start is
   * kept, so the whole span has a reading at its start; then, when every slot is still taken, the
   * reading whose removal leaves the smallest gap for its age.
   */
  add(timestamp: number): number {
    const start = timestamp - this.spanMs;
    while (this.order.length >= 2 && (this.slotTimes[this.order[1] as number] as number) <= start) {
      this.free.push(this.order.shift() as number);
    }
    if (this.free.length === 0) this.free.push(this.thin(timestamp));
    const slot = this.free.pop() as number;
    this.slotTimes[slot] = timestamp;
    this.order.push(slot);
    return slot;
  }

  /**
   * Removes one reading between the oldest and the latest: the one whose neighbours would be the
   * closest for their age. Gaps then grow in proportion to age, which keeps about the same number
   * of readings in every doubling of the horizon.
   */
  private thin(now: number): number {
    let best = 1;
    let bestRatio = Number.POSITIVE_INFINITY;
    for (let i = 1; i < this.order.length - 1; i++) {
      const before = this.slotTimes[this.order[i - 1] as number] as number;
      const after = this.slotTimes[this.order[i + 1] as number] as number;
      const ratio = (after - before) / Math.max(now - before, 1);
      if (ratio < bestRatio) {
        bestRatio = ratio;
        best = i;
      }
    }
    return this.order.splice(best, 1)[0] as number;
  }

  /** The slots of the readings taken at or after `since`, oldest first. */
  slotsSince(since = Number.NEGATIVE_INFINITY): number[] {
    let first = 0;
    while (first < this.order.length && (this.slotTimes[this.order[first] as number] as number) < since) first++;
    return this.order.slice(first);
  }

  /** The slot of the latest reading, or undefined before the first. */
  get latestSlot(): number | undefined {
    return this.order.at(-1);
  }
}
