import { LRUCache } from 'lru-cache';
import type { RatePolicy } from '../auth/caller';
import { nowMicros } from '../util/clock';
import type { RateLimiter } from './rate-limiter';
import { gcra, newDecision, planOf, RateDecision, WINDOWS } from './rate-windows';

/** Subjects remembered at most: 4 TATs each, about 200 bytes with the key and the LRU's links. */
export const DEFAULT_MAX_SUBJECTS = 100_000;

/**
 * GCRA per subject in this process's memory, bounded by an LRU: past `maxSubjects` the least
 * recently seen subject is forgotten, which hands it a fresh budget. A subject must go unseen
 * while `maxSubjects` others are seen for that to happen; an attacker who can spread requests
 * over that many addresses is past what a per-address limit can stop anyway.
 */
export class MemoryRateLimiter implements RateLimiter {
  private readonly tats: LRUCache<string, Float64Array>;
  private checks = 0;
  private refused = 0;

  constructor(
    maxSubjects = DEFAULT_MAX_SUBJECTS,
    /** µs since the epoch; tests pass a clock they move. */
    private readonly clock: () => number = nowMicros,
  ) {
    this.tats = new LRUCache<string, Float64Array>({ max: maxSubjects });
  }

  check(subject: string, bucket: string, policy: RatePolicy, out: RateDecision = newDecision()): RateDecision {
    const plan = planOf(policy);
    const key = `${bucket}:${subject}`;
    let tat = this.tats.get(key);
    if (tat === undefined) {
      tat = new Float64Array(WINDOWS);
      this.tats.set(key, tat);
    }
    this.checks++;
    gcra(plan, tat, this.clock(), out);
    if (!out.allowed) this.refused++;
    out.local = true;
    return out;
  }

  health(): object {
    return { store: 'memory', subjects: this.tats.size, checks: this.checks, refused: this.refused };
  }

  async close(): Promise<void> {
    this.tats.clear();
  }
}
