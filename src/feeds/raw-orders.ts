import { applyEvent } from '../engine/apply-event';
import { OrderBook, OrderVisitor } from '../engine/order-book';
import { loadBook } from '../engine/symbol-checkpoint';
import { ASK, BID } from '../model/book-types';
import { EV_ADD, EV_DELETE, EV_MODIFY, EV_REPLACE, EV_TRADE, EventSink } from '../model/events';
import type { Instrument } from '../model/instruments';

/**
 * Maps a venue's order-by-order (L3) book onto bookcast's order events, the venue's order ids
 * kept as bookcast's (Bitfinex's ids are positive integers well below 2^53): a new order is an
 * `add`, a smaller amount a `modify`, a larger amount or a new price a `replace` of the order by
 * itself, a removed order a `delete`, an order that changed side a `delete` then an `add`.
 * `published` mirrors the book workers' copy (every emitted event applied with the engine's own
 * applyEvent, restored from the journal and checkpoint at start), so a venue resync diffs the
 * fresh snapshot against it (syncTo) and clients see only the difference, removals first.
 */
export class RawOrders implements OrderVisitor {
  readonly published: OrderBook;
  events = 0;
  private readonly gone: number[] = [];
  private venue: OrderBook | null = null;

  constructor(
    readonly instrument: Instrument,
    private readonly sink: EventSink,
  ) {
    this.published = new OrderBook(instrument.tickUnits, instrument.lotUnits, null);
  }

  restore(kind: number, side: number, orderId: number, price: number, size: number, newOrderId: number): void {
    applyEvent(this.published, kind, side, orderId, price, size, newOrderId);
  }

  restoreCheckpoint(words: Float64Array): void {
    loadBook(words, this.published);
  }

  /** Venue ids are bookcast ids: nothing to rebuild after restoring. */
  resume(): void {}

  /** The venue's order `orderId` now rests on `side` at `price` with `size` (0: gone). */
  set(side: number, orderId: number, price: number, size: number, timestamp: number): void {
    const book = this.published;
    if (!book.hasOrder(orderId)) {
      if (size > 0) this.emit(EV_ADD, side, orderId, price, size, 0, timestamp);
      return;
    }
    if (size === 0 || book.orderSide(orderId) !== side) {
      this.emit(EV_DELETE, book.orderSide(orderId), orderId, 0, 0, 0, timestamp);
      if (size > 0) this.emit(EV_ADD, side, orderId, price, size, 0, timestamp);
      return;
    }
    const resting = book.orderSize(orderId);
    if (price !== book.orderPrice(orderId) || size > resting) this.emit(EV_REPLACE, side, orderId, price, size, orderId, timestamp);
    else if (size < resting) this.emit(EV_MODIFY, side, orderId, price, size, 0, timestamp);
  }

  trade(aggressor: number, price: number, size: number, timestamp: number): void {
    this.emit(EV_TRADE, aggressor, 0, price, size, 0, timestamp);
  }

  /**
   * Makes the published book equal the venue's (`venue`, an OrderBook of venue ids): orders the
   * venue no longer has (or has on the other side) go first, so no intermediate state crosses
   * more than the venue's own book; then each venue order is set.
   */
  syncTo(venue: OrderBook, timestamp: number): void {
    this.venue = venue;
    this.gone.length = 0;
    this.published.forEachOrder(BID, this);
    this.published.forEachOrder(ASK, this);
    for (const id of this.gone) this.emit(EV_DELETE, this.published.orderSide(id), id, 0, 0, 0, timestamp);
    this.venue = null;
    for (const side of [BID, ASK]) venue.forEachOrder(side, { visit: (id, price, size) => this.set(side, id, price, size, timestamp) });
  }

  visit(orderId: number, price: number): void {
    const venue = this.venue!;
    if (!venue.hasOrder(orderId) || venue.orderSide(orderId) !== this.published.orderSide(orderId) || venue.orderPrice(orderId) !== price) {
      // A moved order is removed too: replacing it in place could cross the book on the way.
      this.gone.push(orderId);
    }
  }

  private emit(kind: number, side: number, orderId: number, price: number, size: number, newOrderId: number, timestamp: number): void {
    this.sink.event(kind, this.instrument.index, side, orderId, price, size, newOrderId, timestamp);
    applyEvent(this.published, kind, side, orderId, price, size, newOrderId);
    this.events++;
  }
}
