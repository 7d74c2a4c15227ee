import { BACK_PRESSURED, SpscRing } from './spsc-ring';

/** A producer that must make what it has claimed visible before it sleeps for space. */
export interface SpaceWaiter {
  /** Called before each sleep: count the wait, publish (and flush whatever feeds the ring). */
  beforeWait(): void;
}

/**
 * The slow half of claim-or-wait, shared by every producer that waits rather than drops
 * (event, out and persist writers): called once `tryClaim` has returned BACK_PRESSURED, it lets
 * the waiter publish, parks on the ring's space bell (1 ms at most, then re-checks), and claims
 * again until a claim succeeds. The fast half stays at the call site, one `tryClaim` and one
 * compare, so the hot path pays nothing for the sharing. Worker threads only: it blocks.
 *
 *   let at = ring.tryClaim(length, type);
 *   if (at === BACK_PRESSURED) at = claimAfterWaiting(ring, length, type, this);
 */
export function claimAfterWaiting(ring: SpscRing, length: number, type: number, waiter: SpaceWaiter): number {
  let offset: number;
  do {
    waiter.beforeWait();
    if (ring.space.park()) ring.space.wait(1);
    offset = ring.tryClaim(length, type);
  } while (offset === BACK_PRESSURED);
  return offset;
}
