import { BACK_PRESSURED, Doorbell, SpscRing } from '../ring/spsc-ring';
import type { JournalWriter } from '../journal/journal-writer';
import { EVENT_BYTES, EventSink, W_KIND, W_NEW_ORDER_ID, W_ORDER_ID, W_PRICE, W_SIDE, W_SIZE, W_SYMBOL, W_TIMESTAMP } from './events';

/**
 * The producer side of the book workers' event rings: routes each event to the ring of the
 * worker that owns its instrument. Events are committed lazily; `publish` makes a batch visible.
 * A full ring means the owner is behind: the source waits (nothing accepted is dropped).
 */
export class EventWriter implements EventSink {
  private readonly rings: SpscRing[];
  /** Write-ahead: every event is appended here before the books can see it (see publish). */
  private journal: JournalWriter | null = null;
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
      this.publish();
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
    if (this.journal !== null) this.journal.append(f, w);
    ring.commitLazy();
  }

  /** From now on, journal every event (events written before, e.g. a replayed journal, are not). */
  journalTo(journal: JournalWriter): void {
    this.journal = journal;
  }

  /**
   * Makes the batch visible to the books. The journal's records are written first (one write
   * syscall), so every event a book applies is in the page cache, and survives the process being
   * killed; an fdatasync follows at most every few ms (group commit).
   */
  publish(): void {
    if (this.journal !== null) {
      this.journal.flush();
      this.journal.maybeSync(Date.now());
    }
    for (let i = 0; i < this.rings.length; i++) this.rings[i].publish();
  }
}
