import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
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
 * True when the machine has a core beyond `busyThreads` threads that poll, i.e. when one of them
 * spinning takes a core nobody else wanted. On a machine with fewer cores than busy threads a
 * spinning consumer takes the CPU from the very producer it waits for (and from the clients on
 * the same cores): there it spins only while the producer is busy (see BackoffIdleStrategy).
 */
export function hasSpareCore(busyThreads: number): boolean {
  return availableParallelism() > busyThreads;
}

/**
 * An idle period shorter than this is one a spin would have caught for less than a park and
 * wake-up cost (~10–50 µs of CPU on each side, more on a loaded machine).
 */
const SPIN_PAYS_MS = 0.5;

/**
 * Agrona's BackoffIdleStrategy cut down to what a JavaScript thread can do: after a duty cycle
 * that did work, start over; after one that did none, return at once up to `spins` times (the
 * caller polls again: cheapest wake-up, but it burns a core), then park and sleep until a
 * producer rings or a timeout passes.
 *
 * Spinning depends on the cores: with `spareCore` (see hasSpareCore) it always spins. Without
 * one, a spin takes the CPU from the very producer it waits for, so it spins only while the
 * queues' idle periods are short, i.e. while the last one ended within SPIN_PAYS_MS (a busy
 * producer: a spin catches its next batch for less than a wake-up); after a longer one it parks
 * at once (a trickle of events: each one would cost a whole fruitless spin).
 *
 * JavaScript has no pause instruction nor a thread yield, and no sleep is polled: a park lasts
 * until a producer rings, or `parkMs` at most. The same length after work as after a long quiet:
 * a short first park (a yield phase) would end in a fruitless wake-up after nearly every
 * publication of a trickle, since the producer's ring wakes the sleeper anyway. `parkMs` bounds
 * how long the loop goes without returning, e.g. to look at control messages or a clock; it is
 * not needed for correctness.
 *
 * Worker threads only: Atomics.wait blocks the calling thread, which on the main thread would
 * stop the event loop. The main thread parks with park() and then awaits waitAsync() (see
 * Doorbell, SpscRing, RingGroup, app/front-loop.ts) instead.
 */
export class BackoffIdleStrategy {
  private spun = 0;
  /** Spins this idle period may make: `spins`, or 0 without a spare core after a long idle period. */
  private allowance: number;
  /** When the current idle period began (performance.now()); -1 while working. */
  private idleSince = -1;

  constructor(
    private readonly spins: number,
    private readonly parkMs: number,
    private readonly spareCore = true,
  ) {
    if (!Number.isInteger(spins) || spins < 0 || !(parkMs > 0)) {
      throw new RingError(ERR_IDLE_STRATEGY, 'spins must be an integer >= 0 and parkMs > 0');
    }
    this.allowance = spins;
  }

  idle(workCount: number, target: Parkable): void {
    if (workCount > 0) {
      if (this.idleSince >= 0) {
        this.allowance = performance.now() - this.idleSince < SPIN_PAYS_MS ? this.spins : 0;
        this.idleSince = -1;
      }
      this.spun = 0;
      return;
    }
    if (!this.spareCore && this.idleSince < 0) this.idleSince = performance.now();
    if (this.spun < this.allowance) {
      this.spun++;
      return;
    }
    if (target.park()) target.wait(this.parkMs);
  }
}
