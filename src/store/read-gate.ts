import { BookcastError } from '../errors';

/**
 * Puts history reads behind writes on one store, so a flood of reads never delays what the feed
 * makes durable (a batch queued in the driver behind a few hundred reads raised the storage lag
 * from ~0.1 s to ~2 s).
 *
 * - Reads run at most `concurrency` at a time; up to `maxQueued` more wait here, in order, and
 *   further ones are refused at once (BUSY): a bounded queue, not an unbounded one in the driver.
 * - `exclusive` (PGlite: one connection, in-process, that runs one statement at a time in the
 *   order it was given them): while a write runs or waits, no read starts. With concurrency 1 a
 *   write batch therefore waits behind at most the one read already inside the database, and
 *   reads fill only the gaps between batches. That is the honest bound for a single connection:
 *   a statement cannot be pre-empted, so the cost is one read's duration, never the queue's.
 * - Not exclusive (PostgreSQL): reads use their own pool of connections (persistence-worker.ts),
 *   so writes never wait for them at all; the gate only bounds how many reads are in the pool.
 */
export class ReadGate {
  private readonly waiting: (() => void)[] = [];
  private running = 0;
  private writing = 0;
  /** Reads refused since the start (the queue was full). */
  refused = 0;

  constructor(
    private readonly concurrency: number,
    private readonly maxQueued: number,
    private readonly exclusive: boolean,
  ) {}

  /** Reads running or waiting now. */
  get pending(): number {
    return this.running + this.waiting.length;
  }

  /** Runs `work` when a read slot is free and (exclusive) no write runs or waits; BUSY if the queue is full. */
  read<T>(work: () => Promise<T>): Promise<T> {
    if (this.waiting.length >= this.maxQueued) {
      this.refused++;
      return Promise.reject(new BookcastError('BUSY', `more than ${this.maxQueued} history reads are waiting for the store; retry shortly`));
    }
    return new Promise<void>((start) => {
      this.waiting.push(start);
      this.pump();
    })
      .then(work)
      .finally(() => {
        this.running--;
        this.pump();
      });
  }

  /** Runs a write now; while it runs, reads that have not started wait (exclusive). */
  async write<T>(work: () => Promise<T>): Promise<T> {
    this.writing++;
    try {
      return await work();
    } finally {
      this.writing--;
      this.pump();
    }
  }

  private pump(): void {
    while (this.waiting.length > 0 && this.running < this.concurrency && !(this.exclusive && this.writing > 0)) {
      this.running++;
      this.waiting.shift()!();
    }
  }
}
