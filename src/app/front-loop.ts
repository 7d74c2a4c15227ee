import type { RingGroup } from '../ring/ring-group';

/** Idle event-loop turns the front spins through before it sleeps on the doorbell. */
const SPIN_TURNS = 16;
/** Longest sleep on the doorbell; a missed wake-up costs at most this. */
const PARK_MS = 20;

/** What the front thread polls each event-loop turn; returns the records it handled. */
export type FrontWork = () => number;

/**
 * The front thread's loop: run `work` every event-loop turn while there is work, spin a few
 * turns when there is none, then sleep on the doorbell the workers ring (`Atomics.waitAsync`:
 * the main thread never blocks). All the serving is in `work`, which gateway/ code provides;
 * this only schedules it. Returns the function that stops the loop.
 */
export function startFrontLoop(work: FrontWork, outRings: RingGroup): () => void {
  let stopped = false;
  let idleTurns = 0;
  const poll = (): void => {
    if (stopped) return;
    const done = work();
    if (done > 0 || ++idleTurns < SPIN_TURNS) {
      if (done > 0) idleTurns = 0;
      setImmediate(poll);
      return;
    }
    idleTurns = 0;
    const wake = outRings.park() ? outRings.waitAsync(PARK_MS) : undefined;
    if (wake === undefined) setImmediate(poll);
    else void wake.then(poll);
  };
  setImmediate(poll);
  return () => {
    stopped = true;
  };
}
