import type { RingGroup } from '../ring/ring-group';

/**
 * Idle event-loop turns the front spins through before it sleeps on the doorbell, where a core
 * is spare for it (beside the book workers and the source thread): each turn is a setImmediate
 * and an I/O poll, so a spinning front takes a core. Without a spare core it sleeps on the
 * first idle turn, and the workers' notify wakes it.
 */
const SPIN_TURNS = 16;
/** The first sleep; each sleep that ends with nothing to do doubles it, up to a bound below. */
const PARK_MIN_MS = 1;
/**
 * The bound while front work waits for something nobody rings the doorbell for (a control
 * request or ingest events behind a full ring: the consumer frees space without waking the
 * front), so the retry comes within this.
 */
const PARK_RETRY_MS = 20;
/**
 * The bound otherwise. Nothing relies on it: whoever gives the front work rings the doorbell (the
 * workers' out-rings, the ingest source's acks, the replication publisher) or runs on a timer of
 * its own only while it has something pending (conflation, heartbeats, the accept gate). It
 * caps what a lost wake-up would cost, and makes an idle front wake once a second, not 50 times.
 */
const PARK_MAX_MS = 1000;

/** What the front thread polls each event-loop turn; returns the records it handled. */
export type FrontWork = () => number;

/**
 * The front thread's loop: run `work` every event-loop turn while there is work, spin a few
 * turns when there is none (spare core only), then sleep on the doorbell the workers ring
 * (`Atomics.waitAsync`: the main thread never blocks), longer the longer the rings stay empty,
 * up to PARK_RETRY_MS while `waiting()` says some work waits for a retry, PARK_MAX_MS otherwise.
 * All the serving is in `work`, which gateway/ code provides; this only schedules it. Returns
 * the function that stops the loop.
 */
export function startFrontLoop(work: FrontWork, waiting: () => boolean, outRings: Pick<RingGroup, 'park' | 'waitAsync'>, spareCore: boolean): () => void {
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
    const timeout = waiting() ? Math.min(parkMs, PARK_RETRY_MS) : parkMs;
    const wake = outRings.park() ? outRings.waitAsync(timeout) : undefined;
    parkMs = Math.min(PARK_MAX_MS, timeout * 2);
    if (wake === undefined) setImmediate(poll);
    else void wake.then(poll);
  };
  setImmediate(poll);
  return () => {
    stopped = true;
  };
}
