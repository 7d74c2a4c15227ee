import type { Doorbell, WaitResult } from './doorbell';
import type { Parkable } from './idle-strategy';
import type { SpscRing } from './spsc-ring';

/**
 * Lets one consumer sleep on several rings whose producers all ring the same Doorbell (each
 * producer built its SpscRing with that doorbell). park() re-checks every ring after
 * announcing the sleep, which is what makes the doorbell lose no wake-up; parking on the bare
 * doorbell without that re-check could sleep through a record published just before it.
 */
export class RingGroup implements Parkable {
  private value = 0;

  constructor(
    private readonly doorbell: Doorbell,
    private readonly rings: readonly SpscRing[],
  ) {}

  /** True when every ring is still empty after announcing the sleep. */
  park(): boolean {
    this.value = this.doorbell.park();
    const rings = this.rings;
    for (let i = 0; i < rings.length; i++) {
      if (!rings[i].isEmpty()) return false;
    }
    return true;
  }

  /** On a worker thread, after park() returned true. */
  wait(timeoutMs: number): WaitResult {
    return this.doorbell.wait(this.value, timeoutMs);
  }

  /** Wakes the consumer if it sleeps, as a producer's publication does. */
  ring(): void {
    this.doorbell.ring();
  }

  /** On the main thread, after park() returned true; undefined if already rung. */
  waitAsync(timeoutMs: number): Promise<unknown> | undefined {
    return this.doorbell.waitAsync(this.value, timeoutMs);
  }
}
