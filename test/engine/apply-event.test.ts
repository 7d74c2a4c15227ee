import t from 'tap';
import { applyEvent } from '../../src/engine/apply-event';
import { ASK, BID, BookListener, OK, REJECT_BAD_EVENT, REJECT_BAD_SIDE, Side } from '../../src/model/book-types';
import { EV_ADD, EV_CANCEL, EV_CLEAR, EV_DELETE, EV_EXECUTE, EV_MODIFY, EV_REPLACE, EV_TRADE } from '../../src/model/events';
import { OrderBook } from '../../src/engine/order-book';

class Trades implements BookListener {
  trades: number[][] = [];
  onLevel(): void {}
  onOrder(): void {}
  onTrade(price: number, size: number, aggressor: Side, makerOrderId: number): void {
    this.trades.push([price, size, aggressor, makerOrderId]);
  }
}

t.test('each event kind reaches its book method', async (t) => {
  const trades = new Trades();
  const book = new OrderBook(1, 1, trades);
  t.equal(applyEvent(book, EV_ADD, BID, 1, 100, 10, 0), OK);
  t.equal(applyEvent(book, EV_ADD, ASK, 2, 101, 10, 0), OK);
  t.equal(book.orderSize(1), 10);

  t.equal(applyEvent(book, EV_MODIFY, 0, 1, 0, 8, 0), OK, 'modify: size is the new size');
  t.equal(book.orderSize(1), 8);
  t.equal(applyEvent(book, EV_CANCEL, 0, 1, 0, 3, 0), OK, 'cancel: size is the amount removed');
  t.equal(book.orderSize(1), 5);

  t.equal(applyEvent(book, EV_REPLACE, 0, 1, 99, 6, 7), OK);
  t.equal(book.hasOrder(1), false);
  t.equal(book.orderPrice(7), 99);
  t.equal(book.orderSize(7), 6);

  t.equal(applyEvent(book, EV_EXECUTE, 0, 2, 0, 4, 0), OK);
  t.equal(book.orderSize(2), 6);
  t.same(trades.trades.pop(), [101, 4, BID, 2]);

  t.equal(applyEvent(book, EV_TRADE, ASK, 0, 99, 2, 0), OK, 'trade: side is the aggressor');
  t.same(trades.trades.pop(), [99, 2, ASK, 0]);
  t.equal(applyEvent(book, EV_TRADE, 2, 0, 99, 2, 0), REJECT_BAD_SIDE);

  t.equal(applyEvent(book, EV_DELETE, 0, 7, 0, 0, 0), OK);
  t.equal(book.hasOrder(7), false);

  t.equal(applyEvent(book, EV_CLEAR, 0, 0, 0, 0, 0), OK);
  t.equal(book.orderCount, 0);
});

t.test('an unknown kind is a bad event and changes nothing', async (t) => {
  const book = new OrderBook(1, 1, null);
  applyEvent(book, EV_ADD, BID, 1, 100, 10, 0);
  for (const kind of [0, 9, -1, 1.5, NaN]) t.equal(applyEvent(book, kind, BID, 2, 100, 10, 0), REJECT_BAD_EVENT, `kind ${kind}`);
  t.equal(book.orderCount, 1);
});
