import type { RingGroup } from '../ring/ring-group';

/**
 * Idle event-loop turns the front spins through before it sleeps on the doorbell, where a core
 * is spare for it (beside the book workers and the source thread): each turn is a setImmediate
 * and an I/O poll, so a spinning front takes a core. Without a spare core it sleeps on the
 * first idle turn, and the workers' notify wakes it.
 */
const SPIN_TURNS = 16;
/**
 * While front work waits for something nobody rings the doorbell for (a control request or
 * ingest events behind a full ring: the consumer frees space without waking the front), the
 * sleeps start here and double, up to PARK_RETRY_MS, so the retry comes soon.
 */
const PARK_MIN_MS = 1;
const PARK_RETRY_MS = 20;
/**
 * Otherwise the front sleeps until rung, with no timeout of its own: whoever gives the front
 * work rings the doorbell (the workers' out-rings, the ingest source's acks, the replication
 * publisher) or runs on a timer of its own only while it has something pending (conflation,
 * heartbeats, the accept gate). A timeout on Atomics.waitAsync is a timer in Node's platform that
 * fires when it is due even after a notify has settled the wait: a 1 ms timeout cost a second
 * main-thread wake-up for nearly every wake by a worker. One timer instead rings the doorbell
 * every SAFETY_RING_MS, which caps what a lost wake-up would cost.
 */
const SAFETY_RING_MS = 1000;

/** What the front thread polls each event-loop turn; returns the records it handled. */
export type FrontWork = () => number;

/**
 * The front thread's loop: run `work` every event-loop turn while there is work, spin a few
 * turns when there is none (spare core only), then sleep on the doorbell the workers ring
 * (`Atomics.waitAsync`: the main thread never blocks) until rung, or, while `waiting()` says
 * some work waits for a retry, for PARK_MIN_MS doubling up to PARK_RETRY_MS.
 * All the serving is in `work`, which gateway/ code provides; this only schedules it. Returns
 * the function that stops the loop.
 */
export function startFrontLoop(work: FrontWork, waiting: () => boolean, outRings: Pick<RingGroup, 'park' | 'waitAsync' | 'ring'>, spareCore: boolean): () => void {
  const spinTurns = spareCore ? SPIN_TURNS : 0;
  let stopped = false;
  let idleTurns = 0;
  let retryMs = PARK_MIN_MS;
  const poll = (): void => {
    if (stopped) return;
    const done = work();
    if (done > 0) {
      idleTurns = 0;
      retryMs = PARK_MIN_MS;
      setImmediate(poll);
      return;
    }
    if (++idleTurns <= spinTurns) {
      setImmediate(poll);
      return;
    }
    idleTurns = 0;
    let timeout = Infinity;
    if (waiting()) {
      timeout = retryMs;
      retryMs = Math.min(PARK_RETRY_MS, retryMs * 2);
    } else {
      retryMs = PARK_MIN_MS;
    }
    const wake = outRings.park() ? outRings.waitAsync(timeout) : undefined;
    if (wake === undefined) setImmediate(poll);
    else void wake.then(poll);
  };
  setImmediate(poll);
  const safety = setInterval(() => outRings.ring(), SAFETY_RING_MS);
  return () => {
    stopped = true;
    clearInterval(safety);
  };
}
