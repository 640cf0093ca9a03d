import type { Horizon } from './horizons.js';

interface Suspect {
  readonly since: number;
  /** The horizon over which the site rose when it was raised. */
  readonly horizon: Horizon;
}

/**
 * The verdict per site, with hysteresis and a cooldown so that a site near the threshold does not
 * flap: a suspicion is raised at the horizon over which the site rose (confirmed after a major
 * GC), and cleared only when the growth over that horizon and over the window have both fallen
 * under half their thresholds (see `Detector`). A cleared site cannot be raised again for
 * `cooldownMs`.
 */
export class SuspicionTracker {
  private readonly suspects = new Map<string, Suspect>();
  private readonly clearedAt = new Map<string, number>();

  constructor(private readonly cooldownMs: number) {}

  isSuspect(key: string): boolean {
    return this.suspects.has(key);
  }

  /** When the site became a suspect, or undefined. */
  suspectSince(key: string): number | undefined {
    return this.suspects.get(key)?.since;
  }

  /** The horizon that raised the site, while it is a suspect. */
  raisedOver(key: string): Horizon | undefined {
    return this.suspects.get(key)?.horizon;
  }

  keys(): IterableIterator<string> {
    return this.suspects.keys();
  }

  get count(): number {
    return this.suspects.size;
  }

  /** Makes the site a suspect, unless it already is one or was cleared less than `cooldownMs` ago. */
  raise(key: string, horizon: Horizon, now: number): boolean {
    if (this.suspects.has(key)) return false;
    const cleared = this.clearedAt.get(key);
    if (cleared !== undefined && now - cleared < this.cooldownMs) return false;
    this.clearedAt.delete(key);
    this.suspects.set(key, { since: now, horizon });
    return true;
  }

  /** Ends the site's suspicion; returns whether it was a suspect. */
  clear(key: string, now: number): boolean {
    if (!this.suspects.delete(key)) return false;
    this.clearedAt.set(key, now);
    return true;
  }

  /** Forgets cooldowns that have run out, so the map stays bounded. */
  expireCooldowns(now: number): void {
    for (const [key, at] of this.clearedAt) if (now - at >= this.cooldownMs) this.clearedAt.delete(key);
  }
}
