/**
 * Reconnect delays with "full jitter" (AWS Architecture Blog, "Exponential Backoff and Jitter",
 * 2015): a uniform draw between 0 and min(cap, base × 2^attempt). Clients that lost the same
 * server at the same moment spread their reconnects instead of arriving together.
 */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly baseMs: number,
    private readonly capMs: number,
    private readonly random: () => number = Math.random,
  ) {}

  /** The delay before the next attempt; each call widens the window up to the cap. */
  next(): number {
    const ceiling = Math.min(this.capMs, this.baseMs * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 30);
    return Math.floor(this.random() * ceiling);
  }

  /** A connection succeeded: the next loss starts from the base again. */
  reset(): void {
    this.attempt = 0;
  }

  get attempts(): number {
    return this.attempt;
  }
}
