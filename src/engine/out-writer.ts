import { BACK_PRESSURED, SpscRing } from '../ring/spsc-ring';
import { claimAfterWaiting, SpaceWaiter } from '../ring/claim-or-wait';
import { OUT_HEADER_BYTES } from '../model/out-records';

/**
 * Writes messages into a worker's out-ring. Hot messages are encoded in place: `claim` reserves
 * the record and returns where the FlatBuffers bytes go, the caller's encoder writes them there,
 * and `commit` adds the record to the batch. Cold messages (snapshots) arrive already encoded and
 * are copied with `write`. Records are published once per input batch, so a burst costs one
 * Atomics.store and at most one wake-up.
 *
 * A full ring means the front thread is behind on everything, not one slow client (those are
 * handled per connection). Dropping here would put a gap in every subscriber's stream, so the
 * worker waits: publish what it has, then sleep on the ring's space bell until the front frees
 * space.
 */
export class OutWriter implements SpaceWaiter {
  /** Times the worker had to wait for space; exported in the worker's stats. */
  waits = 0;
  /** The ring's bytes: where `claim`'s offsets point. */
  readonly bytes: Uint8Array;

  constructor(private readonly ring: SpscRing) {
    this.bytes = ring.bytes;
  }

  /** Reserves a record of `length` message bytes after the sequence; returns their offset. */
  claim(type: number, sequence: number, length: number): number {
    const ring = this.ring;
    let offset = ring.tryClaim(OUT_HEADER_BYTES + length, type);
    if (offset === BACK_PRESSURED) offset = claimAfterWaiting(ring, OUT_HEADER_BYTES + length, type, this);
    ring.f64[offset >>> 3] = sequence;
    return offset + OUT_HEADER_BYTES;
  }

  beforeWait(): void {
    this.waits++;
    this.ring.publish();
  }

  commit(): void {
    this.ring.commitLazy();
  }

  /** Copies an already encoded message into the ring (cold path: snapshots). */
  write(type: number, sequence: number, bytes: Uint8Array): void {
    this.bytes.set(bytes, this.claim(type, sequence, bytes.length));
    this.ring.commitLazy();
  }

  publish(): void {
    this.ring.publish();
  }
}
