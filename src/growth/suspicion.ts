import type { TrendAssessment } from './trend.js';

/** A change of a site's verdict. */
export type Transition = 'raised' | 'cleared';

interface Suspect {
  readonly since: number;
}

/**
 * The verdict per site, with hysteresis and a cooldown so that a site near the threshold does not
 * flap: a suspicion is raised when the series is rising (and the rise was confirmed after a major
 * GC), and cleared only when the growth over the window falls under half the threshold. A cleared
 * site cannot be raised again for `cooldownMs`.
 */
export class SuspicionTracker {
  private readonly suspects = new Map<string, Suspect>();
  private readonly clearedAt = new Map<string, number>();

  constructor(
    private readonly growthThresholdBytes: number,
    private readonly cooldownMs: number,
  ) {}

  isSuspect(key: string): boolean {
    return this.suspects.has(key);
  }

  /** When the site became a suspect, or undefined. */
  suspectSince(key: string): number | undefined {
    return this.suspects.get(key)?.since;
  }

  keys(): IterableIterator<string> {
    return this.suspects.keys();
  }

  get count(): number {
    return this.suspects.size;
  }

  update(key: string, assessment: TrendAssessment, confirmed: boolean, now: number): Transition | undefined {
    if (this.suspects.has(key)) {
      if (assessment.growthBytes >= this.growthThresholdBytes / 2) return undefined;
      this.suspects.delete(key);
      this.clearedAt.set(key, now);
      return 'cleared';
    }
    if (!assessment.rising || !confirmed) return undefined;
    const cleared = this.clearedAt.get(key);
    if (cleared !== undefined && now - cleared < this.cooldownMs) return undefined;
    this.clearedAt.delete(key);
    this.suspects.set(key, { since: now });
    return 'raised';
  }

  /** Drops state of a site no longer tracked; returns whether it was a suspect. */
  forget(key: string): boolean {
    this.clearedAt.delete(key);
    return this.suspects.delete(key);
  }

  /** Forgets cooldowns that have run out, so the map stays bounded. */
  expireCooldowns(now: number): void {
    for (const [key, at] of this.clearedAt) if (now - at >= this.cooldownMs) this.clearedAt.delete(key);
  }
}
