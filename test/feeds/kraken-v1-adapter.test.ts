import t from 'tap';
import { KrakenVenue, KrakenPair, KrakenTicker } from '../helpers/kraken-venue';
import { bookChecksum } from '../../src/client';
import { waitFor } from '../helpers/test-server';
import { FeedBooks } from '../../src/feeds/feed-books';
import { FeedConnection } from '../../src/feeds/feed-connection';
import { completeFeedSymbols } from '../../src/feeds/feed-reference';
import { Backoff } from '../../src/feeds/backoff';
import { feedInstrument } from '../../src/config';
import { toInstrument } from '../../src/model/instruments';
import { ASK, BID } from '../../src/model/book-types';
import { EV_TRADE } from '../../src/model/events';
import { FEED_CONNECTS, FQ_CHECKSUM, FQ_MALFORMED, FQ_MESSAGES, FQ_RESYNCS, FQ_SYNCED, feedWord, feedWordsLength } from '../../src/model/feed-words';
import { readVenueTicker } from '../../src/model/venue-tickers';
import { formatUnits } from '../../src/util/decimal';
import { Random } from '../../src/util/random';

const PAIRS: KrakenPair[] = [
  { symbol: 'XBT/USD', base: 'XBT', quote: 'USD', pricePrecision: 1, qtyPrecision: 8, priceIncrement: '0.1', qtyIncrement: '0.00000001', qtyMin: '0.0001' },
  { symbol: 'ETH/USD', base: 'ETH', quote: 'USD', pricePrecision: 2, qtyPrecision: 8, priceIncrement: '0.01', qtyIncrement: '0.00000001', qtyMin: '0.001' },
];
const MID = [67000, 3400];
const TICK = [0.1, 0.01];

function seed(venue: KrakenVenue, index: number, depth: number): void {
  const p = PAIRS[index];
  const bids: [string, string][] = [];
  const asks: [string, string][] = [];
  for (let i = 1; i <= depth + 10; i++) {
    bids.push([(MID[index] - i * TICK[index]).toFixed(p.pricePrecision), (0.5 + i / 100).toFixed(3)]);
    asks.push([(MID[index] + i * TICK[index]).toFixed(p.pricePrecision), (0.25 + i / 1000).toFixed(4)]);
  }
  venue.update(p.symbol, { bids, asks }, { send: false });
}

async function startFeed(venue: KrakenVenue, depth: number) {
  const specs = await completeFeedSymbols('kraken-v1', venue.url, '', PAIRS.map((p) => ({ venueSymbol: p.symbol, symbol: '', tickSize: '', lotSize: '', minOrderSize: '' })));
  const instruments = specs.map((s, i) => toInstrument(feedInstrument(s), i));
  const trades: number[][] = [];
  const sink = { event: (kind: number, symbol: number, side: number, _id: number, price: number, size: number) => void (kind === EV_TRADE && trades.push([symbol, side, price, size])) };
  const words = new Float64Array(feedWordsLength(instruments.length));
  const books = new FeedBooks('kraken-v1', instruments, specs, sink, words, () => undefined);
  const connection = new FeedConnection({ url: venue.url, restUrl: 'http://127.0.0.1:1', quality: books.quality, recorder: null, afterInput: () => undefined, backoff: new Backoff(10, 100) });
  connection.start(books.connect(connection, depth));
  const published = (symbol: number, side: number, n: number): [string, string][] => {
    const book = books.symbols[symbol].orders.published;
    const { priceDecimals, sizeDecimals } = instruments[symbol];
    const out: [string, string][] = [];
    for (let i = 0; i < Math.min(n, book.levelCount(side)); i++) out.push([formatUnits(book.levelPrice(side, i), priceDecimals), formatUnits(book.levelSize(side, i), sizeDecimals)]);
    return out;
  };
  return { books, connection, trades, word: (symbol: number, word: number) => words[feedWord(symbol, word)], published };
}

type Feed = Awaited<ReturnType<typeof startFeed>>;

function sameAsVenue(t: { same(a: unknown, b: unknown, m: string): unknown; equal(a: unknown, b: unknown, m: string): unknown }, feed: Feed, venue: KrakenVenue, index: number, depth: number, what: string): void {
  const p = PAIRS[index];
  const f = ([price, qty]: [string, string]): [string, string] => [Number(price).toFixed(p.pricePrecision), Number(qty).toFixed(p.qtyPrecision)];
  const bids = venue.top(p.symbol, 'bids', depth).map(f);
  const asks = venue.top(p.symbol, 'asks', depth).map(f);
  t.same(feed.published(index, BID, 1000), bids, `${what}: ${p.symbol} bids equal Kraken's`);
  t.same(feed.published(index, ASK, 1000), asks, `${what}: ${p.symbol} asks equal Kraken's`);
  t.equal(bookChecksum(feed.published(index, BID, 10), feed.published(index, ASK, 10)), venue.checksum(p.symbol), `${what}: Kraken's checksum holds`);
}

t.test('Kraken v1: reference from v2\'s instrument channel, the book equal to the venue\'s after every update, trades', async (t) => {
  const depth = 10;
  const venue = await KrakenVenue.start(PAIRS, { v1: true });
  seed(venue, 0, depth);
  seed(venue, 1, depth);
  const feed = await startFeed(venue, depth);
  t.teardown(async () => {
    await feed.connection.stop();
    await venue.close();
  });
  t.same(feed.books.symbols.map((s) => s.instrument.symbol), ['XBT/USD', 'ETH/USD']);
  await waitFor('both snapshots', () => feed.word(0, FQ_SYNCED) === 1 && feed.word(1, FQ_SYNCED) === 1);
  t.ok(venue.received.some((m) => m.event === 'subscribe' && m.subscription?.name === 'book' && m.subscription.depth === depth), 'v1 book subscription at the depth');
  for (const i of [0, 1]) sameAsVenue(t, feed, venue, i, depth, 'snapshot');
  const random = new Random(3);
  for (let n = 0; n < 120; n++) {
    const i = random.int(2);
    const p = PAIRS[i];
    const side = random.int(2) === 0 ? 'bids' : 'asks';
    const offset = 1 + random.int(depth + 8);
    const price = (side === 'bids' ? MID[i] - offset * TICK[i] : MID[i] + offset * TICK[i]).toFixed(p.pricePrecision);
    // Sometimes both sides in one message: v1 sends them as two objects, the checksum in the last.
    const other = side === 'bids' ? 'asks' : 'bids';
    const otherPrice = (other === 'bids' ? MID[i] - (1 + random.int(depth)) * TICK[i] : MID[i] + (1 + random.int(depth)) * TICK[i]).toFixed(p.pricePrecision);
    const qty = random.int(4) === 0 ? '0' : (random.int(100000) / 1000 + 0.001).toFixed(3);
    const before = feed.word(i, FQ_MESSAGES);
    venue.update(p.symbol, random.int(3) === 0 ? { [side]: [[price, qty]], [other]: [[otherPrice, '1.5']] } : { [side]: [[price, qty]] });
    await waitFor(`update ${n}`, () => feed.word(i, FQ_MESSAGES) > before);
    sameAsVenue(t, feed, venue, i, depth, `update ${n}`);
  }
  t.equal(feed.word(0, FQ_RESYNCS) + feed.word(1, FQ_RESYNCS) + feed.word(0, FQ_MALFORMED) + feed.word(1, FQ_MALFORMED), 0, 'no resync, nothing unreadable');
  venue.trade('XBT/USD', 'sell', '66999.9', '0.12500000');
  venue.trade('ETH/USD', 'buy', '3400.01', '2.00000000');
  await waitFor('two trades', () => feed.trades.length === 2);
  t.same(feed.trades, [[0, ASK, 669999, 12500000], [1, BID, 340001, 200000000]], 'trades: aggressor side, exact units');

  await t.test('Kraken v1 ticker: the 24-hour figures and lot sizes kept exactly as sent, a bad one counted, nothing published', async (t) => {
    const words = feed.books.quality.words;
    t.ok(venue.received.some((m) => m.event === 'subscribe' && m.subscription?.name === 'ticker' && m.pair.join() === 'XBT/USD,ETH/USD'), 'v1 ticker subscription for every pair');
    const events = feed.books.symbols[0].orders.events;
    const ticker: KrakenTicker = {
      bid: '66999.90000', bid_qty: '0.50100000', ask: '67000.10000', ask_qty: '1.25100000', last: '67000.00000', last_qty: '0.01000000',
      volume: '1234.56789012', vwap: '66888.12345', low: '65000.00000', high: '68000.50000', change: '0', change_pct: '0',
      today: { volume: '12.5', vwap: '67001.5', low: '66900.0', high: '67100.0', open: '67000.0', trades: 42 },
    };
    venue.ticker('XBT/USD', ticker);
    await waitFor('the ticker kept', () => readVenueTicker(words, 0) !== null);
    const { received_at: _at, ...kept } = readVenueTicker(words, 0)!;
    t.same(kept, { bid: '66999.90000', bid_qty: '0.50100000', ask: '67000.10000', ask_qty: '1.25100000', last: '67000.00000', volume: '1234.56789012', vwap: '66888.12345', high: '68000.50000', low: '65000.00000' },
      'sizes are the lot volumes, volume/vwap/low/high the last 24 hours\', all as Kraken wrote them');
    t.equal(feed.books.symbols[0].orders.events, events, 'bookcast\'s book and ticker take nothing from it');
    venue.ticker('XBT/USD', { ...ticker, vwap: 'n/a' });
    await waitFor('the bad ticker counted', () => feed.word(0, FQ_MALFORMED) === 1);
    t.equal(readVenueTicker(words, 0)!.vwap, '66888.12345', 'the last good ticker stays');
    t.equal(feed.word(0, FQ_RESYNCS), 0, 'a bad ticker does not touch the book');
    t.equal(readVenueTicker(words, 1), null, 'ETH/USD has none');
  });
});

t.test('Kraken v1: a bad checksum and a lost update are repaired by resubscribing; a reconnect diffs the snapshot in', async (t) => {
  const depth = 10;
  const venue = await KrakenVenue.start(PAIRS, { v1: true });
  seed(venue, 0, depth);
  seed(venue, 1, depth);
  const feed = await startFeed(venue, depth);
  t.teardown(async () => {
    await feed.connection.stop();
    await venue.close();
  });
  await waitFor('both snapshots', () => feed.word(0, FQ_SYNCED) === 1 && feed.word(1, FQ_SYNCED) === 1);
  for (const [what, send] of [
    ['a bad checksum', () => void venue.update('XBT/USD', { bids: [['66999.9', '9.5']] }, { checksum: 12345 })],
    ['a lost update', () => {
      venue.update('XBT/USD', { asks: [['67000.2', '4']] }, { send: false });
      venue.update('XBT/USD', { bids: [['66999.7', '2']] });
    }],
  ] as [string, () => void][]) {
    const mismatches = feed.word(0, FQ_CHECKSUM);
    const subscribes = venue.bookSubscribes.get('XBT/USD')!;
    send();
    await waitFor(`${what}: counted and resubscribed`, () => feed.word(0, FQ_CHECKSUM) === mismatches + 1 && venue.bookSubscribes.get('XBT/USD')! === subscribes + 1 && feed.word(0, FQ_SYNCED) === 1);
    sameAsVenue(t, feed, venue, 0, depth, `${what}, repaired`);
  }
  t.ok(venue.unsubscribes >= 2, 'each repair unsubscribed first');
  t.equal(feed.word(1, FQ_RESYNCS), 0, 'ETH/USD untouched');
  venue.dropAll();
  venue.update('ETH/USD', { bids: [['3399.99', '0']] }, { send: false });
  await waitFor('reconnected', () => feed.books.quality.words[FEED_CONNECTS] === 2 && feed.word(0, FQ_SYNCED) === 1 && feed.word(1, FQ_SYNCED) === 1);
  for (const i of [0, 1]) sameAsVenue(t, feed, venue, i, depth, 'after a reconnect');
});
