import { BookcastError } from '../errors';

/**
 * Heavy requests in progress per client (`caller.subject`): `orderbook?at=` rebuilds, history
 * reads and bulk snapshots share one cap, the caller's tier's `heavyConcurrent`, so a client
 * cannot hold the heavy-work thread and the store's read queue at once by mixing kinds.
 */
export class ClientSlots {
  private readonly held = new Map<string, number>();
  /** Requests refused since start (health). */
  refused = 0;

  /** Takes one of `client`'s `max` slots; throws TOO_MANY_HEAVY_REQUESTS when it holds them all. */
  take(client: string, max: number): void {
    const mine = this.held.get(client) ?? 0;
    if (mine >= max) {
      this.refused++;
      throw new BookcastError('TOO_MANY_HEAVY_REQUESTS', `at most ${max} heavy requests per client at a time`);
    }
    this.held.set(client, mine + 1);
  }

  release(client: string): void {
    const left = (this.held.get(client) ?? 1) - 1;
    if (left === 0) this.held.delete(client);
    else this.held.set(client, left);
  }

  /** Runs `work` in one of `client`'s slots, released when it settles. */
  async hold<T>(client: string, max: number, work: () => Promise<T>): Promise<T> {
    this.take(client, max);
    try {
      return await work();
    } finally {
      this.release(client);
    }
  }
}
