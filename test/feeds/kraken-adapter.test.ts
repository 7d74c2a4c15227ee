import t from 'tap';
import { KrakenVenue, KrakenPair, KrakenTicker } from '../helpers/kraken-venue';
import { bookChecksum } from '../../src/client';
import { waitFor } from '../helpers/test-server';
import { FeedBooks } from '../../src/feeds/feed-books';
import { FeedConnection } from '../../src/feeds/feed-connection';
import { completeFeedSymbols } from '../../src/feeds/feed-reference';
import { Backoff } from '../../src/feeds/backoff';
import { feedInstrument, FeedSymbolSpec } from '../../src/config';
import { toInstrument } from '../../src/model/instruments';
import { ASK, BID } from '../../src/model/book-types';
import { EV_TRADE } from '../../src/model/events';
import { FEED_CONNECTS, FQ_CHECKSUM, FQ_CROSSED, FQ_MALFORMED, FQ_MESSAGES, FQ_RESYNCS, FQ_SYNCED, feedWord, feedWordsLength } from '../../src/model/feed-words';
import { readVenueTicker } from '../../src/model/venue-tickers';
import { formatUnits } from '../../src/util/decimal';
import { Random } from '../../src/util/random';

const PAIRS: KrakenPair[] = [
  { symbol: 'BTC/USD', base: 'BTC', quote: 'USD', pricePrecision: 1, qtyPrecision: 8, priceIncrement: '0.1', qtyIncrement: '0.00000001', qtyMin: '0.0001' },
  { symbol: 'ETH/USD', base: 'ETH', quote: 'USD', pricePrecision: 2, qtyPrecision: 8, priceIncrement: '0.01', qtyIncrement: '0.00000001', qtyMin: '0.001' },
];

interface Feed {
  books: FeedBooks;
  connection: FeedConnection;
  trades: number[][];
  logs: string[];
  word(symbol: number, word: number): number;
  /** The published book's top `depth` levels as decimal strings at the pair's precision. */
  published(symbol: number, side: 'bids' | 'asks', depth: number): [string, string][];
}

async function startFeed(venue: KrakenVenue, depth: number): Promise<Feed> {
  const specs: FeedSymbolSpec[] = await completeFeedSymbols('kraken', venue.url, '', PAIRS.map((p) => ({ venueSymbol: p.symbol, symbol: '', tickSize: '', lotSize: '', minOrderSize: '' })));
  const instruments = specs.map((s, i) => toInstrument(feedInstrument(s), i));
  const trades: number[][] = [];
  const logs: string[] = [];
  const sink = { event: (kind: number, symbol: number, side: number, _id: number, price: number, size: number) => void (kind === EV_TRADE && trades.push([symbol, side, price, size])) };
  const words = new Float64Array(feedWordsLength(instruments.length));
  const books = new FeedBooks('kraken', instruments, specs, sink, words, (line) => logs.push(line));
  const connection = new FeedConnection({ url: venue.url, restUrl: 'http://127.0.0.1:1', quality: books.quality, recorder: null, afterInput: () => undefined, backoff: new Backoff(10, 100) });
  connection.start(books.connect(connection, depth));
  return {
    books,
    connection,
    trades,
    logs,
    word: (symbol, word) => words[feedWord(symbol, word)],
    published(symbol, side, n) {
      const book = books.symbols[symbol].orders.published;
      const { priceDecimals, sizeDecimals } = instruments[symbol];
      const s = side === 'bids' ? BID : ASK;
      const out: [string, string][] = [];
      for (let i = 0; i < Math.min(n, book.levelCount(s)); i++) out.push([formatUnits(book.levelPrice(s, i), priceDecimals), formatUnits(book.levelSize(s, i), sizeDecimals)]);
      return out;
    },
  };
}

function fmt(level: [string, string], p: KrakenPair): [string, string] {
  const pad = (v: string, d: number) => (d === 0 ? v : `${v.split('.')[0]}.${(v.split('.')[1] ?? '').padEnd(d, '0')}`);
  return [pad(level[0], p.pricePrecision), pad(level[1], p.qtyPrecision)];
}

/** Fills a book ten levels deeper than `depth` around `mid` (whole ticks). */
function seed(venue: KrakenVenue, symbol: string, mid: number, tick: number, decimals: number, depth: number): void {
  const bids: [string, string][] = [];
  const asks: [string, string][] = [];
  for (let i = 1; i <= depth + 10; i++) {
    bids.push([(mid - i * tick).toFixed(decimals), (0.5 + i / 100).toFixed(3)]);
    asks.push([(mid + i * tick).toFixed(decimals), (0.25 + i / 1000).toFixed(4)]);
  }
  venue.update(symbol, { bids, asks }, { send: false });
}

function sameAsVenue(t: { same(a: unknown, b: unknown, m: string): unknown; equal(a: unknown, b: unknown, m: string): unknown }, feed: Feed, venue: KrakenVenue, index: number, depth: number, what: string): void {
  const pair = PAIRS[index];
  const bids = venue.top(pair.symbol, 'bids', depth).map((l) => fmt(l, pair));
  const asks = venue.top(pair.symbol, 'asks', depth).map((l) => fmt(l, pair));
  t.same(feed.published(index, 'bids', 1000), bids, `${what}: ${pair.symbol} bids equal Kraken's`);
  t.same(feed.published(index, 'asks', 1000), asks, `${what}: ${pair.symbol} asks equal Kraken's`);
  t.equal(bookChecksum(feed.published(index, 'bids', 10), feed.published(index, 'asks', 10)), venue.checksum(pair.symbol), `${what}: Kraken's checksum holds`);
}

t.test('the reference data gives tick and lot at Kraken\'s precision', async (t) => {
  const venue = await KrakenVenue.start(PAIRS);
  t.teardown(() => venue.close());
  const specs = await completeFeedSymbols('kraken', venue.url, '', [{ venueSymbol: 'BTC/USD', symbol: '', tickSize: '', lotSize: '', minOrderSize: '' }]);
  t.same(specs, [{ venueSymbol: 'BTC/USD', symbol: 'BTC/USD', tickSize: '0.1', lotSize: '0.00000001', minOrderSize: '0.00010000' }]);
  await t.rejects(completeFeedSymbols('kraken', venue.url, '', [{ venueSymbol: 'DOGE/EUR', symbol: '', tickSize: '', lotSize: '', minOrderSize: '' }]), { code: 'FEED_REFERENCE_FAILED' });
});

t.test('the published book equals Kraken\'s (levels and checksum) after every message, truncated to the depth', async (t) => {
  const depth = 10;
  const venue = await KrakenVenue.start(PAIRS);
  seed(venue, 'BTC/USD', 67000, 0.1, 1, depth);
  seed(venue, 'ETH/USD', 3400, 0.01, 2, depth);
  const feed = await startFeed(venue, depth);
  t.teardown(async () => {
    await feed.connection.stop();
    await venue.close();
  });
  await waitFor('both snapshots', () => feed.word(0, FQ_SYNCED) === 1 && feed.word(1, FQ_SYNCED) === 1);
  sameAsVenue(t, feed, venue, 0, depth, 'snapshot');
  sameAsVenue(t, feed, venue, 1, depth, 'snapshot');
  const random = new Random(7);
  for (let n = 0; n < 150; n++) {
    const index = random.int(2);
    const pair = PAIRS[index];
    const tick = index === 0 ? 0.1 : 0.01;
    const mid = index === 0 ? 67000 : 3400;
    const side = random.int(2) === 0 ? 'bids' : 'asks';
    // Inside the visible depth, at its edge, and beyond it; removals of visible and hidden levels.
    const offset = 1 + random.int(depth + 8);
    const price = (side === 'bids' ? mid - offset * tick : mid + offset * tick).toFixed(pair.pricePrecision);
    const qty = random.int(4) === 0 ? '0' : (random.int(100000) / 1000 + 0.001).toFixed(3);
    const before = feed.word(index, FQ_MESSAGES);
    venue.update(pair.symbol, { [side]: [[price, qty]] });
    await waitFor(`update ${n}`, () => feed.word(index, FQ_MESSAGES) > before);
    sameAsVenue(t, feed, venue, index, depth, `update ${n}`);
  }
  venue.trade('BTC/USD', 'sell', '66999.9', '0.12500000');
  venue.trade('ETH/USD', 'buy', '3400.01', '2');
  await waitFor('two trades', () => feed.trades.length === 2);
  t.same(feed.trades, [[0, ASK, 669999, 12500000], [1, BID, 340001, 200000000]], 'trades: aggressor side, exact units');
  t.equal(feed.word(0, FQ_CHECKSUM) + feed.word(1, FQ_CHECKSUM), 0, 'no checksum mismatch on a correct feed');
  t.equal(feed.word(0, FQ_RESYNCS) + feed.word(1, FQ_RESYNCS), 0, 'no resync on a correct feed');

  await t.test('Kraken\'s ticker channel: validated, kept exactly as sent for /api/v1/health, never published', async (t) => {
    const words = feed.books.quality.words;
    t.ok(venue.received.some((m) => m.method === 'subscribe' && m.params?.channel === 'ticker' && m.params.symbol.join() === 'BTC/USD,ETH/USD'), 'ticker subscribed for every symbol');
    t.equal(readVenueTicker(words, 0), null, 'no ticker before Kraken sends one');
    const events = feed.books.symbols[0].orders.events;
    const messages = feed.word(0, FQ_MESSAGES);
    const today = { volume: '1', vwap: '1', low: '1', high: '1', open: '1', trades: 1 };
    const ticker: KrakenTicker = {
      bid: '66999.9', bid_qty: '0.50100000', ask: '67000.10', ask_qty: '0.251', last: '67000.0', last_qty: '0.01', volume: '1234.56789012',
      vwap: '66888.123456789', low: '65000.0', high: '68000.5', change: '-100.5', change_pct: '-0.15', today,
    };
    venue.ticker('BTC/USD', ticker);
    await waitFor('the ticker kept', () => readVenueTicker(words, 0) !== null);
    const { received_at: at, ...kept } = readVenueTicker(words, 0)!;
    t.same(kept, { bid: '66999.9', bid_qty: '0.50100000', ask: '67000.10', ask_qty: '0.251', last: '67000.0', volume: '1234.56789012', vwap: '66888.123456789', high: '68000.5', low: '65000.0' }, 'every figure the decimal text Kraken sent, trailing zeros and all');
    t.match(at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, 'with the time it arrived');
    t.equal(feed.word(0, FQ_MESSAGES), messages + 1, 'counted as a message of the symbol');
    t.equal(feed.books.symbols[0].orders.events, events, 'bookcast\'s book and ticker take nothing from it');
    t.equal(readVenueTicker(words, 1), null, 'ETH/USD has none yet');
    const logged = feed.logs.length;
    venue.broadcast('{"channel":"ticker","type":"update","data":[{"symbol":"BTC/USD","bid":67000.1,"bid_qty":1,"ask":67000.2,"ask_qty":1}]}');
    venue.broadcast('{"channel":"ticker","type":"update","data":[{"symbol":"BTC/USD","bid":"abc","bid_qty":1,"ask":67000.2,"ask_qty":1,"last":1,"volume":1,"vwap":1,"low":1,"high":1}]}');
    await waitFor('both bad tickers counted', () => feed.word(0, FQ_MALFORMED) === 2);
    t.equal(feed.logs.length, logged + 1, 'logged once');
    t.match(feed.logs[logged], /BTC\/USD: FEED_MALFORMED_MESSAGE: unreadable ticker: last missing/);
    t.equal(readVenueTicker(words, 0)!.vwap, '66888.123456789', 'the last good ticker stays');
    t.equal(feed.word(0, FQ_RESYNCS), 0, 'a bad ticker does not touch the book');
    venue.ticker('BTC/USD', { ...ticker, bid: '67000.0', volume: '0.00001' });
    venue.ticker('ETH/USD', { ...ticker, bid: '3399.99', last: '3400' });
    await waitFor('both tickers', () => readVenueTicker(words, 0)?.bid === '67000.0' && readVenueTicker(words, 1)?.bid === '3399.99');
    t.equal(readVenueTicker(words, 0)!.volume, '0.00001');
    t.equal(readVenueTicker(words, 1)!.last, '3400');
  });
});

t.test('bad checksums, malformed, reordered, lost and crossing updates are detected, counted and repaired', async (t) => {
  const depth = 25;
  const venue = await KrakenVenue.start(PAIRS);
  seed(venue, 'BTC/USD', 67000, 0.1, 1, depth);
  seed(venue, 'ETH/USD', 3400, 0.01, 2, depth);
  const feed = await startFeed(venue, depth);
  t.teardown(async () => {
    await feed.connection.stop();
    await venue.close();
  });
  await waitFor('both snapshots', () => feed.word(0, FQ_SYNCED) === 1 && feed.word(1, FQ_SYNCED) === 1);

  /** Sends `fault`, checks it is counted in `word` and the book was never corrupted, then that it is repaired. */
  const fault = async (what: string, word: number, send: () => void) => {
    const resyncs = feed.word(0, FQ_RESYNCS);
    const subscribes = venue.bookSubscribes.get('BTC/USD')!;
    const counted = feed.word(0, word);
    const good = [feed.published(0, 'bids', 1000), feed.published(0, 'asks', 1000)];
    send();
    await waitFor(`${what} counted`, () => feed.word(0, word) === counted + 1);
    await waitFor(`${what} resubscribed`, () => venue.bookSubscribes.get('BTC/USD')! === subscribes + 1 && feed.word(0, FQ_SYNCED) === 1);
    t.equal(feed.word(0, FQ_RESYNCS), resyncs + 1, `${what}: one resync`);
    sameAsVenue(t, feed, venue, 0, depth, `${what}, repaired`);
    t.not(JSON.stringify(good), JSON.stringify([feed.published(0, 'bids', 1000), feed.published(0, 'asks', 1000)]), `${what}: the repair changed the book`);
    // The other symbol was never disturbed.
    t.equal(feed.word(1, FQ_RESYNCS), 0, `${what}: ETH/USD untouched`);
  };

  await fault('a bad checksum', FQ_CHECKSUM, () => void venue.update('BTC/USD', { bids: [['66999.9', '9.5']] }, { checksum: 12345 }));
  await fault('an unreadable price', FQ_MALFORMED, () => {
    venue.update('BTC/USD', { asks: [['67000.1', '3']] }, { send: false });
    venue.broadcast(`{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[],"asks":[{"price":"x67000.1","qty":3}],"checksum":${venue.checksum('BTC/USD')}}]}`);
  });
  await fault('two updates reordered', FQ_CHECKSUM, () => {
    // Two different levels: each frame carries the checksum of the book after it, so a swap of two
    // updates of one level would pass until the next update (and be caught there).
    const first = venue.update('BTC/USD', { bids: [['66999.8', '1.5']] }, { send: false })!;
    const second = venue.update('BTC/USD', { asks: [['67000.3', '0.75']] }, { send: false })!;
    venue.broadcast(second);
    venue.broadcast(first);
  });
  await fault('a lost update', FQ_CHECKSUM, () => {
    venue.update('BTC/USD', { asks: [['67000.2', '4']] }, { send: false });
    venue.update('BTC/USD', { bids: [['66999.7', '2']] });
  });
  await fault('a crossing update', FQ_CROSSED, () => {
    // The venue's own book never crossed: the frame is what a broken relay might send.
    const crossed = `{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[{"price":67000.5,"qty":1}],"asks":[]}]}`;
    const top = { bids: [['67000.5', '1.00000000'], ...venue.top('BTC/USD', 'bids', 9).map((l) => fmt(l, PAIRS[0]))], asks: venue.top('BTC/USD', 'asks', 10).map((l) => fmt(l, PAIRS[0])) };
    venue.update('BTC/USD', { bids: [['66999.9', '7']] }, { send: false });
    venue.broadcast(crossed.replace(']}]}', `],"checksum":${bookChecksum(top.bids as [string, string][], top.asks as [string, string][])}}]}`));
  });
  t.ok(venue.unsubscribes >= 5, 'each repair unsubscribed the book first');
  t.equal(feed.logs.filter((l) => l.includes('FEED_CHECKSUM_MISMATCH')).length, 1, 'a checksum mismatch is logged once, however many');
  t.match(feed.logs.join('\n'), /FEED_CROSSED_BOOK/);
  t.match(feed.logs.join('\n'), /FEED_MALFORMED_MESSAGE/);

  // Not even valid JSON: counted for the feed, nothing else changes.
  venue.broadcast('{"channel":"book","type":"upd');
  venue.update('ETH/USD', { bids: [['3399.99', '1']] });
  await waitFor('the next update after a broken frame', () => feed.published(1, 'bids', 1)[0][1] === '1.00000000');
  sameAsVenue(t, feed, venue, 1, depth, 'after a broken frame');
});

t.test('a dropped connection reconnects after a backoff and the fresh snapshot is diffed in', async (t) => {
  const depth = 10;
  const venue = await KrakenVenue.start(PAIRS);
  seed(venue, 'BTC/USD', 67000, 0.1, 1, depth);
  seed(venue, 'ETH/USD', 3400, 0.01, 2, depth);
  const feed = await startFeed(venue, depth);
  t.teardown(async () => {
    await feed.connection.stop();
    await venue.close();
  });
  await waitFor('both snapshots', () => feed.word(0, FQ_SYNCED) === 1 && feed.word(1, FQ_SYNCED) === 1);
  const eventsBefore = feed.books.events();
  venue.dropAll();
  // While disconnected the market moves.
  venue.update('BTC/USD', { bids: [['66999.9', '0']], asks: [['67000.1', '8.25']] }, { send: false });
  await waitFor('reconnected and synced', () => feed.books.quality.words[FEED_CONNECTS] === 2 && feed.word(0, FQ_SYNCED) === 1 && feed.word(1, FQ_SYNCED) === 1);
  sameAsVenue(t, feed, venue, 0, depth, 'after reconnect');
  sameAsVenue(t, feed, venue, 1, depth, 'after reconnect');
  // Two changed levels, plus the level that came into the visible depth: nothing else was re-sent.
  t.equal(feed.books.events() - eventsBefore, 3, 'the resync emitted only the difference');
  t.equal(feed.word(0, FQ_RESYNCS), 1, 'the reconnect counts as one resync of each synced book');
  t.equal(feed.word(1, FQ_RESYNCS), 1);
});
