import type { RingGroup } from '../ring/ring-group';

/**
 * Idle event-loop turns the front spins through before it sleeps on the doorbell, where a core
 * is spare for it (beside the book workers and the source thread): each turn is a setImmediate
 * and an I/O poll, so a spinning front takes a core. Without a spare core it sleeps on the
 * first idle turn, and the workers' notify wakes it.
 */
const SPIN_TURNS = 16;
/** The first sleep; each sleep that ends with nothing to do doubles it, up to PARK_MAX_MS. */
const PARK_MIN_MS = 1;
/** Longest sleep on the doorbell; a missed wake-up costs at most this. */
const PARK_MAX_MS = 20;

/** What the front thread polls each event-loop turn; returns the records it handled. */
export type FrontWork = () => number;

/**
 * The front thread's loop: run `work` every event-loop turn while there is work, spin a few
 * turns when there is none (spare core only), then sleep on the doorbell the workers ring
 * (`Atomics.waitAsync`: the main thread never blocks), longer the longer the rings stay empty.
 * All the serving is in `work`, which gateway/ code provides; this only schedules it. Returns
 * the function that stops the loop.
 */
export function startFrontLoop(work: FrontWork, outRings: RingGroup, spareCore: boolean): () => void {
  const spinTurns = spareCore ? SPIN_TURNS : 0;
  let stopped = false;
  let idleTurns = 0;
  let parkMs = PARK_MIN_MS;
  const poll = (): void => {
    if (stopped) return;
    const done = work();
    if (done > 0) {
      idleTurns = 0;
      parkMs = PARK_MIN_MS;
      setImmediate(poll);
      return;
    }
    if (++idleTurns <= spinTurns) {
      setImmediate(poll);
      return;
    }
    idleTurns = 0;
    const wake = outRings.park() ? outRings.waitAsync(parkMs) : undefined;
    parkMs = Math.min(PARK_MAX_MS, parkMs * 2);
    if (wake === undefined) setImmediate(poll);
    else void wake.then(poll);
  };
  setImmediate(poll);
  return () => {
    stopped = true;
  };
}
