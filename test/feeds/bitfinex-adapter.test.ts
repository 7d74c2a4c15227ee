import t from 'tap';
import { BitfinexVenue, RawOrder } from '../helpers/bitfinex-venue';
import { waitFor } from '../helpers/test-server';
import { FeedBooks } from '../../src/feeds/feed-books';
import { FeedConnection } from '../../src/feeds/feed-connection';
import { completeFeedSymbols } from '../../src/feeds/feed-reference';
import { Backoff } from '../../src/feeds/backoff';
import { feedInstrument, FeedSymbolSpec, parseFeedSymbols } from '../../src/config';
import { toInstrument } from '../../src/model/instruments';
import { ASK, BID } from '../../src/model/book-types';
import { EV_ADD, EV_DELETE, EV_MODIFY, EV_REPLACE, EV_TRADE } from '../../src/model/events';
import { FEED_CONNECTS, FQ_CHECKSUM, FQ_CROSSED, FQ_GAPS, FQ_MALFORMED, FQ_MESSAGES, FQ_RESYNCS, FQ_SYNCED, feedWord, feedWordsLength } from '../../src/model/feed-words';
import { Random } from '../../src/util/random';

const SYMBOLS = ['tBTCUSD', 'tETHUSD'];
const SPEC = 'tBTCUSD@0.1/0.00000001,tETHUSD@0.01/0.00000001';
const PRICE_DECIMALS = [1, 2];
const MID = [67000, 3400];
const TICK = [0.1, 0.01];

interface Feed {
  books: FeedBooks;
  connection: FeedConnection;
  events: number[][];
  word(symbol: number, word: number): number;
  /** The published book, every order as [id, price, signed amount] in units of 1e-8, best first. */
  published(symbol: number): number[][];
}

async function startFeed(venue: BitfinexVenue, depth: number): Promise<Feed> {
  const specs: FeedSymbolSpec[] = await completeFeedSymbols('bitfinex', venue.url, '', parseFeedSymbols(SPEC));
  const instruments = specs.map((s, i) => toInstrument(feedInstrument(s), i));
  const events: number[][] = [];
  const sink = { event: (kind: number, symbol: number, side: number, id: number, price: number, size: number) => void events.push([kind, symbol, side, id, price, size]) };
  const words = new Float64Array(feedWordsLength(instruments.length));
  const books = new FeedBooks('bitfinex', instruments, specs, sink, words, () => undefined);
  const connection = new FeedConnection({ url: venue.url, restUrl: 'http://127.0.0.1:1', quality: books.quality, recorder: null, afterInput: () => undefined, backoff: new Backoff(10, 100) });
  connection.start(books.connect(connection, depth));
  return {
    books,
    connection,
    events,
    word: (symbol, word) => words[feedWord(symbol, word)],
    published(symbol) {
      const book = books.symbols[symbol].orders.published;
      const out: number[][] = [];
      for (const side of [BID, ASK]) {
        for (let level = 0; level < book.levelCount(side); level++) {
          const ids: number[] = [];
          for (let id = book.firstOrderAt(side, level); id !== 0; id = book.nextOrder(id)) ids.push(id);
          ids.sort((a, b) => a - b);
          for (const id of ids) out.push([id, book.orderPrice(id) * 10 ** (8 - PRICE_DECIMALS[symbol]), (side === BID ? 1 : -1) * book.orderSize(id)]);
        }
      }
      return out;
    },
  };
}

/** The venue's window (best `depth` orders per side) in the same form as Feed.published. */
function venueWindow(venue: BitfinexVenue, symbol: number, depth: number): number[][] {
  const units = (v: number) => Math.round(v * 1e8);
  return [...venue.top(SYMBOLS[symbol], 'bids', depth), ...venue.top(SYMBOLS[symbol], 'asks', depth)].map((o) => [o.id, units(o.price), units(o.amount)]);
}

/** Waits until the adapter has read every message the venue sent for the symbol. */
async function caughtUp(feed: Feed, venue: BitfinexVenue, symbol: number, what: string): Promise<void> {
  await waitFor(what, () => feed.word(symbol, FQ_MESSAGES) >= (venue.sent.get(SYMBOLS[symbol]) ?? 0));
}

let nextId = 1_000_000_000;
function seed(venue: BitfinexVenue, symbol: number, orders: number): void {
  const list: RawOrder[] = [];
  for (let i = 1; i <= orders; i++) {
    const price = Number((MID[symbol] - (1 + (i % 17)) * TICK[symbol]).toFixed(PRICE_DECIMALS[symbol]));
    list.push({ id: nextId++, price, amount: Number((0.1 + i / 1000).toFixed(8)) });
    list.push({ id: nextId++, price: Number((MID[symbol] + (1 + (i % 13)) * TICK[symbol]).toFixed(PRICE_DECIMALS[symbol])), amount: -Number((0.05 + i / 10000).toFixed(8)) });
  }
  venue.set(SYMBOLS[symbol], list);
}

/** A random change: a new order, an amount up or down, a price move, a removal, inside and beyond the window. */
function randomChange(venue: BitfinexVenue, random: Random, symbol: number): RawOrder {
  const book = [...venue.books.get(SYMBOLS[symbol])!.values()];
  const pick = book[random.int(book.length)];
  const side = pick.amount > 0 ? 1 : -1;
  const price = (offset: number) => Number((MID[symbol] - side * offset * TICK[symbol]).toFixed(PRICE_DECIMALS[symbol]));
  switch (random.int(5)) {
    case 0:
      return { id: nextId++, price: price(1 + random.int(20)), amount: side * Number((0.001 + random.int(5000) / 1000).toFixed(8)) };
    case 1:
      return { ...pick, amount: side * Number((Math.abs(pick.amount) * 2).toFixed(8)) };
    case 2:
      return { ...pick, amount: side * Number((Math.abs(pick.amount) / 2).toFixed(8)) || side * 0.00000001 };
    case 3:
      return { ...pick, price: price(1 + random.int(20)) };
    default:
      return { ...pick, amount: 0 };
  }
}

t.test('Bitfinex symbols: the name from the pair, tick and lot only after @', async (t) => {
  t.same(await completeFeedSymbols('bitfinex', '', '', parseFeedSymbols('tBTCUSD@0.1/0.00000001,tTESTBTC:TESTUSD=TB/TU@1/0.0001')), [
    { venueSymbol: 'tBTCUSD', symbol: 'BTC/USD', tickSize: '0.1', lotSize: '0.00000001', minOrderSize: '0.00000001' },
    { venueSymbol: 'tTESTBTC:TESTUSD', symbol: 'TB/TU', tickSize: '1', lotSize: '0.0001', minOrderSize: '0.0001' },
  ]);
  await t.rejects(completeFeedSymbols('bitfinex', '', '', parseFeedSymbols('tBTCUSD')), { code: 'FEED_REFERENCE_FAILED' });
  await t.rejects(completeFeedSymbols('bitfinex', '', '', parseFeedSymbols('BTCUSD=BTC/USD')), { code: 'FEED_REFERENCE_FAILED' });
});

t.test('the published L3 book equals Bitfinex\'s raw book, order by order, after every change', async (t) => {
  const depth = 25;
  const venue = await BitfinexVenue.start(SYMBOLS);
  seed(venue, 0, 40);
  seed(venue, 1, 40);
  const feed = await startFeed(venue, depth);
  t.teardown(async () => {
    await feed.connection.stop();
    await venue.close();
  });
  await waitFor('both snapshots', () => feed.word(0, FQ_SYNCED) === 1 && feed.word(1, FQ_SYNCED) === 1);
  const conf = venue.received.find((m) => m.event === 'conf');
  t.equal(conf?.flags, 65536 + 131072, 'checksums and sequence numbers asked for');
  t.ok(venue.received.some((m) => m.event === 'subscribe' && m.channel === 'book' && m.prec === 'R0' && m.len === '25'), 'raw book subscribed at the depth');
  for (const s of [0, 1]) t.same(feed.published(s), venueWindow(venue, s, depth), `snapshot: ${SYMBOLS[s]} equals the venue's window`);
  const random = new Random(11);
  const kinds = new Set<number>();
  for (let n = 0; n < 300; n++) {
    const s = random.int(2);
    const before = feed.events.length;
    venue.change(SYMBOLS[s], randomChange(venue, random, s));
    await caughtUp(feed, venue, s, `change ${n}`);
    for (const e of feed.events.slice(before)) kinds.add(e[0]);
    t.same(feed.published(s), venueWindow(venue, s, depth), `change ${n}: ${SYMBOLS[s]} equals the venue's window`);
  }
  t.same([...kinds].sort(), [EV_ADD, EV_DELETE, EV_MODIFY, EV_REPLACE].sort(), 'adds, deletes, modifies and replaces were all exercised');
  for (const s of [0, 1]) {
    t.equal(feed.word(s, FQ_CHECKSUM) + feed.word(s, FQ_GAPS) + feed.word(s, FQ_CROSSED) + feed.word(s, FQ_MALFORMED), 0, `${SYMBOLS[s]}: every checksum held, no gap`);
    t.equal(feed.word(s, FQ_RESYNCS), 0, `${SYMBOLS[s]}: no resync`);
  }
  t.ok(feed.events.every((e) => e[0] === EV_TRADE || e[3] >= 1_000_000_000), 'bookcast order ids are Bitfinex\'s order ids');
});

t.test('each fault is detected, counted and repaired from a fresh snapshot diffed into the book', async (t) => {
  const depth = 25;
  const venue = await BitfinexVenue.start(SYMBOLS);
  seed(venue, 0, 30);
  seed(venue, 1, 30);
  const feed = await startFeed(venue, depth);
  t.teardown(async () => {
    await feed.connection.stop();
    await venue.close();
  });
  await waitFor('both snapshots', () => feed.word(0, FQ_SYNCED) === 1 && feed.word(1, FQ_SYNCED) === 1);
  const random = new Random(5);
  const faults: [('checksum' | 'lose' | 'gap' | 'malformed'), number][] = [['checksum', FQ_CHECKSUM], ['lose', FQ_CHECKSUM], ['gap', FQ_GAPS], ['malformed', FQ_MALFORMED]];
  for (const [fault, word] of faults) {
    const problems = feed.word(0, word);
    const resyncs = feed.word(0, FQ_RESYNCS);
    const subscribes = venue.bookSubscribes.get('tBTCUSD')!;
    venue.change('tBTCUSD', randomChange(venue, random, 0), fault);
    await waitFor(`${fault}: detected`, () => feed.word(0, word) > problems && feed.word(0, FQ_RESYNCS) > resyncs);
    await waitFor(`${fault}: resubscribed`, () => venue.bookSubscribes.get('tBTCUSD')! > subscribes && feed.word(0, FQ_SYNCED) === 1);
    await caughtUp(feed, venue, 0, `${fault}: caught up`);
    t.same(feed.published(0), venueWindow(venue, 0, depth), `${fault}: repaired to the venue's window`);
    // The book keeps moving after the repair, and stays equal.
    venue.change('tBTCUSD', randomChange(venue, random, 0));
    await caughtUp(feed, venue, 0, `${fault}: next change`);
    t.same(feed.published(0), venueWindow(venue, 0, depth), `${fault}: equal after the next change`);
  }
  t.ok(venue.unsubscribes >= faults.length, 'each repair unsubscribed the broken channel');

  // While out of sync the venue moves: the repair emits only what differs.
  const diffs = feed.events.length;
  const changed = randomChange(venue, random, 1);
  venue.change('tETHUSD', changed, 'lose');
  await waitFor('lost update: detected', () => feed.word(1, FQ_CHECKSUM) === 1 && feed.word(1, FQ_SYNCED) === 1);
  await caughtUp(feed, venue, 1, 'lost update: caught up');
  t.same(feed.published(1), venueWindow(venue, 1, depth), 'lost update: repaired');
  t.ok(feed.events.length - diffs <= 3, `the repair emitted only the difference (${feed.events.length - diffs} events)`);

  // A crossing order: the book is not published crossed; the repair's snapshot (the venue's real book) is.
  const crossed = feed.word(1, FQ_CROSSED);
  venue.raw('tETHUSD', { id: nextId++, price: MID[1] + 50 * TICK[1], amount: 1 });
  await waitFor('crossed: detected', () => feed.word(1, FQ_CROSSED) > crossed);
  venue.set('tETHUSD', [{ id: nextId - 1, price: 0, amount: 0 }]);
  await waitFor('crossed: resynced', () => feed.word(1, FQ_SYNCED) === 1);
  await caughtUp(feed, venue, 1, 'crossed: caught up');
  t.same(feed.published(1), venueWindow(venue, 1, depth), 'crossed: repaired');

  // A dropped connection and a venue asking clients to reconnect: both books come back equal.
  for (const how of ['drop', 'info 20051']) {
    const connects = feed.books.quality.words[FEED_CONNECTS];
    if (how === 'drop') venue.dropAll();
    else venue.askReconnect();
    for (const s of [0, 1]) venue.set(SYMBOLS[s], [randomChange(venue, random, s)]);
    await waitFor(`${how}: reconnected and synced`, () => feed.books.quality.words[FEED_CONNECTS] > connects && feed.word(0, FQ_SYNCED) === 1 && feed.word(1, FQ_SYNCED) === 1);
    for (const s of [0, 1]) {
      await caughtUp(feed, venue, s, `${how}: caught up`);
      t.same(feed.published(s), venueWindow(venue, s, depth), `${how}: ${SYMBOLS[s]} equal after reconnecting`);
    }
  }
});

t.test('trades print once each (te, not again on tu or in a later snapshot), taker side from the amount\'s sign', async (t) => {
  const venue = await BitfinexVenue.start(SYMBOLS);
  seed(venue, 0, 5);
  seed(venue, 1, 5);
  venue.trade('tBTCUSD', 66999, 0.5); // before bookcast: only in the subscription's snapshot
  const feed = await startFeed(venue, 25);
  t.teardown(async () => {
    await feed.connection.stop();
    await venue.close();
  });
  await waitFor('synced', () => feed.word(0, FQ_SYNCED) === 1 && feed.word(1, FQ_SYNCED) === 1);
  await caughtUp(feed, venue, 0, 'trade snapshot read');
  venue.trade('tBTCUSD', 67000.1, 0.25);
  venue.trade('tETHUSD', 3399.99, -1.5);
  venue.heartbeat();
  await caughtUp(feed, venue, 0, 'BTC trades read');
  await caughtUp(feed, venue, 1, 'ETH trades read');
  const trades = () => feed.events.filter((e) => e[0] === EV_TRADE).map((e) => [e[1], e[2], e[4], e[5]]);
  t.same(trades(), [[0, BID, 670001, 25000000], [1, ASK, 339999, 150000000]], 'one print each, the buyer took the BTC trade, the seller the ETH one');
  venue.dropAll();
  await waitFor('reconnected', () => feed.books.quality.words[FEED_CONNECTS] === 2 && feed.word(0, FQ_SYNCED) === 1);
  await caughtUp(feed, venue, 0, 'trade snapshot read again');
  t.equal(trades().length, 2, 'the trades snapshot of the new connection prints nothing again');
  t.equal(feed.word(0, FQ_MALFORMED), 0, 'nothing unreadable');
});
