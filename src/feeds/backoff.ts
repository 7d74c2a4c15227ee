/**
 * Reconnect delays: exponential with full jitter (a uniform draw in [0, min(cap, base × 2^n))),
 * so many bookcast instances cut off by the same venue outage do not all come back in the same
 * millisecond. `reset` once a connection proved good (feed-connection.ts: it stayed up a minute), not
 * merely when it opened: a venue that accepts and then drops every connection keeps the delay growing.
 */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly baseMs = 250,
    private readonly capMs = 30_000,
    private readonly random: () => number = Math.random,
  ) {}

  next(): number {
    const ceiling = Math.min(this.capMs, this.baseMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    return Math.floor(this.random() * ceiling);
  }

  reset(): void {
    this.attempt = 0;
  }
}
