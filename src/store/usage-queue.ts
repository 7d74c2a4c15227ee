import type { RateBucketRecord, UsageRecord } from './store';

interface UsageBatch {
  rows: UsageRecord[];
  buckets: RateBucketRecord[];
}

/**
 * Usage batches waiting for the store, written one at a time in arrival order.
 *
 * Bounded: while `maxRows` rows wait, a new batch is dropped and counted, not queued (the
 * limiter's counts it carries for rate_limit_buckets go with it). Usage rows are accounting; a
 * REST flood faster than the store takes its rows must not grow the persistence worker's memory
 * without end, nor the queue that market-data batches share with it (one connection to the
 * embedded store).
 */
export class UsageQueue {
  private readonly waiting: UsageBatch[] = [];
  private writing: Promise<void> | null = null;
  /** Rows waiting, the one being written included. */
  rows = 0;
  /** Rows dropped since the start because `maxRows` were waiting. */
  dropped = 0;

  constructor(
    private readonly write: (rows: UsageRecord[], buckets: RateBucketRecord[]) => Promise<void>,
    private readonly maxRows: number,
    /** Told of a batch the store refused (it is dropped: accounting is never retried ahead of market data). */
    private readonly failed: (err: Error) => void,
  ) {}

  add(rows: UsageRecord[], buckets: RateBucketRecord[]): void {
    if (this.rows > 0 && this.rows + rows.length > this.maxRows) {
      this.dropped += rows.length;
      return;
    }
    this.rows += rows.length;
    this.waiting.push({ rows, buckets });
    this.writing ??= this.writeAll();
  }

  /** Settles once every batch added so far is written or dropped. */
  drained(): Promise<void> {
    return this.writing ?? Promise.resolve();
  }

  private async writeAll(): Promise<void> {
    while (this.waiting.length > 0) {
      const batch = this.waiting.shift()!;
      try {
        await this.write(batch.rows, batch.buckets);
      } catch (err) {
        this.failed(err as Error);
      }
      this.rows -= batch.rows.length;
    }
    this.writing = null;
  }
}
