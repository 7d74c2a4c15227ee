import t from 'tap';
import { ASK, BID } from '../../src/model/book-types';
import { EV_ADD, EV_CANCEL, EV_DELETE, EV_EXECUTE, EV_TRADE, EventSink } from '../../src/model/events';
import { SYNTHETIC_ID_BASE, lobsterInstrument, replayLobsterFile } from '../../src/source/lobster-translator';
import { topLevelsDiffer, writeLobsterPair } from './lobster-fixtures';

const S = SYNTHETIC_ID_BASE;
const MIDNIGHT = Date.UTC(2012, 5, 21) * 1000;

class Recorder implements EventSink {
  readonly events: number[][] = [];
  event(kind: number, symbol: number, side: number, orderId: number, price: number, size: number, newOrderId: number, timestamp: number): void {
    this.events.push([kind, symbol, side, orderId, price, size, newOrderId, timestamp]);
  }
}

/** Replays a fixture, checking the engine book against every row; returns what it recorded. */
function replayChecked(t: tap.Test, depth: number, messages: string[], rows: string[]) {
  const path = writeLobsterPair(t.testdir({}), depth, messages, rows);
  const recorder = new Recorder();
  const differences: string[] = [];
  const result = replayLobsterFile(path, {
    sink: recorder,
    onRow: (row, book, bookRow) => {
      const difference = topLevelsDiffer(book, bookRow, depth, 100);
      if (difference !== null) differences.push(`row ${row}: ${difference}`);
    },
  });
  t.same(differences, [], 'the engine book shows every orderbook row');
  t.equal(result.rejects, 0, 'the engine book accepts every event');
  t.equal(result.sequence, recorder.events.length, 'sequence counts the accepted events');
  return { result, events: recorder.events.map((e) => ({ kind: e[0], side: e[2], id: e[3], price: e[4], size: e[5], time: e[7] - MIDNIGHT })) };
}

t.test('the LOBSTER instrument is cents and whole shares', async (t) => {
  const instrument = lobsterInstrument('AAPL', 3);
  t.match(instrument, { symbol: 'AAPL', index: 3, priceDecimals: 2, sizeDecimals: 0, tickUnits: 1, lotUnits: 1 });
});

t.test('seeding, hidden liquidity, slide-ins, hidden trades, off-tick and halts', async (t) => {
  const { result, events } = replayChecked(
    t,
    2,
    [
      '34200.000001,1,1,100,100000,1', // add 100 at bid 10.00: row 1 shows 300, so 200 rested there before
      '34200.000002,2,77,50,100000,1', // cancel of an unknown order: consumes the hidden 200 first
      '34200.000003,3,1,100,100000,1', // delete of the known order
      '34200.000004,4,88,150,100000,1', // execution of an unknown order empties 10.00; 9.80 slides in
      '34200.000005,5,0,10,101050,-1', // hidden execution at half a cent: skipped
      '34200.000006,5,0,10,101000,-1', // hidden execution on the ask: the buyer aggressed
      '34200.000007,7,0,0,-1,-1', // halt
    ],
    [
      '101000,200,100000,300,102000,50,99000,400',
      '101000,200,100000,250,102000,50,99000,400',
      '101000,200,100000,150,102000,50,99000,400',
      '101000,200,99000,400,102000,50,98000,70',
      '101000,200,99000,400,102000,50,98000,70',
      '101000,200,99000,400,102000,50,98000,70',
      '101000,200,99000,400,102000,50,98000,70',
    ],
  );
  t.same(events, [
    { kind: EV_ADD, side: BID, id: S, price: 1000, size: 200, time: 34200_000001 },
    { kind: EV_ADD, side: BID, id: S + 1, price: 990, size: 400, time: 34200_000001 },
    { kind: EV_ADD, side: ASK, id: S + 2, price: 1010, size: 200, time: 34200_000001 },
    { kind: EV_ADD, side: ASK, id: S + 3, price: 1020, size: 50, time: 34200_000001 },
    { kind: EV_ADD, side: BID, id: 1, price: 1000, size: 100, time: 34200_000001 },
    { kind: EV_CANCEL, side: BID, id: S, price: 1000, size: 50, time: 34200_000002 },
    { kind: EV_DELETE, side: BID, id: 1, price: 1000, size: 100, time: 34200_000003 },
    { kind: EV_EXECUTE, side: BID, id: S, price: 1000, size: 150, time: 34200_000004 },
    { kind: EV_ADD, side: BID, id: S + 4, price: 980, size: 70, time: 34200_000004 },
    { kind: EV_TRADE, side: BID, id: 0, price: 1010, size: 10, time: 34200_000006 },
  ]);
  t.same(
    { ...result.stats },
    { messages: 7, events: 10, learned: 5, forgotten: 0, unknownOrders: 2, reassigned: 0, halts: 1, offTick: 1 },
  );
  t.equal(result.rows, 7);
  t.equal(result.book.orderCount, 4);
});

t.test('message 1 is undone to seed the book, so its execution still prints', async (t) => {
  const { events } = replayChecked(t, 1, ['34200.1,4,5,4,100000,1'], ['101000,100,100000,96']);
  t.same(
    events.map((e) => [e.kind, e.side, e.id, e.price, e.size]),
    [
      [EV_ADD, BID, S, 1000, 100],
      [EV_ADD, ASK, S + 1, 1010, 100],
      [EV_EXECUTE, BID, S, 1000, 4],
    ],
  );
});

t.test('liquidity that left beyond depth N is trimmed when its level comes back', async (t) => {
  const { result, events } = replayChecked(
    t,
    1,
    [
      '34200.1,1,1,100,100000,1',
      '34200.2,1,2,50,100500,1', // 10.00 drops out of view
      '34200.3,3,2,50,100500,1', // 10.00 comes back with 60: 40 of order 1 went unseen
      '34200.4,3,1,60,100000,1',
    ],
    ['101000,100,100000,100', '101000,100,100500,50', '101000,100,100000,60', '101000,100,-9999999999,0'],
  );
  t.same(
    events.slice(3).map((e) => [e.kind, e.id, e.price, e.size]),
    [
      [EV_DELETE, 2, 1005, 50],
      [EV_CANCEL, 1, 1000, 40],
      [EV_DELETE, 1, 1000, 60],
    ],
  );
  t.match(result.stats, { forgotten: 1, learned: 1, reassigned: 0 });
  t.equal(result.book.levelCount(BID), 0);
});

t.test('orders whose known size disagrees with the message are reconciled at their level', async (t) => {
  const { result, events } = replayChecked(
    t,
    1,
    [
      '34200.1,1,1,100,100000,1',
      '34200.2,1,2,50,100000,1',
      '34200.3,1,3,10,100500,1', // 10.00 out of view; order 1 loses 40 unseen
      '34200.4,3,3,10,100500,1', // 10.00 back at 110: the trim guesses order 2 (newest)
      '34200.5,3,1,60,100000,1', // order 1 was the one: 40 more than we hold for 2 goes back
      '34200.6,2,2,50,100000,1', // cancel 50 of order 2: 10 from it, 40 from what went back
    ],
    [
      '101000,100,100000,100',
      '101000,100,100000,150',
      '101000,100,100500,10',
      '101000,100,100000,110',
      '101000,100,100000,50',
      '101000,100,-9999999999,0',
    ],
  );
  t.same(
    events.slice(5).map((e) => [e.kind, e.id, e.size]),
    [
      [EV_CANCEL, 2, 40],
      [EV_DELETE, 1, 100],
      [EV_ADD, S + 1, 40],
      [EV_CANCEL, 2, 10],
      [EV_DELETE, S + 1, 40],
    ],
  );
  t.match(result.stats, { forgotten: 1, reassigned: 2, unknownOrders: 0 });
});

t.test('a visible level that disagrees with the messages is LOBSTER_INCONSISTENT', async (t) => {
  const messages = ['34200.1,1,1,100,100000,1', '34200.2,2,77,50,100000,1'];
  const row1 = '101000,200,100000,300,102000,50,99000,400';
  const cases: [string, string[], string[], RegExp][] = [
    ['more size than the messages leave', messages, [row1, '101000,200,100000,260,102000,50,99000,400'],
      /row 2: bid 1000: the orderbook file shows 260, the messages leave 250/],
    ['a level appearing inside the view', messages, [row1, '101000,200,100000,250,101500,10,99000,400'],
      /row 2: ask 1015: the orderbook file shows 10, the messages leave 0/],
    ['a level vanishing inside the view', messages, [row1, '101000,200,100000,250,9999999999,0,99000,400'],
      /row 2: ask 1020: the orderbook file shows 0, the messages leave 50/],
    ['a level appearing below a side that was not full', ['34200.1,1,1,100,100000,1', '34200.2,1,2,5,100000,1'],
      ['101000,200,100000,100,9999999999,0,-9999999999,0', '101000,200,100000,105,9999999999,0,99000,10'],
      /row 2: bid 990: the orderbook file shows 10, the messages leave 0/],
    ['taking more than the level holds', ['34200.1,1,1,100,100000,1', '34200.2,2,77,150,100000,1'],
      ['101000,200,100000,100,9999999999,0,-9999999999,0', '101000,200,-9999999999,0,9999999999,0,-9999999999,0'],
      /row 2: takes 150 at bid 1000, where the book holds 100/],
    ['an add row 1 cannot contain', ['34200.1,1,1,100,100000,1'], ['101000,200,100000,99,102000,50,99000,400'],
      /row 1: adds 100 at bid 1000 but row 1 shows 99/],
    ['a known order at another price', ['34200.1,1,1,100,100000,1', '34200.2,3,1,100,99000,1'],
      [row1, row1], /row 2: order 1 rests at bid 1000, the message says bid 990/],
  ];
  for (const [name, m, rows, message] of cases) {
    const path = writeLobsterPair(t.testdir({}), 2, m, rows);
    t.throws(() => replayLobsterFile(path), { code: 'LOBSTER_INCONSISTENT', message }, name);
    t.throws(() => replayLobsterFile(path), { message: /TEST_2012-06-21_34200000_57600000_message_2\.csv: row/ }, name);
  }
});

t.test('the two files must have one row per message', async (t) => {
  const dir = t.testdir({});
  const short = writeLobsterPair(dir, 1, ['34200.1,1,1,100,100000,1', '34200.2,1,2,100,100000,1'], ['101000,0,100000,100']);
  t.throws(() => replayLobsterFile(short), { code: 'LOBSTER_BAD_ROW', message: /ends before message 2/ });
  const long = writeLobsterPair(dir, 1, ['34200.1,1,1,100,100000,1'], ['9999999999,0,100000,100', '9999999999,0,100000,100']);
  t.throws(() => replayLobsterFile(long), { code: 'LOBSTER_BAD_ROW', message: /:2: more rows than messages/ });
  t.equal(replayLobsterFile(long, { until: 1 }).rows, 1, '--until stops before the surplus');
  const unsorted = writeLobsterPair(dir, 2, ['34200.1,1,1,100,100000,1'], ['9999999999,0,100000,100,9999999999,0,100100,5']);
  t.throws(() => replayLobsterFile(unsorted), { code: 'LOBSTER_BAD_ROW', message: /row 1: bid levels are not sorted/ });
});
