/**
 * The timer that closes WebSocket connections whose credentials ran out
 * (WsGateway.expireCredentials). It runs only while some open connection has an expiry, so a
 * server whose connections hold none (API keys, anonymous) or that has none takes no wake-up for
 * it: an idle server's CPU is a figure of issue 15.
 */
export class CredentialSweep {
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    /** Closes what ran out; returns how many open connections still have an expiry. */
    private readonly sweep: () => number,
    private readonly periodMs: number,
  ) {}

  /** Whether the timer runs. */
  get armed(): boolean {
    return this.timer !== null;
  }

  /** A connection now has an expiry: sweep every period until none has. */
  arm(): void {
    if (this.timer !== null || this.stopped) return;
    this.timer = setInterval(() => {
      if (this.sweep() === 0) this.disarm();
    }, this.periodMs);
  }

  stop(): void {
    this.stopped = true;
    this.disarm();
  }

  private disarm(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}
