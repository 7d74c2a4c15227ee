import t from 'tap';
import { BinanceVenue, BinanceSymbol } from '../helpers/binance-venue';
import { waitFor } from '../helpers/test-server';
import { FeedBooks } from '../../src/feeds/feed-books';
import { FeedConnection } from '../../src/feeds/feed-connection';
import { completeFeedSymbols } from '../../src/feeds/feed-reference';
import { Backoff } from '../../src/feeds/backoff';
import { feedInstrument } from '../../src/config';
import { toInstrument } from '../../src/model/instruments';
import { ASK, BID } from '../../src/model/book-types';
import { EV_TRADE } from '../../src/model/events';
import { FQ_GAPS, FQ_CROSSED, FQ_MALFORMED, FQ_MESSAGES, FQ_RESYNCS, FQ_SYNCED, FQ_TRADE_GAPS, feedWord, feedWordsLength } from '../../src/model/feed-words';
import { formatUnits } from '../../src/util/decimal';
import { Random } from '../../src/util/random';

const SYMBOLS: BinanceSymbol[] = [
  { symbol: 'BTCUSDT', base: 'BTC', quote: 'USDT', tickSize: '0.01000000', stepSize: '0.00001000', minQty: '0.00001000' },
  { symbol: 'ETHBTC', base: 'ETH', quote: 'BTC', tickSize: '0.00001000', stepSize: '0.00010000', minQty: '0.00010000' },
];

async function startFeed(venue: BinanceVenue, depth = 1000) {
  const specs = await completeFeedSymbols('binance', venue.url, venue.restUrl, SYMBOLS.map((s) => ({ venueSymbol: s.symbol, symbol: '', tickSize: '', lotSize: '', minOrderSize: '' })));
  const instruments = specs.map((s, i) => toInstrument(feedInstrument(s), i));
  const trades: number[][] = [];
  const logs: string[] = [];
  const sink = { event: (kind: number, symbol: number, side: number, _id: number, price: number, size: number) => void (kind === EV_TRADE && trades.push([symbol, side, price, size])) };
  const words = new Float64Array(feedWordsLength(instruments.length));
  const books = new FeedBooks('binance', instruments, specs, sink, words, (line) => logs.push(line));
  const connection = new FeedConnection({ url: venue.url, restUrl: venue.restUrl, quality: books.quality, recorder: null, afterInput: () => undefined, backoff: new Backoff(10, 100) });
  connection.start(books.connect(connection, depth));
  return {
    specs,
    books,
    connection,
    trades,
    logs,
    word: (symbol: number, word: number) => words[feedWord(symbol, word)],
    /** The published book, every level, as the venue's 8-decimal strings. */
    published(symbol: number, side: 'bids' | 'asks'): [string, string][] {
      const book = books.symbols[symbol].orders.published;
      const { priceDecimals, sizeDecimals } = instruments[symbol];
      const s = side === 'bids' ? BID : ASK;
      const out: [string, string][] = [];
      for (let i = 0; i < book.levelCount(s); i++) {
        out.push([Number(formatUnits(book.levelPrice(s, i), priceDecimals)).toFixed(8), Number(formatUnits(book.levelSize(s, i), sizeDecimals)).toFixed(8)]);
      }
      return out;
    },
  };
}

type Feed = Awaited<ReturnType<typeof startFeed>>;

function venueLevels(venue: BinanceVenue, symbol: string, side: 'bids' | 'asks'): [string, string][] {
  return venue.top(symbol, side).map(([p, q]) => [Number(p).toFixed(8), Number(q).toFixed(8)]);
}

function sameAsVenue(t: { same(a: unknown, b: unknown, m: string): unknown }, feed: Feed, venue: BinanceVenue, index: number, what: string): void {
  const symbol = SYMBOLS[index].symbol;
  t.same(feed.published(index, 'bids'), venueLevels(venue, symbol, 'bids'), `${what}: ${symbol} bids equal Binance's`);
  t.same(feed.published(index, 'asks'), venueLevels(venue, symbol, 'asks'), `${what}: ${symbol} asks equal Binance's`);
}

function seed(venue: BinanceVenue): void {
  for (let i = 1; i <= 20; i++) {
    venue.update('BTCUSDT', { bids: [[(67000 - i * 0.5).toFixed(2), (0.1 * i).toFixed(5)]], asks: [[(67000 + i * 0.5).toFixed(2), (0.2 * i).toFixed(5)]] }, { send: false });
    venue.update('ETHBTC', { bids: [[(0.05 - i * 0.00001).toFixed(5), (1 + i).toFixed(4)]], asks: [[(0.05 + i * 0.00001).toFixed(5), (2 + i).toFixed(4)]] }, { send: false });
  }
}

t.test('exchangeInfo gives tick, lot and the bookcast name', async (t) => {
  const venue = await BinanceVenue.start(SYMBOLS);
  t.teardown(() => venue.close());
  const specs = await completeFeedSymbols('binance', venue.url, venue.restUrl, [{ venueSymbol: 'BTCUSDT', symbol: '', tickSize: '', lotSize: '', minOrderSize: '' }]);
  t.same(specs, [{ venueSymbol: 'BTCUSDT', symbol: 'BTC/USDT', tickSize: '0.01', lotSize: '0.00001', minOrderSize: '0.00001' }]);
  await t.rejects(completeFeedSymbols('binance', venue.url, venue.restUrl, [{ venueSymbol: 'NOPE', symbol: '', tickSize: '', lotSize: '', minOrderSize: '' }]), { code: 'FEED_REFERENCE_FAILED' });
});

t.test('diffs buffered before a late snapshot: the local-book procedure, then every diff in sequence', async (t) => {
  const venue = await BinanceVenue.start(SYMBOLS);
  seed(venue);
  venue.holdSnapshots = true;
  const feed = await startFeed(venue);
  t.teardown(async () => {
    await feed.connection.stop();
    await venue.close();
  });
  await waitFor('both snapshots asked for', () => venue.snapshotRequests.get('BTCUSDT') === 1 && venue.snapshotRequests.get('ETHBTC') === 1);
  t.same(venue.streams[0], ['btcusdt@depth@100ms', 'btcusdt@trade', 'ethbtc@depth@100ms', 'ethbtc@trade'], 'the streams are named in the URL');
  // Diffs flow while the snapshots are held; the snapshot is taken after some of them.
  for (let i = 0; i < 5; i++) venue.update('BTCUSDT', { bids: [[(66990 + i).toFixed(2), '0.5']] }, { ids: 2 });
  await waitFor('five buffered diffs', () => feed.word(0, FQ_MESSAGES) === 5);
  t.equal(feed.word(0, FQ_SYNCED), 0, 'no book before the snapshot');
  venue.releaseSnapshots();
  venue.update('BTCUSDT', { asks: [['67000.25', '1.5']] });
  await waitFor('synced', () => feed.word(0, FQ_SYNCED) === 1 && feed.word(1, FQ_SYNCED) === 1 && feed.word(0, FQ_MESSAGES) === 6);
  sameAsVenue(t, feed, venue, 0, 'after the snapshot and the buffer');
  sameAsVenue(t, feed, venue, 1, 'after the snapshot');

  const random = new Random(11);
  for (let n = 0; n < 100; n++) {
    const index = random.int(2);
    const symbol = SYMBOLS[index].symbol;
    const side = random.int(2) === 0 ? 'bids' : 'asks';
    const offset = 1 + random.int(30);
    const price = index === 0 ? (side === 'bids' ? 67000 - offset * 0.5 : 67000 + offset * 0.5).toFixed(2) : (side === 'bids' ? 0.05 - offset * 0.00001 : 0.05 + offset * 0.00001).toFixed(5);
    const qty = random.int(4) === 0 ? '0' : (random.int(10000) / 1000 + 0.001).toFixed(3);
    const before = feed.word(index, FQ_MESSAGES);
    venue.update(symbol, { [side]: [[price, qty]] }, { ids: 1 + random.int(3) });
    await waitFor(`diff ${n}`, () => feed.word(index, FQ_MESSAGES) > before);
    sameAsVenue(t, feed, venue, index, `diff ${n}`);
  }
  venue.trade('BTCUSDT', '67000.50', '0.01000', true);
  venue.trade('ETHBTC', '0.05001', '3.0000', false);
  await waitFor('two trades', () => feed.trades.length === 2);
  t.same(feed.trades, [[0, ASK, 6700050, 1000], [1, BID, 5001, 30000]], 'trades: the taker is the side that was not the maker');
  t.equal(feed.word(0, FQ_TRADE_GAPS) + feed.word(1, FQ_TRADE_GAPS), 0, 'consecutive trade ids: no trade gap');
  // Two BTCUSDT trades lost on the way, then one more: a trade gap, counted and logged once; the trades that came are printed.
  venue.trade('BTCUSDT', '67000.60', '0.02000', false, 2);
  venue.trade('BTCUSDT', '67000.70', '0.03000', false, 3);
  await waitFor('two more trades', () => feed.trades.length === 4);
  t.equal(feed.word(0, FQ_TRADE_GAPS), 2, 'each jump of the trade id is a trade gap');
  t.equal(feed.word(1, FQ_TRADE_GAPS), 0, 'per symbol');
  t.equal(feed.logs.filter((l) => l.includes('FEED_TRADE_GAP')).length, 1, 'trade gaps are logged once');
  t.match(feed.logs.find((l) => l.includes('FEED_TRADE_GAP')), /2 trade\(s\) missed/);
  t.equal(feed.word(0, FQ_RESYNCS) + feed.word(1, FQ_RESYNCS), 0, 'no resync on a correct feed');
});

t.test('gaps, reordered, malformed and crossing diffs are detected, counted and repaired from a new snapshot', async (t) => {
  const venue = await BinanceVenue.start(SYMBOLS);
  seed(venue);
  const feed = await startFeed(venue);
  t.teardown(async () => {
    await feed.connection.stop();
    await venue.close();
  });
  await waitFor('synced', () => feed.word(0, FQ_SYNCED) === 1 && feed.word(1, FQ_SYNCED) === 1);

  const fault = async (what: string, word: number, send: () => void) => {
    const requests = venue.snapshotRequests.get('BTCUSDT')!;
    const counted = feed.word(0, word);
    const resyncs = feed.word(0, FQ_RESYNCS);
    send();
    await waitFor(`${what} counted`, () => feed.word(0, word) === counted + 1);
    await waitFor(`${what} repaired`, () => venue.snapshotRequests.get('BTCUSDT') === requests + 1 && feed.word(0, FQ_SYNCED) === 1);
    t.equal(feed.word(0, FQ_RESYNCS), resyncs + 1, `${what}: one resync`);
    sameAsVenue(t, feed, venue, 0, `${what}, repaired`);
    t.equal(feed.word(1, FQ_RESYNCS), 0, `${what}: ETHBTC untouched`);
  };

  await fault('a lost diff', FQ_GAPS, () => {
    venue.update('BTCUSDT', { bids: [['66999.50', '0']] }, { send: false });
    venue.update('BTCUSDT', { asks: [['67000.50', '9']] });
  });
  await fault('two diffs reordered', FQ_GAPS, () => {
    const first = venue.update('BTCUSDT', { bids: [['66999.00', '4']] }, { send: false });
    const second = venue.update('BTCUSDT', { bids: [['66999.00', '5']] }, { send: false });
    venue.broadcast(second);
    venue.broadcast(first);
  });
  await fault('an unreadable quantity', FQ_MALFORMED, () => {
    const frame = venue.update('BTCUSDT', { asks: [['67001.00', '2']] }, { send: false });
    venue.broadcast(frame.replace('"2.00000000"', '"two"'));
  });
  await fault('a crossing diff', FQ_CROSSED, () => {
    // What a broken relay might send: the venue's own book never crossed.
    const book = venue.books.get('BTCUSDT')!;
    venue.broadcast(JSON.stringify({ stream: 'btcusdt@depth@100ms', data: { e: 'depthUpdate', E: 1, s: 'BTCUSDT', U: book.updateId + 1, u: book.updateId + 1, b: [['67010.00000000', '1.00000000']], a: [] } }));
    book.updateId++;
  });
  t.equal(feed.logs.filter((l) => l.includes('FEED_SEQUENCE_GAP')).length, 1, 'gaps are logged once');
  venue.broadcast('not json');
  venue.update('ETHBTC', { bids: [['0.04999', '7']] });
  await waitFor('ETHBTC after a broken frame', () => feed.published(1, 'bids')[0][1] === '7.00000000');
  sameAsVenue(t, feed, venue, 1, 'after a broken frame');
});

t.test('a diff that straddles the snapshot (U <= lastUpdateId+1 <= u) is applied, as Binance folds updates', async (t) => {
  const venue = await BinanceVenue.start(SYMBOLS);
  seed(venue);
  venue.holdSnapshots = true;
  const feed = await startFeed(venue);
  t.teardown(async () => {
    await feed.connection.stop();
    await venue.close();
  });
  await waitFor('the snapshots asked for', () => venue.snapshotRequests.get('BTCUSDT') === 1 && venue.snapshotRequests.get('ETHBTC') === 1);
  const first = JSON.parse(venue.update('BTCUSDT', { bids: [['66999.00', '3']] }, { send: false })).data;
  venue.releaseSnapshots(); // lastUpdateId = first.u
  await waitFor('synced on the snapshot', () => feed.word(0, FQ_SYNCED) === 1 && feed.word(1, FQ_SYNCED) === 1);
  const second = JSON.parse(venue.update('BTCUSDT', { asks: [['67001.00', '6']] }, { send: false })).data;
  // One event covering both updates: U is the snapshot's own id, u the next.
  venue.broadcast(JSON.stringify({ stream: 'btcusdt@depth@100ms', data: { ...second, U: first.U, u: second.u, b: first.b, a: second.a } }));
  await waitFor('the folded diff applied', () => feed.published(0, 'asks').some(([p, q]) => p === '67001.00000000' && q === '6.00000000'));
  sameAsVenue(t, feed, venue, 0, 'after the straddling diff');
  t.equal(feed.word(0, FQ_GAPS) + feed.word(0, FQ_RESYNCS), 0, 'no gap, no resync');
  venue.update('BTCUSDT', { bids: [['66999.50', '1']] });
  await waitFor('the next diff', () => feed.published(0, 'bids')[0][0] === '66999.50000000' && feed.published(0, 'bids')[0][1] === '1.00000000');
  sameAsVenue(t, feed, venue, 0, 'after the next diff');
});

t.test('--feed-depth: the local copy keeps every level, bookcast publishes the best N a side as levels cross its edge', async (t) => {
  const venue = await BinanceVenue.start(SYMBOLS);
  seed(venue);
  const depth = 3;
  const feed = await startFeed(venue, depth);
  t.teardown(async () => {
    await feed.connection.stop();
    await venue.close();
  });
  await waitFor('synced', () => feed.word(0, FQ_SYNCED) === 1);
  const top = (side: 'bids' | 'asks') => venueLevels(venue, 'BTCUSDT', side).slice(0, depth);
  t.same(feed.published(0, 'bids'), top('bids'), 'snapshot: the best 3 bids');
  t.same(feed.published(0, 'asks'), top('asks'), 'snapshot: the best 3 asks');
  // Inserts above the edge push levels out, removals inside it bring deeper ones in, deep changes publish nothing.
  const random = new Random(17);
  for (let n = 0; n < 60; n++) {
    const side = random.int(2) === 0 ? 'bids' : 'asks';
    const changes: [string, string][] = [];
    for (let k = 1 + random.int(3); k > 0; k--) {
      const offset = 1 + random.int(8);
      changes.push([(side === 'bids' ? 67000 - offset * 0.5 : 67000 + offset * 0.5).toFixed(2), random.int(3) === 0 ? '0' : (random.int(1000) / 100 + 0.01).toFixed(2)]);
    }
    const before = feed.word(0, FQ_MESSAGES);
    venue.update('BTCUSDT', { [side]: changes });
    await waitFor(`diff ${n}`, () => feed.word(0, FQ_MESSAGES) > before);
    t.same(feed.published(0, side), top(side), `diff ${n}: the best 3 ${side}`);
  }
  t.equal(feed.word(0, FQ_RESYNCS), 0, 'no resync');
});
