import type { RateBucketRecord, UsageRecord } from '../store/store';
import { type PackedUsage, UsagePacker } from '../store/usage-pack';

/** The limiter's counts since the last batch (limits/rate-rollup.ts), for rate_limit_buckets. */
export interface RateCounts {
  take(): RateBucketRecord[];
  /** Counts the roll-up could not hold (health). */
  readonly dropped: number;
}

/**
 * A batch goes to the persistence worker at this many rows, or this long after its first row.
 * Each batch costs the store a fixed few milliseconds, and 5,000 rows a batch spent 10–45% less
 * store CPU per row than 1,000 (bench/store/usage-write, `--batch`).
 */
export const BATCH_ROWS = 5000;
const BATCH_MS = 1000;

/**
 * Usage rows from the front thread, in batches: one postMessage per batch to the persistence
 * worker, which COPYs it. A REST answer costs one row packed into the batch's buffer here
 * (store/usage-pack.ts); nothing waits on the database. Each batch carries the limiter's counts since
 * the previous one (rate_limit_buckets): every counted request is answered, and so becomes a row
 * that brings a batch after its count.
 */
export class UsageBatcher {
  private readonly packer = new UsagePacker(BATCH_ROWS);
  private timer: NodeJS.Timeout | null = null;
  /** Rows recorded since start (health). */
  recorded = 0;

  constructor(
    /** Posts the batch to the persistence worker, with `batch.numbers` transferred. */
    private readonly sink: (batch: PackedUsage, buckets: RateBucketRecord[]) => void,
    /** --anonymize-ip: addresses are stored with their host part zeroed. */
    private readonly anonymizeIp: boolean,
    private readonly rateCounts: RateCounts | null,
  ) {}

  record(row: UsageRecord): void {
    if (this.anonymizeIp) row.ip = anonymizedIp(row.ip);
    this.recorded++;
    this.packer.add(row);
    if (this.packer.full) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), BATCH_MS).unref();
  }

  flush(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const buckets = this.rateCounts === null ? [] : this.rateCounts.take();
    if (this.packer.rows === 0 && buckets.length === 0) return;
    this.sink(this.packer.take(), buckets);
  }

  health(): object {
    return { recorded: this.recorded, pending: this.packer.rows, rate_buckets_dropped: this.rateCounts?.dropped ?? 0 };
  }
}

/**
 * An address with its host part zeroed: IPv4 to its /24 (`203.0.113.0`), IPv6 to its /48
 * (`2001:db8:85a3::`), the usual anonymization of web analytics (enough for abuse reports by
 * network, not to single out a subscriber).
 */
export function anonymizedIp(ip: string): string {
  const v4 = /^(?:::ffff:)?(\d+\.\d+\.\d+)\.\d+$/i.exec(ip);
  if (v4 !== null) return `${v4[1]}.0`;
  if (!ip.includes(':')) return ip;
  const halves = ip.toLowerCase().split('::');
  const head = halves[0] === '' ? [] : halves[0].split(':');
  const tail = halves.length > 1 && halves[1] !== '' ? halves[1].split(':') : [];
  const groups = [...head, ...new Array<string>(Math.max(0, 8 - head.length - tail.length)).fill('0'), ...tail];
  return `${groups.slice(0, 3).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::`;
}
