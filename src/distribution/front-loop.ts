import type { RingGroup } from '../ring/ring-group';
import type { Distributor } from './distributor';
import type { SessionHub } from './session-hub';

/** Idle event-loop turns the front spins through before it sleeps on the doorbell. */
const SPIN_TURNS = 16;
/** Longest sleep on the doorbell: what a missed wake-up (ingest acks) costs at most. */
const PARK_MS = 20;

/**
 * The front thread's loop: drain the out-rings every event-loop turn while there is work (and
 * look at a slice of the sessions' buffers after each turn), spin a few turns when there is
 * none, then sleep on the doorbell the workers ring. The main thread must never block, so it
 * sleeps with Atomics.waitAsync, after RingGroup.park() has re-checked every ring.
 */
export class FrontLoop {
  private stopped = false;
  private idleTurns = 0;

  constructor(
    private readonly distributor: Distributor,
    private readonly hub: SessionHub,
    private readonly outRings: RingGroup,
    /** Other work of the same turn (network ingest); returns how much it did. */
    private readonly also: () => number,
  ) {}

  start(): void {
    setImmediate(this.turn);
  }

  stop(): void {
    this.stopped = true;
  }

  private readonly turn = (): void => {
    if (this.stopped) return;
    const work = this.distributor.poll() + this.also();
    this.hub.watch();
    if (work > 0 || ++this.idleTurns < SPIN_TURNS) {
      if (work > 0) this.idleTurns = 0;
      setImmediate(this.turn);
      return;
    }
    this.idleTurns = 0;
    const wake = this.outRings.park() ? this.outRings.waitAsync(PARK_MS) : undefined;
    if (wake === undefined) setImmediate(this.turn);
    else void wake.then(this.turn);
  };
}
