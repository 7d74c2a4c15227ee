import t from 'tap';
import { CoinbaseVenue, CoinbaseProduct } from '../helpers/coinbase-venue';
import { waitFor } from '../helpers/test-server';
import { FeedBooks } from '../../src/feeds/feed-books';
import { FeedConnection } from '../../src/feeds/feed-connection';
import { completeFeedSymbols } from '../../src/feeds/feed-reference';
import { Backoff } from '../../src/feeds/backoff';
import { feedInstrument } from '../../src/config';
import { toInstrument } from '../../src/model/instruments';
import { ASK, BID } from '../../src/model/book-types';
import { EV_TRADE } from '../../src/model/events';
import { FEED_FRAMES, FQ_CROSSED, FQ_GAPS, FQ_MALFORMED, FQ_MESSAGES, FQ_RESYNCS, FQ_SYNCED, feedWord, feedWordsLength } from '../../src/model/feed-words';
import { formatUnits } from '../../src/util/decimal';
import { Random } from '../../src/util/random';

const PRODUCTS: CoinbaseProduct[] = [
  { id: 'BTC-USD', base: 'BTC', quote: 'USD', quoteIncrement: '0.01', baseIncrement: '0.00000001', baseMinSize: '0.00000001' },
  { id: 'ETH-USD', base: 'ETH', quote: 'USD', quoteIncrement: '0.01', baseIncrement: '0.00000001', baseMinSize: '0.00000001' },
];

async function startFeed(venue: CoinbaseVenue) {
  const specs = await completeFeedSymbols('coinbase', venue.url, venue.restUrl, PRODUCTS.map((p) => ({ venueSymbol: p.id, symbol: '', tickSize: '', lotSize: '', minOrderSize: '' })));
  const instruments = specs.map((s, i) => toInstrument(feedInstrument(s), i));
  const trades: number[][] = [];
  const logs: string[] = [];
  const sink = { event: (kind: number, symbol: number, side: number, _id: number, price: number, size: number) => void (kind === EV_TRADE && trades.push([symbol, side, price, size])) };
  const words = new Float64Array(feedWordsLength(instruments.length));
  const books = new FeedBooks('coinbase', instruments, specs, sink, words, (line) => logs.push(line));
  const connection = new FeedConnection({ url: venue.url, restUrl: venue.restUrl, quality: books.quality, recorder: null, afterInput: () => undefined, backoff: new Backoff(10, 100) });
  connection.start(books.connect(connection, 0));
  return {
    specs,
    books,
    connection,
    trades,
    logs,
    words,
    word: (symbol: number, word: number) => words[feedWord(symbol, word)],
    published(symbol: number, side: 'bids' | 'asks'): string[][] {
      const book = books.symbols[symbol].orders.published;
      const { priceDecimals, sizeDecimals } = instruments[symbol];
      const s = side === 'bids' ? BID : ASK;
      return Array.from({ length: book.levelCount(s) }, (_, i) => [formatUnits(book.levelPrice(s, i), priceDecimals), formatUnits(book.levelSize(s, i), sizeDecimals)]);
    },
  };
}

type Feed = Awaited<ReturnType<typeof startFeed>>;

/** The venue's book at the instrument's decimals (2 for prices, 8 for sizes). */
function venueLevels(venue: CoinbaseVenue, product: string, side: 'bids' | 'asks'): string[][] {
  return venue.top(product, side).map(([p, q]) => [Number(p).toFixed(2), Number(q).toFixed(8)]);
}

function sameAsVenue(t: { same(a: unknown, b: unknown, m: string): unknown }, feed: Feed, venue: CoinbaseVenue, index: number, what: string): void {
  const id = PRODUCTS[index].id;
  t.same(feed.published(index, 'bids'), venueLevels(venue, id, 'bids'), `${what}: ${id} bids equal Coinbase's`);
  t.same(feed.published(index, 'asks'), venueLevels(venue, id, 'asks'), `${what}: ${id} asks equal Coinbase's`);
}

/** A whole book, as Coinbase's snapshot is: `levels` a side. */
function seed(venue: CoinbaseVenue, levels: number): void {
  const bids: [string, string][] = [];
  const asks: [string, string][] = [];
  for (let i = 1; i <= levels; i++) {
    bids.push([(67000 - i * 0.01).toFixed(2), (0.00012345 + i / 1e6).toFixed(8)]);
    asks.push([(67000 + i * 0.01).toFixed(2), (0.5 + i / 1e7).toFixed(8)]);
  }
  venue.update('BTC-USD', { bids, asks }, false);
  venue.update('ETH-USD', { bids: [['3399.99', '1.5'], ['3399.98', '2']], asks: [['3400.01', '3'], ['3400.02', '4']] }, false);
}

t.test('the product endpoint gives tick, lot and the bookcast name', async (t) => {
  const venue = await CoinbaseVenue.start(PRODUCTS);
  t.teardown(() => venue.close());
  const specs = await completeFeedSymbols('coinbase', venue.url, venue.restUrl, [{ venueSymbol: 'BTC-USD', symbol: '', tickSize: '', lotSize: '', minOrderSize: '' }]);
  t.same(specs, [{ venueSymbol: 'BTC-USD', symbol: 'BTC/USD', tickSize: '0.01', lotSize: '0.00000001', minOrderSize: '0.00000001' }]);
  await t.rejects(completeFeedSymbols('coinbase', venue.url, venue.restUrl, [{ venueSymbol: 'NOPE-USD', symbol: '', tickSize: '', lotSize: '', minOrderSize: '' }]), { code: 'FEED_REFERENCE_FAILED' });
});

t.test('a whole-book snapshot of 60,000 levels in one frame, then every update checked against Coinbase\'s book', async (t) => {
  const venue = await CoinbaseVenue.start(PRODUCTS);
  seed(venue, 30_000);
  const feed = await startFeed(venue);
  t.teardown(async () => {
    await feed.connection.stop();
    await venue.close();
  });
  await waitFor('both snapshots', () => feed.word(0, FQ_SYNCED) === 1 && feed.word(1, FQ_SYNCED) === 1, 120_000);
  t.equal(feed.published(0, 'bids').length, 30_000, 'every level of the snapshot');
  sameAsVenue(t, feed, venue, 0, 'snapshot');
  sameAsVenue(t, feed, venue, 1, 'snapshot');
  const random = new Random(13);
  for (let n = 0; n < 60; n++) {
    const index = random.int(2);
    const id = PRODUCTS[index].id;
    const side = random.int(2) === 0 ? 'bids' : 'asks';
    const mid = index === 0 ? 67000 : 3400;
    const offset = 1 + random.int(20);
    const price = (side === 'bids' ? mid - offset * 0.01 : mid + offset * 0.01).toFixed(2);
    const qty = random.int(4) === 0 ? '0' : (random.int(100000) / 1000 + 0.001).toFixed(3);
    const before = feed.word(index, FQ_MESSAGES);
    venue.update(id, { [side]: [[price, qty]] });
    await waitFor(`update ${n}`, () => feed.word(index, FQ_MESSAGES) > before);
    if (index === 1) sameAsVenue(t, feed, venue, 1, `update ${n}`);
    else t.same(feed.published(0, side).slice(0, 30), venueLevels(venue, id, side).slice(0, 30), `update ${n}: BTC-USD ${side}, top 30`);
  }
  sameAsVenue(t, feed, venue, 0, 'after the updates');
  venue.trade('BTC-USD', 'SELL', '67000.01', '0.25');
  venue.trade('ETH-USD', 'BUY', '3399.99', '1');
  await waitFor('two trades', () => feed.trades.length === 2);
  t.same(feed.trades, [[0, BID, 6700001, 25000000], [1, ASK, 339999, 100000000]], 'trades: the aggressor is opposite the maker side Coinbase reports');
  t.equal(feed.word(0, FQ_RESYNCS) + feed.word(1, FQ_RESYNCS), 0, 'no resync on a correct feed');
});

t.test('sequence gaps, reordered, malformed and crossing messages are detected, counted and repaired', async (t) => {
  const venue = await CoinbaseVenue.start(PRODUCTS);
  seed(venue, 50);
  const feed = await startFeed(venue);
  t.teardown(async () => {
    await feed.connection.stop();
    await venue.close();
  });
  await waitFor('synced', () => feed.word(0, FQ_SYNCED) === 1 && feed.word(1, FQ_SYNCED) === 1);

  const fault = async (what: string, word: number, bothProducts: boolean, send: () => void) => {
    const subscribes = venue.level2Subscribes.get('BTC-USD')!;
    const counted = feed.word(0, word);
    const resyncs = [feed.word(0, FQ_RESYNCS), feed.word(1, FQ_RESYNCS)];
    send();
    await waitFor(`${what} counted`, () => feed.word(0, word) === counted + 1);
    await waitFor(`${what} repaired`, () => venue.level2Subscribes.get('BTC-USD') === subscribes + 1 && feed.word(0, FQ_SYNCED) === 1 && feed.word(1, FQ_SYNCED) === 1);
    t.equal(feed.word(0, FQ_RESYNCS), resyncs[0] + 1, `${what}: one resync`);
    t.equal(feed.word(1, FQ_RESYNCS), resyncs[1] + (bothProducts ? 1 : 0), bothProducts ? `${what}: a connection-wide gap resyncs every product` : `${what}: ETH-USD untouched`);
    sameAsVenue(t, feed, venue, 0, `${what}, repaired`);
    sameAsVenue(t, feed, venue, 1, `${what}, repaired`);
  };

  await fault('a lost message', FQ_GAPS, true, () => {
    venue.update('BTC-USD', { bids: [['66999.99', '0']] }, false);
    venue.sendAll('l2_data', venue.update('BTC-USD', { asks: [['67000.01', '9']] }, false) as object[], 1);
  });
  await fault('two messages reordered', FQ_GAPS, true, () => {
    const first = venue.update('BTC-USD', { bids: [['66999.98', '4']] }, false) as object[];
    const second = venue.update('BTC-USD', { asks: [['67000.02', '5']] }, false) as object[];
    venue.sendSwapped('l2_data', first, second);
  });
  await fault('an unreadable quantity', FQ_MALFORMED, false, () => {
    venue.update('BTC-USD', { asks: [['67000.03', '2']] }, false);
    venue.sendAll('l2_data', [{ type: 'update', product_id: 'BTC-USD', updates: [{ side: 'offer', event_time: '', price_level: '67000.03', new_quantity: 'two' }] }]);
  });
  await fault('a crossing update', FQ_CROSSED, false, () => {
    venue.update('BTC-USD', { bids: [['66999.97', '6']] }, false);
    venue.sendAll('l2_data', [{ type: 'update', product_id: 'BTC-USD', updates: [{ side: 'bid', event_time: '', price_level: '67001.00', new_quantity: '1' }] }]);
  });
  t.equal(feed.logs.filter((l) => l.includes('FEED_SEQUENCE_GAP')).length, 2, 'gaps are logged once per product');
  const frames = feed.words[FEED_FRAMES];
  venue.raw('{"channel":"l2_data","sequence_num":');
  await waitFor('the broken frame', () => feed.words[FEED_FRAMES] > frames);
  venue.update('ETH-USD', { bids: [['3399.97', '7']] });
  await waitFor('ETH-USD after a broken frame', () => feed.published(1, 'bids').some(([p, q]) => p === '3399.97' && q === '7.00000000'));
  sameAsVenue(t, feed, venue, 1, 'after a broken frame');
});
