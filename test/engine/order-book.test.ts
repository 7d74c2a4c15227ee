import t from 'tap';
import {
  ASK,
  BID,
  BookListener,
  LEVEL_INSERT,
  LEVEL_REMOVE,
  LEVEL_UPDATE,
  OK,
  ORDER_ADD,
  ORDER_MODIFY,
  ORDER_REMOVE,
  REJECT_BAD_EVENT,
  REJECT_BAD_PRICE,
  REJECT_BAD_SIDE,
  REJECT_BAD_SIZE,
  REJECT_DUPLICATE_ORDER,
  REJECT_LEVEL_OVERFLOW,
  REJECT_OFF_LOT,
  REJECT_OFF_TICK,
  REJECT_UNKNOWN_ORDER,
  Side,
} from '../../src/model/book-types';
import { OrderBook } from '../../src/engine/order-book';

type Call = (string | number)[];

/** Records every listener call, in order, with what the book held at that moment where it matters. */
class Recorder implements BookListener {
  calls: Call[] = [];
  constructor(private readonly book: () => OrderBook) {}
  onLevel(side: Side, price: number, size: number, position: number, change: number): void {
    this.calls.push(['level', side, price, size, position, change]);
  }
  onOrder(action: number, side: Side, orderId: number, price: number, size: number): void {
    this.calls.push(['order', action, side, orderId, price, size]);
  }
  onTrade(price: number, size: number, aggressor: Side, makerOrderId: number): void {
    // What the maker order held when the trade was announced.
    this.calls.push(['trade', price, size, aggressor, makerOrderId, this.book().orderSize(makerOrderId)]);
  }
  take(): Call[] {
    const calls = this.calls;
    this.calls = [];
    return calls;
  }
}

function setup(tick = 1, lot = 1): { book: OrderBook; rec: Recorder } {
  let book: OrderBook | null = null;
  const rec = new Recorder(() => book!);
  book = new OrderBook(tick, lot, rec);
  return { book, rec };
}

/** Everything observable: levels (price, size, count, queue) per side, and the counts. */
function snapshot(book: OrderBook): unknown {
  const sides = [BID, ASK].map((side) => {
    const levels = [];
    for (let i = 0; i < book.levelCount(side); i++) {
      const queue = [];
      for (let id = book.firstOrderAt(side, i); id !== 0; id = book.nextOrder(id)) {
        queue.push([id, book.orderSide(id), book.orderPrice(id), book.orderSize(id)]);
      }
      levels.push([book.levelPrice(side, i), book.levelSize(side, i), book.levelOrderCount(side, i), queue]);
    }
    return levels;
  });
  return { sides, orders: book.orderCount, checksum: book.checksum() };
}

function l2(book: OrderBook, side: number): number[][] {
  const levels = [];
  for (let i = 0; i < book.levelCount(side); i++) levels.push([book.levelPrice(side, i), book.levelSize(side, i)]);
  return levels;
}

function queue(book: OrderBook, side: number): number[] {
  const ids: number[] = [];
  book.forEachOrder(side, {
    visit(orderId: number) {
      ids.push(orderId);
    },
  });
  return ids;
}

t.test('constructor rejects increments that are not positive safe integers', async (t) => {
  for (const bad of [0, -1, 1.5, NaN, 2 ** 53]) {
    t.throws(() => new OrderBook(bad, 1, null), { code: 'ERR_BOOK_INCREMENT' }, `tick ${bad}`);
    t.throws(() => new OrderBook(1, bad, null), { code: 'ERR_BOOK_INCREMENT' }, `lot ${bad}`);
  }
});

t.test('an empty book answers queries with zeros', async (t) => {
  const book = new OrderBook(1, 1, null);
  for (const side of [BID, ASK]) {
    t.equal(book.levelCount(side), 0);
    t.equal(book.bestPrice(side), 0);
    t.equal(book.bestSize(side), 0);
    t.equal(book.levelPrice(side, 0), 0);
    t.equal(book.levelOrderCount(side, 0), 0);
    t.equal(book.firstOrderAt(side, 0), 0);
    t.same(queue(book, side), []);
  }
  const quote = new Float64Array([9, 9, 9, 9]);
  book.bestLevels(quote);
  t.same([...quote], [0, 0, 0, 0], 'bestLevels of an empty book');
  t.equal(book.orderCount, 0);
  t.equal(book.hasOrder(1), false);
  t.ok(Number.isNaN(book.orderPrice(1)));
  t.ok(Number.isNaN(book.orderSize(1)));
  t.equal(book.orderSide(1), -1);
  t.equal(book.nextOrder(1), 0);
  t.equal(book.levelCount(2), 0, 'a bad side is an empty side');
  t.equal(book.levelPrice(5, 0), 0);
});

t.test('add builds levels in price order and reports each insert where it lands', async (t) => {
  const { book, rec } = setup(10, 1);
  t.equal(book.add(1, BID, 1000, 5), OK);
  t.same(rec.take(), [
    ['order', ORDER_ADD, BID, 1, 1000, 5],
    ['level', BID, 1000, 5, 0, LEVEL_INSERT],
  ]);
  t.equal(book.add(2, BID, 1020, 3), OK, 'better bid');
  t.same(rec.take(), [
    ['order', ORDER_ADD, BID, 2, 1020, 3],
    ['level', BID, 1020, 3, 0, LEVEL_INSERT],
  ]);
  t.equal(book.add(3, BID, 980, 4), OK, 'deepest bid');
  t.same(rec.take()[1], ['level', BID, 980, 4, 2, LEVEL_INSERT]);
  t.equal(book.add(4, BID, 1010, 1), OK, 'between');
  t.same(rec.take()[1], ['level', BID, 1010, 1, 1, LEVEL_INSERT]);
  t.equal(book.add(5, BID, 1000, 2), OK, 'joins a level');
  t.same(rec.take(), [
    ['order', ORDER_ADD, BID, 5, 1000, 2],
    ['level', BID, 1000, 7, 2, LEVEL_UPDATE],
  ]);
  t.same(l2(book, BID), [
    [1020, 3],
    [1010, 1],
    [1000, 7],
    [980, 4],
  ]);

  t.equal(book.add(10, ASK, 1050, 1), OK);
  t.same(rec.take()[1], ['level', ASK, 1050, 1, 0, LEVEL_INSERT]);
  t.equal(book.add(11, ASK, 1030, 2), OK, 'better ask is lower');
  t.same(rec.take()[1], ['level', ASK, 1030, 2, 0, LEVEL_INSERT]);
  t.equal(book.add(12, ASK, 1090, 3), OK, 'deepest ask');
  t.same(rec.take()[1], ['level', ASK, 1090, 3, 2, LEVEL_INSERT]);
  t.same(l2(book, ASK), [
    [1030, 2],
    [1050, 1],
    [1090, 3],
  ]);

  t.equal(book.bestPrice(BID), 1020);
  t.equal(book.bestSize(BID), 3);
  t.equal(book.bestPrice(ASK), 1030);
  t.equal(book.bestSize(ASK), 2);
  const quote = new Float64Array(4);
  book.bestLevels(quote);
  t.same([...quote], [1020, 3, 1030, 2], 'bestLevels: best bid then best ask');
  t.equal(book.levelOrderCount(BID, 2), 2);
  t.equal(book.orderCount, 8);
  t.equal(book.orderSide(12), ASK);
  t.equal(book.orderPrice(12), 1090);
  t.equal(book.orderSize(12), 3);
  t.equal(book.levelPrice(BID, 4), 0, 'past the deepest level');
  t.equal(book.levelPrice(BID, -1), 0);
  t.equal(book.levelPrice(BID, 0.5), 0);
});

t.test('a crossed add is believed, not matched', async (t) => {
  const { book } = setup();
  t.equal(book.add(1, ASK, 100, 1), OK);
  t.equal(book.add(2, BID, 105, 1), OK);
  t.equal(book.bestPrice(BID), 105);
  t.equal(book.bestPrice(ASK), 100);
  t.equal(book.orderCount, 2);
});

t.test('each level is a FIFO queue in arrival order', async (t) => {
  const { book } = setup();
  for (const id of [7, 3, 9, 1]) book.add(id, BID, 100, 1);
  book.add(20, BID, 101, 1);
  book.add(21, BID, 99, 1);
  t.same(queue(book, BID), [20, 7, 3, 9, 1, 21], 'price priority, then time');
  t.equal(book.firstOrderAt(BID, 1), 7);
  t.equal(book.nextOrder(7), 3);
  t.equal(book.nextOrder(1), 0, 'end of the queue');
  book.delete(3);
  t.same(queue(book, BID), [20, 7, 9, 1, 21], 'removing from the middle keeps the rest in order');
  book.delete(7);
  book.delete(1);
  t.equal(book.firstOrderAt(BID, 1), 9);
  t.equal(book.nextOrder(9), 0);
  book.add(4, BID, 100, 1);
  t.same(queue(book, BID), [20, 9, 4, 21], 'a newcomer joins the back');
  const seen: number[][] = [];
  book.forEachOrder(BID, {
    visit(orderId: number, price: number, size: number) {
      seen.push([orderId, price, size]);
    },
  });
  t.same(seen[0], [20, 101, 1], 'the visitor gets price and size');
});

t.test('cancel reduces or removes, and reports the level change', async (t) => {
  const { book, rec } = setup(1, 10);
  book.add(1, ASK, 200, 50);
  book.add(2, ASK, 200, 30);
  book.add(3, ASK, 210, 10);
  rec.take();
  t.equal(book.cancel(1, 20), OK);
  t.same(rec.take(), [
    ['order', ORDER_MODIFY, ASK, 1, 200, 30],
    ['level', ASK, 200, 60, 0, LEVEL_UPDATE],
  ]);
  t.same(queue(book, ASK), [1, 2, 3], 'a partial cancel keeps priority');
  t.equal(book.cancel(1, 30), OK, 'the whole remainder');
  t.same(rec.take(), [
    ['order', ORDER_REMOVE, ASK, 1, 200, 0],
    ['level', ASK, 200, 30, 0, LEVEL_UPDATE],
  ]);
  t.equal(book.hasOrder(1), false);
  t.equal(book.cancel(2, 30), OK, 'the last order of the best level');
  t.same(rec.take(), [
    ['order', ORDER_REMOVE, ASK, 2, 200, 0],
    ['level', ASK, 200, 0, 0, LEVEL_REMOVE],
  ]);
  t.same(l2(book, ASK), [[210, 10]]);
});

t.test('delete removes levels at the position they held', async (t) => {
  const { book, rec } = setup();
  for (let i = 0; i < 5; i++) book.add(i + 1, BID, 100 + i, 1); // 104 is best, 100 deepest
  rec.take();
  t.equal(book.delete(1), OK, 'the deepest');
  t.same(rec.take(), [
    ['order', ORDER_REMOVE, BID, 1, 100, 0],
    ['level', BID, 100, 0, 4, LEVEL_REMOVE],
  ]);
  t.equal(book.delete(5), OK, 'the best');
  t.same(rec.take()[1], ['level', BID, 104, 0, 0, LEVEL_REMOVE]);
  t.equal(book.delete(3), OK, 'the middle');
  t.same(rec.take()[1], ['level', BID, 102, 0, 1, LEVEL_REMOVE]);
  t.same(l2(book, BID), [
    [103, 1],
    [101, 1],
  ]);
  book.add(6, BID, 101, 2);
  rec.take();
  t.equal(book.delete(4), OK);
  t.equal(book.delete(2), OK, 'a level that keeps other orders');
  t.same(rec.take()[3], ['level', BID, 101, 2, 0, LEVEL_UPDATE]);
  t.equal(book.delete(2), REJECT_UNKNOWN_ORDER, 'already gone');
  t.equal(book.orderCount, 1);
});

t.test('modify reduces the size and keeps time priority', async (t) => {
  const { book, rec } = setup(1, 5);
  book.add(1, BID, 100, 20);
  book.add(2, BID, 100, 10);
  book.add(3, BID, 99, 5);
  rec.take();
  t.equal(book.modify(1, 5), OK);
  t.same(rec.take(), [
    ['order', ORDER_MODIFY, BID, 1, 100, 5],
    ['level', BID, 100, 15, 0, LEVEL_UPDATE],
  ]);
  t.same(queue(book, BID), [1, 2, 3]);
  t.equal(book.orderSize(1), 5);
});

t.test('replace is a remove then an add, losing priority', async (t) => {
  const { book, rec } = setup();
  book.add(1, BID, 100, 5);
  book.add(2, BID, 100, 6);
  book.add(3, BID, 98, 1);
  rec.take();

  t.equal(book.replace(1, 1, 100, 7), OK, 'same id, same price: to the back of the queue');
  t.same(rec.take(), [
    ['order', ORDER_REMOVE, BID, 1, 100, 0],
    ['level', BID, 100, 6, 0, LEVEL_UPDATE],
    ['order', ORDER_ADD, BID, 1, 100, 7],
    ['level', BID, 100, 13, 0, LEVEL_UPDATE],
  ]);
  t.same(queue(book, BID), [2, 1, 3]);

  t.equal(book.replace(2, 20, 99, 6), OK, 'new id, new price');
  t.same(rec.take(), [
    ['order', ORDER_REMOVE, BID, 2, 100, 0],
    ['level', BID, 100, 7, 0, LEVEL_UPDATE],
    ['order', ORDER_ADD, BID, 20, 99, 6],
    ['level', BID, 99, 6, 1, LEVEL_INSERT],
  ]);
  t.equal(book.hasOrder(2), false);
  t.equal(book.orderSide(20), BID, 'keeps the side');

  t.equal(book.replace(1, 1, 101, 7), OK, 'moving the only order of a level empties it');
  t.same(rec.take(), [
    ['order', ORDER_REMOVE, BID, 1, 100, 0],
    ['level', BID, 100, 0, 0, LEVEL_REMOVE],
    ['order', ORDER_ADD, BID, 1, 101, 7],
    ['level', BID, 101, 7, 0, LEVEL_INSERT],
  ]);
  t.same(l2(book, BID), [
    [101, 7],
    [99, 6],
    [98, 1],
  ]);
  t.equal(book.orderCount, 3);
});

t.test('execute announces the trade before changing the order', async (t) => {
  const { book, rec } = setup();
  book.add(1, ASK, 300, 10);
  book.add(2, ASK, 300, 4);
  book.add(3, BID, 290, 8);
  rec.take();
  t.equal(book.execute(1, 6), OK);
  t.same(rec.take(), [
    ['trade', 300, 6, BID, 1, 10],
    ['order', ORDER_MODIFY, ASK, 1, 300, 4],
    ['level', ASK, 300, 8, 0, LEVEL_UPDATE],
  ]);
  t.equal(book.execute(1, 4), OK, 'the rest');
  t.same(rec.take(), [
    ['trade', 300, 4, BID, 1, 4],
    ['order', ORDER_REMOVE, ASK, 1, 300, 0],
    ['level', ASK, 300, 4, 0, LEVEL_UPDATE],
  ]);
  t.equal(book.execute(3, 8), OK, 'a bid is hit by a seller');
  t.same(rec.take(), [
    ['trade', 290, 8, ASK, 3, 8],
    ['order', ORDER_REMOVE, BID, 3, 290, 0],
    ['level', BID, 290, 0, 0, LEVEL_REMOVE],
  ]);
  t.equal(book.levelCount(BID), 0);
});

t.test('trade prints without touching the book', async (t) => {
  const { book, rec } = setup(5, 2);
  book.add(1, BID, 100, 2);
  rec.take();
  const before = snapshot(book);
  t.equal(book.trade(105, 4, ASK), OK);
  t.same(rec.calls, [['trade', 105, 4, ASK, 0, NaN]]);
  t.same(snapshot(book), before);
});

t.test('every reject leaves the book as it was and tells no one', async (t) => {
  const { book, rec } = setup(5, 10);
  book.add(1, BID, 100, 50);
  book.add(2, ASK, 110, 20);
  book.add(3, ASK, 110, 10);
  rec.take();
  const before = snapshot(book);
  const huge = 2 ** 53;
  const cases: [string, () => number, number][] = [
    ['add bad side 2', () => book.add(9, 2, 100, 10), REJECT_BAD_SIDE],
    ['add bad side -1', () => book.add(9, -1, 100, 10), REJECT_BAD_SIDE],
    ['add bad side NaN', () => book.add(9, NaN, 100, 10), REJECT_BAD_SIDE],
    ['add id 0', () => book.add(0, BID, 100, 10), REJECT_BAD_EVENT],
    ['add id -4', () => book.add(-4, BID, 100, 10), REJECT_BAD_EVENT],
    ['add id 1.5', () => book.add(1.5, BID, 100, 10), REJECT_BAD_EVENT],
    ['add id NaN', () => book.add(NaN, BID, 100, 10), REJECT_BAD_EVENT],
    ['add id 2^53', () => book.add(huge, BID, 100, 10), REJECT_BAD_EVENT],
    ['add price 0', () => book.add(9, BID, 0, 10), REJECT_BAD_PRICE],
    ['add price -5', () => book.add(9, BID, -5, 10), REJECT_BAD_PRICE],
    ['add price NaN', () => book.add(9, BID, NaN, 10), REJECT_BAD_PRICE],
    ['add price Infinity', () => book.add(9, BID, Infinity, 10), REJECT_BAD_PRICE],
    ['add price 2^53', () => book.add(9, BID, huge, 10), REJECT_BAD_PRICE],
    ['add price off tick', () => book.add(9, BID, 102, 10), REJECT_OFF_TICK],
    ['add price fractional', () => book.add(9, BID, 100.5, 10), REJECT_OFF_TICK],
    ['add size 0', () => book.add(9, BID, 100, 0), REJECT_BAD_SIZE],
    ['add size -10', () => book.add(9, BID, 100, -10), REJECT_BAD_SIZE],
    ['add size 10.5', () => book.add(9, BID, 100, 10.5), REJECT_BAD_SIZE],
    ['add size NaN', () => book.add(9, BID, 100, NaN), REJECT_BAD_SIZE],
    ['add size 2^53', () => book.add(9, BID, 100, huge), REJECT_BAD_SIZE],
    ['add size off lot', () => book.add(9, BID, 100, 15), REJECT_OFF_LOT],
    ['add duplicate', () => book.add(1, ASK, 120, 10), REJECT_DUPLICATE_ORDER],
    ['cancel unknown', () => book.cancel(9, 10), REJECT_UNKNOWN_ORDER],
    ['cancel 0', () => book.cancel(1, 0), REJECT_BAD_SIZE],
    ['cancel more than left', () => book.cancel(1, 60), REJECT_BAD_SIZE],
    ['cancel fractional', () => book.cancel(1, 0.5), REJECT_BAD_SIZE],
    ['cancel off lot', () => book.cancel(1, 5), REJECT_OFF_LOT],
    ['delete unknown', () => book.delete(9), REJECT_UNKNOWN_ORDER],
    ['delete id 0', () => book.delete(0), REJECT_UNKNOWN_ORDER],
    ['modify unknown', () => book.modify(9, 10), REJECT_UNKNOWN_ORDER],
    ['modify to the same size', () => book.modify(1, 50), REJECT_BAD_SIZE],
    ['modify up', () => book.modify(1, 60), REJECT_BAD_SIZE],
    ['modify to 0', () => book.modify(1, 0), REJECT_BAD_SIZE],
    ['modify off lot', () => book.modify(1, 25), REJECT_OFF_LOT],
    ['replace unknown', () => book.replace(9, 10, 100, 10), REJECT_UNKNOWN_ORDER],
    ['replace to id 0', () => book.replace(1, 0, 100, 10), REJECT_BAD_EVENT],
    ['replace to a live id', () => book.replace(1, 2, 100, 10), REJECT_DUPLICATE_ORDER],
    ['replace price 0', () => book.replace(1, 10, 0, 10), REJECT_BAD_PRICE],
    ['replace price off tick', () => book.replace(1, 10, 101, 10), REJECT_OFF_TICK],
    ['replace size 0', () => book.replace(1, 10, 100, 0), REJECT_BAD_SIZE],
    ['replace size off lot', () => book.replace(1, 10, 100, 11), REJECT_OFF_LOT],
    ['execute unknown', () => book.execute(9, 10), REJECT_UNKNOWN_ORDER],
    ['execute more than left', () => book.execute(2, 30), REJECT_BAD_SIZE],
    ['execute 0', () => book.execute(2, 0), REJECT_BAD_SIZE],
    ['execute off lot', () => book.execute(2, 3), REJECT_OFF_LOT],
    ['trade bad aggressor', () => book.trade(100, 10, 3), REJECT_BAD_SIDE],
    ['trade price 0', () => book.trade(0, 10, BID), REJECT_BAD_PRICE],
    ['trade price off tick', () => book.trade(101, 10, BID), REJECT_OFF_TICK],
    ['trade size 0', () => book.trade(100, 0, BID), REJECT_BAD_SIZE],
    ['trade size off lot', () => book.trade(100, 7, BID), REJECT_OFF_LOT],
  ];
  for (const [name, attempt, code] of cases) {
    t.equal(attempt(), code, name);
    t.same(rec.calls, [], `${name}: no listener call`);
    t.same(snapshot(book), before, `${name}: book unchanged`);
  }
});

t.test('clear forgets everything silently and the book is reusable', async (t) => {
  const { book, rec } = setup();
  for (let i = 1; i <= 50; i++) book.add(i, i % 2, i % 2 === BID ? 1000 - i : 1000 + i, i);
  rec.take();
  book.clear();
  t.same(rec.calls, [], 'no listener call');
  t.equal(book.orderCount, 0);
  t.equal(book.levelCount(BID), 0);
  t.equal(book.levelCount(ASK), 0);
  t.equal(book.hasOrder(1), false);
  t.equal(book.bestPrice(BID), 0);
  t.equal(book.add(1, BID, 900, 3), OK, 'an old id is new again');
  t.equal(book.add(2, BID, 900, 4), OK);
  t.same(l2(book, BID), [[900, 7]]);
  t.same(queue(book, BID), [1, 2]);
});

t.test('storage grows past its initial capacity', async (t) => {
  const book = new OrderBook(1, 1, null, 16);
  const n = 5000;
  let rejects = 0;
  for (let i = 1; i <= n; i++) if (book.add(i, BID, 1 + (i % 1500), 1) !== OK) rejects++;
  t.equal(rejects, 0);
  t.equal(book.orderCount, n);
  t.equal(book.levelCount(BID), 1500);
  t.equal(book.bestPrice(BID), 1500);
  t.equal(book.levelPrice(BID, 1499), 1);
  let total = 0;
  for (let i = 0; i < book.levelCount(BID); i++) total += book.levelSize(BID, i);
  t.equal(total, n);
  for (let i = 1; i <= n; i += 2) book.delete(i);
  t.equal(book.orderCount, n / 2);
  for (let i = 1; i <= n; i += 2) book.add(i + n, ASK, 2000 + (((i - 1) / 2) % 700), 2); // reuses freed slots
  t.equal(book.levelCount(ASK), 700);
  t.equal(book.bestPrice(ASK), 2000);
  t.equal(book.orderCount, n);
});

t.test('setListener switches or silences the listener', async (t) => {
  const { book, rec } = setup();
  book.setListener(null);
  t.equal(book.add(1, BID, 10, 1), OK);
  t.equal(book.delete(1), OK);
  t.equal(book.execute(1, 1), REJECT_UNKNOWN_ORDER);
  t.same(rec.calls, []);
  book.setListener(rec);
  book.add(2, BID, 10, 1);
  t.equal(rec.calls.length, 2);
});

t.test('an add or replace that would take a level past 2^53 - 1 units is rejected and changes nothing', async (t) => {
  const MAX = Number.MAX_SAFE_INTEGER;
  let book!: OrderBook;
  const recorder = new Recorder(() => book);
  book = new OrderBook(1, 1, recorder);
  t.equal(book.add(1, BID, 100, MAX - 10), OK);
  const checksum = book.checksum();
  recorder.calls.length = 0;
  t.equal(book.add(2, BID, 100, 11), REJECT_LEVEL_OVERFLOW, 'one unit past 2^53 - 1');
  t.equal(book.add(3, BID, 100, MAX), REJECT_LEVEL_OVERFLOW, 'a sum that doubles cannot even hold');
  t.same(recorder.calls, [], 'no listener call');
  t.notOk(book.hasOrder(2));
  t.equal(book.levelSize(BID, 0), MAX - 10);
  t.equal(book.checksum(), checksum, 'the checksum covers the exact level');
  t.equal(book.add(2, BID, 100, 10), OK, 'exactly 2^53 - 1 fits');
  t.equal(book.levelSize(BID, 0), MAX);
  t.equal(book.add(4, ASK, 200, 1), OK);
  t.equal(book.add(5, BID, 99, MAX), OK, 'another level is another total');
  // Replace into the full level: refused; replace within it keeps its own size out of the sum.
  t.equal(book.replace(5, 6, 100, 1), REJECT_LEVEL_OVERFLOW);
  t.ok(book.hasOrder(5), 'the refused replace left the order where it was');
  t.equal(book.levelSize(BID, 1), MAX);
  t.equal(book.replace(2, 7, 100, 10), OK, 'same price, same size: the level stays at 2^53 - 1');
  t.equal(book.replace(7, 8, 100, 11), REJECT_LEVEL_OVERFLOW);
  t.equal(book.levelSize(BID, 0), MAX);
  t.equal(book.orderSize(7), 10);
});
