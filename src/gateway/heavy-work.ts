import { BookcastError } from '../errors';
import type { ClientSlots } from './client-slots';

export interface HeavyLimits {
  /** Tasks run at once (the pool's threads). */
  concurrency: number;
  /** Tasks that may wait beyond those running; more are refused (BUSY, 503 + Retry-After). */
  maxQueued: number;
}

interface Job {
  start: () => void;
}

/**
 * The front thread's admission to heavy work (rebuilding a past book in the piscina pool): a
 * bounded FIFO in front of the pool, a cap per client, and abandoned work dropped. Without it,
 * 200 abandoned `orderbook?at=` requests queued without bound and kept a core busy for 30 s
 * after their clients had gone.
 *
 * A task whose client goes away while it waits is removed and never runs. One already running
 * finishes (its cost is bounded by the journal's time index) and its answer is dropped: piscina
 * could abort it only by terminating its thread, losing that thread's journal index.
 * A client (caller.subject) may have as many tasks running or waiting as its tier's
 * heavyConcurrent, counted together with its other heavy requests (client-slots.ts); more are
 * refused (TOO_MANY_HEAVY_REQUESTS, 429).
 */
export class HeavyWork<T, A> {
  private readonly waiting: Job[] = [];
  private running = 0;
  /** Counters for health. */
  readonly counts = { completed: 0, cancelled: 0, refused_busy: 0, refused_client: 0 };

  constructor(
    private readonly run: (task: T) => Promise<A>,
    private readonly limits: HeavyLimits,
    private readonly slots: ClientSlots,
  ) {}

  get queued(): number {
    return this.waiting.length;
  }

  get active(): number {
    return this.running;
  }

  /**
   * Runs `task` for `client` (holding at most `perClient`) when a slot is free. Refuses at once with a coded error when the
   * client has its share in progress or the queue is full; `signal` aborting while the task
   * waits removes it (the promise then rejects with the signal's reason).
   */
  submit(client: string, perClient: number, task: T, signal: AbortSignal): Promise<A> {
    try {
      this.slots.take(client, perClient);
    } catch (err) {
      this.counts.refused_client++;
      return Promise.reject(err);
    }
    if (this.running >= this.limits.concurrency && this.waiting.length >= this.limits.maxQueued) {
      this.slots.release(client);
      this.counts.refused_busy++;
      return Promise.reject(new BookcastError('BUSY', `${this.waiting.length} heavy requests are waiting already; retry shortly`));
    }
    return new Promise<A>((resolve, reject) => {
      const job: Job = { start: () => undefined };
      job.start = () => {
        this.running++;
        this.run(task)
          .then(resolve, reject)
          .finally(() => {
            this.running--;
            this.counts.completed++;
            this.slots.release(client);
            this.pump();
          });
      };
      signal.addEventListener(
        'abort',
        () => {
          const at = this.waiting.indexOf(job);
          if (at < 0) return;
          this.waiting.splice(at, 1);
          this.counts.cancelled++;
          this.slots.release(client);
          reject(signal.reason);
        },
        { once: true },
      );
      this.waiting.push(job);
      this.pump();
    });
  }

  private pump(): void {
    while (this.running < this.limits.concurrency && this.waiting.length > 0) this.waiting.shift()!.start();
  }
}
