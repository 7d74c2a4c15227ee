import { applyEvent } from '../engine/apply-event';
import { OrderBook, OrderVisitor } from '../engine/order-book';
import { loadBook } from '../engine/symbol-checkpoint';
import { ASK, BID } from '../model/book-types';
import { EV_ADD, EV_DELETE, EV_MODIFY, EV_REPLACE, EV_TRADE, EventSink } from '../model/events';
import type { Instrument } from '../model/instruments';
import type { LevelBook } from './level-book';

/**
 * Maps a venue's aggregated (L2) book onto bookcast's order events: one synthetic order per price
 * level. A new level is an `add` of a fresh order id, a smaller size a `modify` (size down), a
 * larger size a `replace` of the order by itself (same id, same price: the level is one order, so
 * the lost time priority means nothing), an emptied level a `delete`. Trades are `trade` events:
 * on an L2 venue the book's own updates remove the traded liquidity, so a trade must not
 * execute a resting order as well.
 *
 * `published` is a copy of the book the book workers hold for the instrument, kept by applying
 * every emitted event with the engine's own applyEvent (and restored from the journal and the
 * checkpoint the workers start from). A venue resync therefore never shows clients an empty or
 * half-built book: the venue's fresh snapshot is diffed against `published` (syncTo) and only the
 * difference is emitted, as ordinary sequenced events, removals first so that no intermediate
 * state is crossed.
 */
export class LevelOrders implements OrderVisitor {
  readonly published: OrderBook;
  /** Per side, price units → the synthetic order resting there. */
  private readonly ids: [Map<number, number>, Map<number, number>] = [new Map(), new Map()];
  private nextOrderId = 1;
  /** Events emitted (FQ_EVENTS). */
  events = 0;
  private visitSide = BID;
  /** Orders a restored book holds beyond one per level (side, id pairs): deleted at the first sync. */
  private readonly extras: number[] = [];

  constructor(
    readonly instrument: Instrument,
    private readonly sink: EventSink,
  ) {
    this.published = new OrderBook(instrument.tickUnits, instrument.lotUnits, null);
  }

  /** A journal record of this instrument, at start-up: applied to `published`, not emitted. */
  restore(kind: number, side: number, orderId: number, price: number, size: number, newOrderId: number): void {
    applyEvent(this.published, kind, side, orderId, price, size, newOrderId);
    this.nextOrderId = Math.max(this.nextOrderId, orderId + 1, newOrderId + 1);
  }

  /** The instrument's checkpoint (engine/symbol-checkpoint.ts), before the journal after it. */
  restoreCheckpoint(words: Float64Array, maxOrderId: number): void {
    loadBook(words, this.published);
    this.nextOrderId = Math.max(this.nextOrderId, maxOrderId + 1);
  }

  /** After restoring: which order rests at which price. A level holding several orders keeps its first. */
  resume(): void {
    for (const side of [BID, ASK]) {
      this.ids[side].clear();
      this.visitSide = side;
      this.published.forEachOrder(side, this);
    }
  }

  visit(orderId: number, price: number): void {
    const ids = this.ids[this.visitSide];
    if (!ids.has(price)) ids.set(price, orderId);
    else this.extras.push(this.visitSide, orderId);
  }

  /** The venue's level at `price` now has `size` (0: gone). */
  set(side: number, price: number, size: number, timestamp: number): void {
    const ids = this.ids[side];
    const id = ids.get(price);
    if (id === undefined) {
      if (size === 0) return;
      const fresh = this.nextOrderId++;
      ids.set(price, fresh);
      this.emit(EV_ADD, side, fresh, price, size, 0, timestamp);
      return;
    }
    if (size === 0) {
      ids.delete(price);
      this.emit(EV_DELETE, side, id, price, 0, 0, timestamp);
      return;
    }
    const resting = this.published.orderSize(id);
    if (size < resting) this.emit(EV_MODIFY, side, id, price, size, 0, timestamp);
    else if (size > resting) this.emit(EV_REPLACE, side, id, price, size, id, timestamp);
  }

  /** A trade the venue printed; `aggressor` is the side that took liquidity. */
  trade(aggressor: number, price: number, size: number, timestamp: number): void {
    this.emit(EV_TRADE, aggressor, 0, price, size, 0, timestamp);
  }

  /**
   * Makes the published book equal the best `depth` levels a side of `venue`: first every level
   * not among them is removed (the rest is a subset of the venue's uncrossed book, so never
   * crossed), then each of them is set. Levels already equal cost nothing.
   */
  syncTo(venue: LevelBook, timestamp: number, depth = Infinity): void {
    for (let i = 0; i < this.extras.length; i += 2) this.emit(EV_DELETE, this.extras[i], this.extras[i + 1], 0, 0, 0, timestamp);
    this.extras.length = 0;
    for (const side of [BID, ASK]) {
      const gone: number[] = [];
      for (const price of this.ids[side].keys()) {
        const at = venue.position(side, price);
        if (at < 0 || at >= depth) gone.push(price);
      }
      for (const price of gone) this.set(side, price, 0, timestamp);
    }
    for (const side of [BID, ASK]) {
      const count = Math.min(venue.count(side), depth);
      for (let i = 0; i < count; i++) this.set(side, venue.priceAt(side, i), venue.sizeAt(side, i), timestamp);
    }
  }

  private emit(kind: number, side: number, orderId: number, price: number, size: number, newOrderId: number, timestamp: number): void {
    const index = this.instrument.index;
    this.sink.event(kind, index, side, orderId, price, size, newOrderId, timestamp);
    applyEvent(this.published, kind, side, orderId, price, size, newOrderId);
    this.events++;
  }
}
