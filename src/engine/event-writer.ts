import { BACK_PRESSURED, Doorbell, SpscRing } from '../ring/spsc-ring';
import { EVENT_BYTES, EventSink, W_KIND, W_NEW_ORDER_ID, W_ORDER_ID, W_PRICE, W_SIDE, W_SIZE, W_SYMBOL, W_TIMESTAMP } from './events';

/**
 * The producer side of the book workers' event rings: routes each event to the ring of the
 * worker that owns its instrument. Events are committed lazily; `publish` makes a batch visible.
 * A full ring means the owner is behind: the source waits (nothing accepted is dropped).
 */
export class EventWriter implements EventSink {
  private readonly rings: SpscRing[];
  /** Times the source had to wait for ring space. */
  waits = 0;

  constructor(
    eventRings: readonly SharedArrayBuffer[],
    doorbells: readonly SharedArrayBuffer[],
    private readonly ownerOf: Int32Array,
  ) {
    this.rings = eventRings.map((sab, i) => new SpscRing(sab, new Doorbell(doorbells[i])));
  }

  event(kind: number, symbol: number, side: number, orderId: number, price: number, size: number, newOrderId: number, timestamp: number): void {
    const ring = this.rings[this.ownerOf[symbol]];
    let offset = ring.tryClaim(EVENT_BYTES, kind);
    while (offset === BACK_PRESSURED) {
      this.waits++;
      ring.publish();
      if (ring.space.park()) ring.space.wait(1);
      offset = ring.tryClaim(EVENT_BYTES, kind);
    }
    const f = ring.f64;
    const w = offset >>> 3;
    f[w + W_KIND] = kind;
    f[w + W_SYMBOL] = symbol;
    f[w + W_SIDE] = side;
    f[w + W_ORDER_ID] = orderId;
    f[w + W_PRICE] = price;
    f[w + W_SIZE] = size;
    f[w + W_NEW_ORDER_ID] = newOrderId;
    f[w + W_TIMESTAMP] = timestamp;
    ring.commitLazy();
  }

  publish(): void {
    for (let i = 0; i < this.rings.length; i++) this.rings[i].publish();
  }
}
