import type { WaitResult } from './doorbell';
import { ERR_IDLE_STRATEGY, RingError } from './ring-error';

/**
 * Something a thread can sleep on without losing a wake-up: park() announces the sleep and
 * re-checks the condition (true = still nothing to do, so sleeping is safe); wait() then
 * sleeps until woken or timed out. SpscRing is one (waiting for records), ring.space is one
 * (waiting for free space), RingGroup is one (waiting for records on any of several rings).
 */
export interface Parkable {
  park(): boolean;
  wait(timeoutMs: number): WaitResult;
}

/**
 * Agrona's BackoffIdleStrategy cut down to what a JavaScript thread can do: after a duty cycle
 * that did work, start over; after one that did none, return at once `spins` times (the caller
 * polls again: cheapest wake-up, burns a core), then park and sleep until a producer rings or
 * `maxParkMs` passes. JavaScript has no pause instruction nor a thread yield, so there is no
 * yield phase; and no exponential sleep either, because sleeping is woken by the producer
 * instead of polled.
 *
 * `maxParkMs` bounds how long the loop goes without returning, e.g. to look at control
 * messages; it is not needed for correctness.
 *
 * Worker threads only: Atomics.wait blocks the calling thread, which on the main thread would
 * stop the event loop. The main thread parks with park() and then awaits waitAsync() (see
 * Doorbell, SpscRing, RingGroup) instead.
 */
export class BackoffIdleStrategy {
  private spun = 0;

  constructor(
    private readonly spins: number,
    private readonly maxParkMs: number,
  ) {
    if (!Number.isInteger(spins) || spins < 0 || !(maxParkMs > 0)) {
      throw new RingError(ERR_IDLE_STRATEGY, 'spins must be an integer >= 0 and maxParkMs > 0');
    }
  }

  idle(workCount: number, target: Parkable): void {
    if (workCount > 0) {
      this.spun = 0;
      return;
    }
    if (this.spun < this.spins) {
      this.spun++;
      return;
    }
    if (target.park()) target.wait(this.maxParkMs);
  }
}
