import { applyEvent } from '../../src/engine/apply-event';
import { ASK, BID, OK } from '../../src/model/book-types';
import type { EventSink } from '../../src/model/events';
import type { Instrument } from '../../src/model/instruments';
import { OrderBook } from '../../src/engine/order-book';
import { formatUnits } from '../../src/util/decimal';

/**
 * Books kept independently of the server: every event applied to a plain OrderBook, counting
 * the per-symbol sequence the engine would give (one per accepted event). Renders a book the
 * way the REST orderbook answers it, to compare the two.
 */
export class ReferenceBooks implements EventSink {
  readonly books: OrderBook[];
  readonly sequences: number[];

  constructor(readonly instruments: readonly Instrument[]) {
    this.books = instruments.map((i) => new OrderBook(i.tickUnits, i.lotUnits, null));
    this.sequences = instruments.map(() => 0);
  }

  event(kind: number, symbol: number, side: number, orderId: number, price: number, size: number, newOrderId: number): void {
    if (applyEvent(this.books[symbol], kind, side, orderId, price, size, newOrderId) === OK) this.sequences[symbol]++;
  }

  /** {sequence, bids, asks} with decimal strings, best first, as GET …/orderbook?depth= shows it. */
  render(symbol: number, depth: number): { sequence: number; bids: string[][]; asks: string[][] } {
    const ins = this.instruments[symbol];
    const book = this.books[symbol];
    const side = (s: number) =>
      Array.from({ length: Math.min(depth, book.levelCount(s)) }, (_, p) => [formatUnits(book.levelPrice(s, p), ins.priceDecimals), formatUnits(book.levelSize(s, p), ins.sizeDecimals)]);
    return { sequence: this.sequences[symbol], bids: side(BID), asks: side(ASK) };
  }
}
