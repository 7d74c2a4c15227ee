import { Doorbell } from '../ring/doorbell';
import { BACK_PRESSURED, SpscRing } from '../ring/spsc-ring';
import { claimAfterWaiting, SpaceWaiter } from '../ring/claim-or-wait';
import type { JournalWriter } from '../journal/journal-writer';
import { EVENT_BYTES, EventSink, W_KIND, W_NEW_ORDER_ID, W_ORDER_ID, W_PRICE, W_SIDE, W_SIZE, W_SYMBOL, W_TIMESTAMP } from '../model/events';
import { CHECKPOINT_MARKER_BYTES, RECORD_CHECKPOINT } from '../engine/symbol-checkpoint';

/** When the books are checkpointed: by journaled events, by time with new events, or both (0: off). */
export interface CheckpointCadence {
  events: number;
  intervalMs: number;
}

/**
 * The producer side of the book workers' event rings: routes each event to the ring of the
 * worker that owns its instrument. Events are committed lazily; `publish` makes a batch visible.
 * A full ring means the owner is behind: the source waits (nothing accepted is dropped).
 *
 * While journaling, it also cuts checkpoints: being the single producer of every event ring and
 * the journal's writer, it can put a marker into every ring right after journal record J, and
 * each book worker, reaching the marker, holds exactly the state of records 1..J.
 */
export class EventWriter implements EventSink, SpaceWaiter {
  private readonly rings: SpscRing[];
  /** Write-ahead: every event is appended here before the books can see it (see publish). */
  private journal: JournalWriter | null = null;
  /** Times the source had to wait for ring space. */
  waits = 0;
  /**
   * Runs just before written events become visible to the books (at publish, and when a full ring
   * makes the writer publish early): a source copies its count of emitted events to its stats
   * here, so that count never trails what the books have applied.
   */
  beforeVisible: (() => void) | null = null;
  private cadence: CheckpointCadence = { events: 0, intervalMs: 0 };
  /** Journal record of the last checkpoint marker (or of the checkpoint the books started from). */
  private checkpointSequence = 0;
  private checkpointAt = 0;

  constructor(
    eventRings: readonly SharedArrayBuffer[],
    doorbells: readonly SharedArrayBuffer[],
    private readonly ownerOf: Int32Array,
  ) {
    this.rings = eventRings.map((sab, i) => new SpscRing(sab, new Doorbell(doorbells[i])));
  }

  event(kind: number, symbol: number, side: number, orderId: number, price: number, size: number, newOrderId: number, timestamp: number): void {
    const ring = this.rings[this.ownerOf[symbol]];
    const offset = this.claim(ring, EVENT_BYTES, kind);
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

  /**
   * From now on, journal every event (events written before, e.g. a replayed journal, are not),
   * and checkpoint at `cadence`, counting from record `checkpointSequence` (the one the books
   * were restored from). A long replayed tail is checkpointed at the first publish.
   */
  journalTo(journal: JournalWriter, cadence: CheckpointCadence, checkpointSequence: number): void {
    this.journal = journal;
    this.cadence = cadence;
    this.checkpointSequence = checkpointSequence;
    this.checkpointAt = Date.now();
  }

  /**
   * Makes the batch visible to the books. The journal's records are written first (one write
   * syscall), so every event a book applies is in the page cache, and survives the process being
   * killed; an fdatasync follows at most every few ms (group commit). The group commit starts
   * after the books are rung: starting it wakes a libuv pool thread, and on a machine with few
   * cores a book worker woken second waited for that thread's core (at 200 arrivals/s, when
   * nearly every batch starts one, the median event reached its book worker ~50 µs later;
   * bench/README, goal 2).
   */
  publish(): void {
    const journal = this.journal;
    if (journal === null) {
      this.publishRings();
      return;
    }
    journal.flush();
    const now = Date.now();
    if (this.checkpointDue(journal, now)) this.markCheckpoint(journal, now);
    this.publishRings();
    journal.maybeSync(now);
  }

  private publishRings(): void {
    this.beforeVisible?.();
    for (let i = 0; i < this.rings.length; i++) this.rings[i].publish();
  }

  private checkpointDue(journal: JournalWriter, now: number): boolean {
    const last = journal.nextSequence - 1;
    if (last === this.checkpointSequence) return false;
    const cadence = this.cadence;
    return (cadence.events > 0 && last - this.checkpointSequence >= cadence.events) || (cadence.intervalMs > 0 && now - this.checkpointAt >= cadence.intervalMs);
  }

  /**
   * Puts a marker for the last journaled record into every ring. The journal is made durable
   * through it first (one fdatasync per checkpoint), so no checkpoint ever covers a record that
   * a power loss could take from the journal.
   */
  private markCheckpoint(journal: JournalWriter, now: number): void {
    const sequence = journal.sync();
    this.checkpointSequence = sequence;
    this.checkpointAt = now;
    for (const ring of this.rings) {
      const offset = this.claim(ring, CHECKPOINT_MARKER_BYTES, RECORD_CHECKPOINT);
      ring.f64[offset >>> 3] = sequence;
      ring.commitLazy();
    }
  }

  /**
   * Room for a record in `ring`. A full ring means its owner is behind: everything claimed so far
   * is made visible first (journal records written, then the rings), or the owner could never
   * drain it, and the source waits for space.
   */
  private claim(ring: SpscRing, bytes: number, type: number): number {
    const offset = ring.tryClaim(bytes, type);
    return offset === BACK_PRESSURED ? claimAfterWaiting(ring, bytes, type, this) : offset;
  }

  beforeWait(): void {
    this.waits++;
    this.journal?.flush();
    this.publishRings();
  }
}
