import { performance } from 'node:perf_hooks';
import { FeedBooks } from '../../src/feeds/feed-books';
import { LevelBook } from '../../src/feeds/level-book';
import { krakenChecksum } from '../../src/feeds/kraken-checksum';
import { bitfinexRawChecksum } from '../../src/feeds/bitfinex-book';
import { OrderBook } from '../../src/engine/order-book';
import type { VenueAdapter } from '../../src/feeds/venue-adapter';
import { feedInstrument, FeedSymbolSpec, FeedVenue } from '../../src/config';
import { toInstrument } from '../../src/model/instruments';
import { ASK, BID } from '../../src/model/book-types';
import { FQ_RESYNCS, feedWord, feedWordsLength } from '../../src/model/feed-words';
import { formatUnits } from '../../src/util/decimal';
import { Random } from '../../src/util/random';
import { runStandalone } from '../standalone';
import { loadAverage, round } from '../system';

/**
 * FeedNormalize: messages/s one adapter turns into bookcast events, per venue, on one thread, as
 * fast as it can (closed loop: this is the ceiling, not a latency figure). The frames are made
 * before timing, as the venue would send them (Kraken: JSON numbers with its CRC32 over the top 10;
 * Binance: 8-decimal strings, consecutive update ids; Coinbase: level2 `l2_data` messages with
 * string levels and consecutive `sequence_num`s; Bitfinex: a raw book of 100–200 orders a
 * side, one order added, resized or removed per frame, sequence numbers, a `cs` checksum frame
 * after every 10 updates), one symbol with a book of 100–200 levels a side, one level changed per
 * frame. Each pass starts from the venue's snapshot (Kraken, Coinbase) or REST
 * answer (Binance), so the adapter's own validation runs on every frame; a resync would mean the
 * frames were wrong, and the result says how many there were (0). Baseline in the same run:
 * JSON.parse of the same frames alone, so the ratio is the adapter's cost over parsing.
 */

const FRAMES = 20_000;
const SPEC: FeedSymbolSpec = { venueSymbol: 'BTC/USD', symbol: 'BTC/USD', tickSize: '0.1', lotSize: '0.00000001', minOrderSize: '0.00000001' };
const BINANCE_SPEC: FeedSymbolSpec = { ...SPEC, venueSymbol: 'BTCUSDT' };

interface Frames {
  start: () => void;
  frames: string[];
}

/** A random walk of one-level changes around 67000.0, kept between 100 and 200 levels a side. */
function walk(book: LevelBook, random: Random, onChange: (side: number, price: number, size: number) => void): void {
  const side = random.int(2);
  const count = book.count(side);
  const offset = 1 + random.int(200);
  const price = side === BID ? 670000 - offset : 670000 + offset;
  const remove = count > 100 && (count >= 200 || random.int(3) === 0) && book.size(side, price) > 0;
  const size = remove ? 0 : 1 + random.int(100_000_000);
  book.set(side, price, size);
  onChange(side, price, size);
}

function seedBook(random: Random): LevelBook {
  const book = new LevelBook();
  for (let i = 1; i <= 150; i++) {
    book.set(BID, 670000 - i, 1 + random.int(100_000_000));
    book.set(ASK, 670000 + i, 1 + random.int(100_000_000));
  }
  return book;
}

function krakenFrames(adapter: () => VenueAdapter): Frames {
  const random = new Random(3);
  const book = seedBook(random);
  const level = (side: number, i: number) => `{"price":${formatUnits(book.priceAt(side, i), 1)},"qty":${formatUnits(book.sizeAt(side, i), 8)}}`;
  const all = (side: number) => Array.from({ length: book.count(side) }, (_, i) => level(side, i)).join(',');
  const snapshot = `{"channel":"book","type":"snapshot","data":[{"symbol":"BTC/USD","bids":[${all(BID)}],"asks":[${all(ASK)}],"checksum":${krakenChecksum(book)}}]}`;
  const frames: string[] = [];
  for (let n = 0; n < FRAMES; n++) {
    walk(book, random, (side, price, size) => {
      const change = `{"price":${formatUnits(price, 1)},"qty":${formatUnits(size, 8)}}`;
      const bids = side === BID ? change : '';
      const asks = side === ASK ? change : '';
      frames.push(`{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[${bids}],"asks":[${asks}],"checksum":${krakenChecksum(book)},"timestamp":"2026-12-02T13:00:00.000000Z"}]}`);
    });
  }
  return {
    frames,
    start: () => {
      adapter().onFrame(snapshot, 1);
    },
  };
}

function binanceFrames(adapter: () => VenueAdapter): Frames {
  const random = new Random(5);
  const book = seedBook(random);
  const pair = (side: number, i: number) => `["${formatUnits(book.priceAt(side, i) * 1e7, 8)}","${formatUnits(book.sizeAt(side, i), 8)}"]`;
  const all = (side: number) => Array.from({ length: book.count(side) }, (_, i) => pair(side, i)).join(',');
  const snapshot = `{"lastUpdateId":1000,"bids":[${all(BID)}],"asks":[${all(ASK)}]}`;
  const frames: string[] = [];
  for (let n = 0; n < FRAMES; n++) {
    walk(book, random, (side, price, size) => {
      const change = `["${formatUnits(price * 1e7, 8)}","${formatUnits(size, 8)}"]`;
      frames.push(`{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":${1001 + n},"u":${1001 + n},"b":[${side === BID ? change : ''}],"a":[${side === ASK ? change : ''}]}}`);
    });
  }
  return {
    frames,
    start: () => {
      const a = adapter();
      a.onOpen(1);
      a.onRest('/api/v3/depth?symbol=BTCUSDT&limit=5000', 200, snapshot, 1);
    },
  };
}

/** Coinbase level2: the whole book as one snapshot event, then one level per update, `sequence_num` counting every message. */
function coinbaseFrames(adapter: () => VenueAdapter): Frames {
  const random = new Random(11);
  const book = seedBook(random);
  const update = (side: number, price: number, size: number) =>
    `{"side":"${side === BID ? 'bid' : 'offer'}","event_time":"2026-12-02T13:00:00.000000Z","price_level":"${formatUnits(price, 1)}","new_quantity":"${formatUnits(size, 8)}"}`;
  const all = [BID, ASK].flatMap((side) => Array.from({ length: book.count(side) }, (_, i) => update(side, book.priceAt(side, i), book.sizeAt(side, i)))).join(',');
  const message = (seq: number, type: string, updates: string) =>
    `{"channel":"l2_data","client_id":"","timestamp":"2026-12-02T13:00:00.000000Z","sequence_num":${seq},"events":[{"type":"${type}","product_id":"BTC-USD","updates":[${updates}]}]}`;
  const snapshot = message(0, 'snapshot', all);
  const frames: string[] = [];
  for (let n = 0; n < FRAMES; n++) walk(book, random, (side, price, size) => frames.push(message(n + 1, 'update', update(side, price, size))));
  return {
    frames,
    start: () => {
      const a = adapter();
      a.onOpen(1);
      a.onFrame(snapshot, 1);
    },
  };
}

/** Bitfinex raw book: orders (venue ids) walking around 67000.0, a checksum frame every 10 updates. */
function bitfinexFrames(adapter: () => VenueAdapter): Frames {
  const random = new Random(7);
  const book = new OrderBook(1, 1, null);
  const ids: [number[], number[]] = [[], []];
  let nextId = 50_000_000_000;
  const wire = (side: number, id: number) => `[${id},${formatUnits(book.orderPrice(id), 1)},${side === BID ? '' : '-'}${formatUnits(book.orderSize(id), 8)}]`;
  const add = (side: number) => {
    const id = nextId++;
    book.add(id, side, side === BID ? 670000 - 1 - random.int(200) : 670000 + 1 + random.int(200), 1 + random.int(100_000_000));
    ids[side].push(id);
    return id;
  };
  for (let i = 0; i < 150; i++) {
    add(BID);
    add(ASK);
  }
  let seq = 1;
  const snapshot = `[17,[${[...ids[BID], ...ids[ASK]].map((id) => wire(book.orderSide(id), id)).join(',')}],${seq++}]`;
  const frames: string[] = [];
  while (frames.length < FRAMES) {
    const side = random.int(2);
    const list = ids[side];
    const op = list.length >= 200 ? 1 : list.length <= 100 ? 0 : random.int(3);
    if (op === 0) {
      frames.push(`[17,${wire(side, add(side))},${seq++}]`);
    } else {
      const at = random.int(list.length);
      const id = list[at];
      if (op === 1) {
        book.delete(id);
        list.splice(at, 1);
        frames.push(`[17,[${id},0,${side === BID ? 1 : -1}],${seq++}]`);
      } else {
        book.replace(id, id, book.orderPrice(id), 1 + random.int(100_000_000));
        frames.push(`[17,${wire(side, id)},${seq++}]`);
      }
    }
    if (frames.length % 11 === 10) frames.push(`[17,"cs",${bitfinexRawChecksum(book, 8)},${seq++}]`);
  }
  return {
    frames,
    start: () => {
      const a = adapter();
      a.onOpen(1);
      a.onFrame('{"event":"subscribed","channel":"book","chanId":17,"symbol":"tBTCUSD","prec":"R0","freq":"F0","len":"250","pair":"BTCUSD"}', 1);
      a.onFrame(snapshot, 1);
    },
  };
}

function measure(venue: FeedVenue, seconds: number) {
  const spec = venue === 'kraken' ? SPEC : venue === 'bitfinex' ? { ...SPEC, venueSymbol: 'tBTCUSD' } : venue === 'coinbase' ? { ...SPEC, venueSymbol: 'BTC-USD' } : BINANCE_SPEC;
  const instruments = [toInstrument(feedInstrument(spec), 0)];
  let events = 0;
  const sink = { event: () => void events++ };
  const words = new Float64Array(feedWordsLength(1));
  let adapter!: VenueAdapter;
  const link = { send: () => undefined, fetch: () => undefined, reconnect: () => undefined };
  const fresh = () => {
    const books = new FeedBooks(venue, instruments, [spec], sink, words, () => undefined);
    adapter = books.connect(link, 1000);
    return adapter;
  };
  fresh();
  const frames = { kraken: krakenFrames, binance: binanceFrames, coinbase: coinbaseFrames, bitfinex: bitfinexFrames }[venue as 'kraken' | 'binance' | 'coinbase' | 'bitfinex'];
  const source = frames(() => adapter);
  const pass = () => {
    fresh();
    source.start();
    for (const frame of source.frames) adapter.onFrame(frame, 1);
  };
  pass(); // warm-up
  events = 0;
  let passes = 0;
  const started = performance.now();
  while (performance.now() - started < (seconds * 1000) / 2) {
    pass();
    passes++;
  }
  const adapterMs = performance.now() - started;
  let parsed = 0;
  const parseStarted = performance.now();
  for (let p = 0; p < passes; p++) for (const frame of source.frames) parsed += JSON.parse(frame) === null ? 0 : 1;
  const parseMs = performance.now() - parseStarted;
  const messages = passes * source.frames.length;
  return {
    venue,
    messages,
    eventsPerMessage: round(events / messages, 3),
    messagesPerSecond: Math.round((messages * 1000) / adapterMs),
    nsPerMessage: Math.round((adapterMs * 1e6) / messages),
    jsonParseOnlyMessagesPerSecond: Math.round((parsed * 1000) / parseMs),
    adapterOverParse: round(adapterMs / parseMs, 2),
    resyncs: words[feedWord(0, FQ_RESYNCS)],
  };
}

export async function run(opts: { seconds: number }): Promise<object> {
  const loadBefore = loadAverage();
  const results = (['kraken', 'binance', 'coinbase', 'bitfinex'] as const).map((venue) => measure(venue, opts.seconds / 4));
  return { name: 'FeedNormalize', framesPerPass: FRAMES, loadAverage: { before: loadBefore, after: loadAverage() }, results };
}

if (require.main === module) runStandalone(run, 6);
