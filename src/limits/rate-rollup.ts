import type { RatePolicy } from '../auth/caller';
import type { RateBucketRecord } from '../store/store';

const MINUTE_MS = 60_000;
/** Subject-minutes held between two takes at most; past it they are counted as dropped (health). */
export const MAX_ROLLUP_ENTRIES = 100_000;

/**
 * The limiter's decisions, counted per subject, bucket and UTC minute in memory for
 * rate_limit_buckets: a request costs two map lookups and an increment, and the usage batcher
 * takes the counts with each usage batch (accounting/usage-batcher.ts), so the database sees one
 * row per subject and minute per batch, never a write per request. Counted where the decision is
 * made (rate-limit-hook.ts), so a 429 goes to the subject the limiter charged: the client when the
 * caller is authenticated, `ip:<address>` only for anonymous callers.
 */
export class RateRollup {
  /** bucket → subject → the open minute's counts. */
  private readonly open = new Map<string, Map<string, RateBucketRecord>>();
  /** Minutes that ended before the take. */
  private closed: RateBucketRecord[] = [];
  private entries = 0;
  /** Subject-minutes not counted: more than MAX_ROLLUP_ENTRIES between two takes. */
  dropped = 0;

  constructor(
    /** ms since the epoch; tests pass one they move. */
    private readonly clock: () => number = Date.now,
  ) {}

  count(subject: string, clientId: string | null, bucket: string, policy: RatePolicy, allowed: boolean): void {
    const minute = Math.floor(this.clock() / MINUTE_MS) * MINUTE_MS * 1000;
    let subjects = this.open.get(bucket);
    if (subjects === undefined) {
      subjects = new Map();
      this.open.set(bucket, subjects);
    }
    let counts = subjects.get(subject);
    if (counts !== undefined && counts.minute !== minute) {
      this.closed.push(counts);
      counts = undefined;
    }
    if (counts === undefined) {
      if (this.entries >= MAX_ROLLUP_ENTRIES) {
        this.dropped++;
        subjects.delete(subject);
        return;
      }
      counts = { subject, clientId, bucket, minute, allowed: 0, refused: 0, perMinute: 0, perHour: 0, perDay: 0 };
      subjects.set(subject, counts);
      this.entries++;
    }
    counts.perMinute = policy.perMinute;
    counts.perHour = policy.perHour;
    counts.perDay = policy.perDay;
    if (allowed) counts.allowed++;
    else counts.refused++;
  }

  /** Everything counted since the last take; counting starts afresh (the store adds, so a minute may come in parts). */
  take(): RateBucketRecord[] {
    const out = this.closed;
    for (const subjects of this.open.values()) for (const counts of subjects.values()) out.push(counts);
    this.open.clear();
    this.closed = [];
    this.entries = 0;
    return out;
  }
}
