import { BACK_PRESSURED, SpscRing } from '../ring/spsc-ring';
import { OUT_HEADER_BYTES } from './out-records';

/**
 * Writes encoded messages into a worker's out-ring. Records are committed lazily and published
 * once per input batch, so a burst costs one Atomics.store and at most one wake-up.
 *
 * A full ring means the front thread is behind on everything, not one slow client (those are
 * handled per connection). Dropping here would put a gap in every subscriber's stream, so the
 * worker waits: publish what it has, then sleep on the ring's space bell until the front frees
 * space.
 */
export class OutWriter {
  /** Times the worker had to wait for space; exported in the worker's stats. */
  waits = 0;

  constructor(private readonly ring: SpscRing) {}

  write(type: number, sequence: number, bytes: Uint8Array): void {
    const ring = this.ring;
    let offset = ring.tryClaim(OUT_HEADER_BYTES + bytes.length, type);
    while (offset === BACK_PRESSURED) {
      this.waits++;
      ring.publish();
      if (ring.space.park()) ring.space.wait(1);
      offset = ring.tryClaim(OUT_HEADER_BYTES + bytes.length, type);
    }
    ring.f64[offset >>> 3] = sequence;
    ring.bytes.set(bytes, offset + OUT_HEADER_BYTES);
    ring.commitLazy();
  }

  publish(): void {
    this.ring.publish();
  }
}
