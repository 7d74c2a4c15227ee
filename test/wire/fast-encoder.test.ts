import t, { type Test } from 'tap';
import { isDeepStrictEqual } from 'node:util';
import { FastEncoder, TICKER_LAST, TICKER_VALUES, TickerTemplate } from '../../src/wire/fast-encoder';
import { MessageEncoder } from '../../src/wire/message-encoder';
import { decodeMessage, type DecodedMessage } from '../../src/wire/message-decoder';
import { verifyFrame } from '../../src/wire/frame-verifier';
import { prng } from './wire-fixtures';

const RANDOM_MESSAGES = 6000;
const FILL = 0xa5;

type Rand = () => number;

interface Case {
  /** The reference: MessageEncoder's bytes, copied out of its builder. */
  expected: Uint8Array;
  /** What the decoder must read from the message. */
  decoded: DecodedMessage;
  length: (fast: FastEncoder) => number;
  /** Writes the message at `at`, given the length the length function returned. */
  write: (fast: FastEncoder, target: Uint8Array, at: number, length: number) => void;
}

const text = new TextDecoder();
const reference = new MessageEncoder();

/** A table field of -0 is left out like 0 and reads back as 0; inside a struct it stays -0. */
const plus0 = (x: number): number => x + 0;

/** A value for a double field: 0 (or -0, which the Builder also leaves out) a third of the time. */
function double(rand: Rand): number {
  const r = rand();
  if (r < 0.3) return 0;
  if (r < 0.35) return -0;
  if (r < 0.7) return 1 + Math.floor(rand() * 1000);
  return Math.floor(rand() * 2 ** 53);
}

function symbolOf(rand: Rand, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = 0x21 + Math.floor(rand() * 94); // printable ASCII
  return bytes;
}

/** Columns carry junk past `count`, which must never reach the wire. */
function column(rand: Rand, count: number): Float64Array {
  const a = new Float64Array(count + 2).fill(12345.5);
  for (let i = 0; i < count; i++) a[i] = double(rand);
  return a;
}

function eventColumn(rand: Rand, count: number): Uint8Array {
  const a = new Uint8Array(count + 2).fill(0xee);
  for (let i = 0; i < count; i++) a[i] = Math.floor(rand() * 3);
  return a;
}

function l2UpdateCase(rand: Rand, symbol: Uint8Array, sequence: number, timestamp: number, depth: number, prevSequence: number, checksum: number, bidCount: number, askCount: number): Case {
  const bidPrices = column(rand, bidCount);
  const bidSizes = column(rand, bidCount);
  const askPrices = column(rand, askCount);
  const askSizes = column(rand, askCount);
  const levels = (prices: Float64Array, sizes: Float64Array, count: number) => Array.from({ length: count }, (_, i) => [prices[i], sizes[i]]);
  return {
    expected: reference
      .l2Update(symbol, sequence, timestamp, depth, prevSequence, checksum, bidPrices, bidSizes, bidCount, askPrices, askSizes, askCount)
      .slice(),
    decoded: {
      type: 'l2_update',
      symbol: text.decode(symbol),
      sequence: plus0(sequence),
      timestamp: plus0(timestamp),
      depth,
      prevSequence: plus0(prevSequence),
      checksum,
      bids: levels(bidPrices, bidSizes, bidCount),
      asks: levels(askPrices, askSizes, askCount),
    } as DecodedMessage,
    length: (fast) => fast.l2UpdateLength(symbol, sequence, timestamp, depth, prevSequence, checksum, bidCount, askCount),
    write: (fast, target, at, length) =>
      fast.writeL2Update(target, at, length, symbol, sequence, timestamp, depth, prevSequence, checksum, bidPrices, bidSizes, bidCount, askPrices, askSizes, askCount),
  };
}

function l3UpdateCase(rand: Rand, symbol: Uint8Array, sequence: number, timestamp: number, prevSequence: number, bidCount: number, askCount: number): Case {
  const side = (count: number) => ({ ids: column(rand, count), prices: column(rand, count), sizes: column(rand, count), events: eventColumn(rand, count) });
  const bids = side(bidCount);
  const asks = side(askCount);
  const changes = (s: ReturnType<typeof side>, count: number) =>
    Array.from({ length: count }, (_, i) => ({ orderId: s.ids[i], price: s.prices[i], size: s.sizes[i], event: s.events[i] }));
  return {
    expected: reference
      .l3Update(symbol, sequence, timestamp, prevSequence, bids.ids, bids.prices, bids.sizes, bids.events, bidCount, asks.ids, asks.prices, asks.sizes, asks.events, askCount)
      .slice(),
    decoded: {
      type: 'l3_update',
      symbol: text.decode(symbol),
      sequence: plus0(sequence),
      timestamp: plus0(timestamp),
      prevSequence: plus0(prevSequence),
      bids: changes(bids, bidCount),
      asks: changes(asks, askCount),
    } as DecodedMessage,
    length: (fast) => fast.l3UpdateLength(symbol, sequence, timestamp, prevSequence, bidCount, askCount),
    write: (fast, target, at, length) =>
      fast.writeL3Update(target, at, length, symbol, sequence, timestamp, prevSequence, bids.ids, bids.prices, bids.sizes, bids.events, bidCount, asks.ids, asks.prices, asks.sizes, asks.events, askCount),
  };
}

function tradeCase(symbol: Uint8Array, sequence: number, timestamp: number, tradeId: number, price: number, size: number, side: number, makerOrderId: number): Case {
  return {
    expected: reference.trade(symbol, sequence, timestamp, tradeId, price, size, side, makerOrderId).slice(),
    decoded: {
      type: 'trade',
      symbol: text.decode(symbol),
      sequence: plus0(sequence),
      timestamp: plus0(timestamp),
      tradeId: plus0(tradeId),
      price: plus0(price),
      size: plus0(size),
      side,
      makerOrderId: plus0(makerOrderId),
    } as DecodedMessage,
    length: (fast) => fast.tradeLength(symbol, sequence, timestamp, tradeId, price, size, side, makerOrderId),
    write: (fast, target, at, length) => fast.writeTrade(target, at, length, symbol, sequence, timestamp, tradeId, price, size, side, makerOrderId),
  };
}

/** f: bid, bidSize, ask, askSize, last, lastSize, volume24h, high24h, low24h, open24h, volume24hRest. */
function tickerCase(symbol: Uint8Array, sequence: number, timestamp: number, f: readonly number[]): Case {
  return {
    expected: reference.ticker(symbol, sequence, timestamp, f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9], f[10]).slice(),
    decoded: {
      type: 'ticker',
      symbol: text.decode(symbol),
      sequence: plus0(sequence),
      timestamp: plus0(timestamp),
      bid: plus0(f[0]),
      bidSize: plus0(f[1]),
      ask: plus0(f[2]),
      askSize: plus0(f[3]),
      last: plus0(f[4]),
      lastSize: plus0(f[5]),
      volume24h: plus0(f[6]),
      high24h: plus0(f[7]),
      low24h: plus0(f[8]),
      open24h: plus0(f[9]),
      volume24hRest: plus0(f[10]),
    } as DecodedMessage,
    length: (fast) => fast.tickerLength(symbol, sequence, timestamp, f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9], f[10]),
    write: (fast, target, at, length) => fast.writeTicker(target, at, length, symbol, sequence, timestamp, f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9], f[10]),
  };
}

/** f: start, open, high, low, close, volume, notional, count, volumeRest, notionalRest. */
function candleCase(symbol: Uint8Array, sequence: number, timestamp: number, interval: number, f: readonly number[], final: boolean): Case {
  return {
    expected: reference.candle(symbol, sequence, timestamp, interval, f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], final, f[8], f[9]).slice(),
    decoded: {
      type: 'candle',
      symbol: text.decode(symbol),
      sequence: plus0(sequence),
      timestamp: plus0(timestamp),
      interval,
      start: plus0(f[0]),
      open: plus0(f[1]),
      high: plus0(f[2]),
      low: plus0(f[3]),
      close: plus0(f[4]),
      volume: plus0(f[5]),
      notional: plus0(f[6]),
      count: plus0(f[7]),
      volumeRest: plus0(f[8]),
      notionalRest: plus0(f[9]),
      final,
    } as DecodedMessage,
    length: (fast) => fast.candleLength(symbol, sequence, timestamp, interval, f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], final, f[8], f[9]),
    write: (fast, target, at, length) => fast.writeCandle(target, at, length, symbol, sequence, timestamp, interval, f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], final, f[8], f[9]),
  };
}

/**
 * Two views of one shared buffer at different offsets, and a second buffer, so the encoder's
 * per-buffer view cache and its use of the target's offset are exercised as they alternate.
 */
function targets(size: number): Uint8Array[] {
  const shared = new SharedArrayBuffer(2 * size + 512);
  return [new Uint8Array(shared, 512, size), new Uint8Array(shared, size + 512 + 8, size - 8), new Uint8Array(new SharedArrayBuffer(size))];
}

/**
 * Writes each case at a random offset (8-aligned mostly, as the ring claims, but not always)
 * into one of the targets, all full of FILL, then checks that the length function and the
 * write agree with the Builder's length, the bytes are the Builder's, nothing outside the
 * message changed, and the message verifies and decodes to the inputs. Stops after 5 failures.
 */
function check(t: Test, what: string, rand: Rand, cases: Iterable<Case>, targetSize = 2048): void {
  const fast = new FastEncoder();
  const all = targets(targetSize);
  for (const target of all) target.fill(FILL);
  let count = 0;
  let failures = 0;
  for (const c of cases) {
    const target = all[Math.floor(rand() * all.length)];
    const room = target.length - c.expected.length;
    const at = rand() < 0.8 ? Math.floor(rand() * (room >> 3)) << 3 : Math.floor(rand() * room);
    const written = c.length(fast);
    c.write(fast, target, at, written);
    const bytes = target.subarray(at, at + written);
    let problem = '';
    if (written !== c.expected.length) problem = `length function said ${written}, the Builder made ${c.expected.length}`;
    else if (Buffer.compare(bytes, c.expected) !== 0) problem = 'bytes differ from the Builder';
    else problem = outsideChanged(all, target, at, written);
    if (problem === '') {
      verifyFrame(bytes);
      if (!isDeepStrictEqual(decodeMessage(bytes), c.decoded)) problem = 'decodes to something else';
    }
    if (problem !== '') {
      t.fail(`${what}, message ${count} at ${at}: ${problem}`);
      if (++failures === 5) break;
    }
    target.fill(FILL, at, at + written);
    count++;
  }
  t.equal(failures, 0, `${count} ${what} identical to the Builder's`);
}

function outsideChanged(all: readonly Uint8Array[], target: Uint8Array, at: number, written: number): string {
  for (let k = 0; k < all.length; k++) {
    const other = all[k];
    for (let i = 0; i < other.length; i++) {
      if (other[i] !== FILL && !(other === target && i >= at && i < at + written)) return `byte ${i} of target ${k}, outside the message, changed`;
    }
  }
  return '';
}

/** 2^bits patterns: bit i of the pattern says whether field i is non-zero. */
function* patterns(bits: number): Generator<(i: number) => boolean> {
  for (let p = 0; p < 1 << bits; p++) yield (i) => ((p >> i) & 1) !== 0;
}

const MAX_SYMBOL = 12;

t.test('l2Update: random values, symbols of 1..12 bytes, 0..8 levels a side', async (t) => {
  const rand = prng(1);
  function* cases(): Generator<Case> {
    for (let n = 0; n < RANDOM_MESSAGES; n++) {
      const depth = rand() < 0.3 ? 0 : Math.floor(rand() * 65536);
      const checksum = rand() < 0.3 ? 0 : Math.floor(rand() * 2 ** 32);
      yield l2UpdateCase(rand, symbolOf(rand, 1 + Math.floor(rand() * MAX_SYMBOL)), double(rand), double(rand), depth, double(rand), checksum,
        Math.floor(rand() * 9), Math.floor(rand() * 9));
    }
  }
  check(t, 'random l2Updates', rand, cases());
});

t.test('l3Update: random values, symbols of 1..12 bytes, 0..4 changes a side', async (t) => {
  const rand = prng(2);
  function* cases(): Generator<Case> {
    for (let n = 0; n < RANDOM_MESSAGES; n++) {
      yield l3UpdateCase(rand, symbolOf(rand, 1 + Math.floor(rand() * MAX_SYMBOL)), double(rand), double(rand), double(rand),
        Math.floor(rand() * 5), Math.floor(rand() * 5));
    }
  }
  check(t, 'random l3Updates', rand, cases());
});

t.test('trade: random values, symbols of 1..12 bytes', async (t) => {
  const rand = prng(3);
  function* cases(): Generator<Case> {
    for (let n = 0; n < RANDOM_MESSAGES; n++) {
      yield tradeCase(symbolOf(rand, 1 + Math.floor(rand() * MAX_SYMBOL)), double(rand), double(rand), double(rand), double(rand), double(rand),
        rand() < 0.5 ? 0 : 1, double(rand));
    }
  }
  check(t, 'random trades', rand, cases());
});

t.test('ticker: random values, symbols of 1..12 bytes', async (t) => {
  const rand = prng(4);
  function* cases(): Generator<Case> {
    for (let n = 0; n < RANDOM_MESSAGES; n++) {
      const f = Array.from({ length: 11 }, () => double(rand));
      yield tickerCase(symbolOf(rand, 1 + Math.floor(rand() * MAX_SYMBOL)), double(rand), double(rand), f);
    }
  }
  check(t, 'random tickers', rand, cases());
});

/** A double that is non-zero nine times in ten: a symbol's ticker fields mostly stay present. */
function mostlyPresent(rand: Rand): number {
  return rand() < 0.9 ? 1 + Math.floor(rand() * 2 ** 40) : double(rand);
}

t.test('ticker templates: each ticker made from its symbol\'s last, as the Builder makes it', async (t) => {
  const rand = prng(12);
  const symbols = [1, 4, 7, 12].map((n) => symbolOf(rand, n));
  const templates = symbols.map(() => new TickerTemplate());
  // Per symbol: the numbers from TICKER_LAST on, and the stamp the caller gives them.
  const later = symbols.map(() => ({ stamp: 0, f: Array.from({ length: TICKER_VALUES - TICKER_LAST }, () => mostlyPresent(rand)) }));
  const values = new Float64Array(TICKER_VALUES);
  let fromQuote = 0;
  let full = 0;
  function* cases(): Generator<Case> {
    for (let n = 0; n < RANDOM_MESSAGES; n++) {
      const k = Math.floor(rand() * symbols.length);
      const [symbol, template, mine] = [symbols[k], templates[k], later[k]];
      // A trade or the window moving: new figures under a new stamp, now and then one of them 0.
      if (rand() < 0.2) mine.f = mine.f.map(() => mostlyPresent(rand)), mine.stamp++;
      const quote = [mostlyPresent(rand), mostlyPresent(rand), mostlyPresent(rand), mostlyPresent(rand)];
      const sequence = rand() < 0.02 ? 0 : n + 1;
      const timestamp = mostlyPresent(rand);
      yield {
        ...tickerCase(symbol, sequence, timestamp, [...quote, ...mine.f]),
        length: (fast) => {
          values.set([sequence, timestamp, ...quote]);
          // What the emitter's shared array holds there: another symbol's figures.
          values.fill(12345.5, TICKER_LAST);
          let length = fast.tickerQuote(template, symbol, values, mine.stamp);
          if (length >= 0) fromQuote++;
          else {
            full++;
            values.set(mine.f, TICKER_LAST);
            length = fast.tickerFull(template, symbol, values, mine.stamp);
          }
          return length;
        },
        write: (_fast, target, at) => target.set(template.bytes, at),
      };
    }
  }
  check(t, 'tickers from templates', rand, cases());
  t.ok(fromQuote > 1000 && full > 1000, `both ways taken: ${fromQuote} from the quote alone, ${full} from every number`);
});

t.test('candle: random values, symbols of 1..12 bytes, any interval byte', async (t) => {
  const rand = prng(10);
  function* cases(): Generator<Case> {
    for (let n = 0; n < RANDOM_MESSAGES; n++) {
      const interval = rand() < 0.3 ? 0 : Math.floor(rand() * 256);
      const f = Array.from({ length: 10 }, () => double(rand));
      yield candleCase(symbolOf(rand, 1 + Math.floor(rand() * MAX_SYMBOL)), double(rand), double(rand), interval, f, rand() < 0.5);
    }
  }
  check(t, 'random candles', rand, cases());
});

// Every layout the scalars can make: each field zero or not, at every symbol length from 0 (the
// Builder accepts an empty one) to 12, which covers every padding the string can need.

t.test('l2Update: every zero pattern of sequence, timestamp, depth, prevSequence, checksum', async (t) => {
  const rand = prng(5);
  function* cases(): Generator<Case> {
    for (let length = 0; length <= MAX_SYMBOL; length++) {
      for (const on of patterns(5)) {
        for (const [bidCount, askCount] of [[0, 0], [1, 0], [0, 1], [2, 3]]) {
          yield l2UpdateCase(rand, symbolOf(rand, length), on(0) ? 1001 : 0, on(1) ? 1_795_307_222_123_456 : 0, on(2) ? 10 : 0,
            on(3) ? 1000 : 0, on(4) ? 0x9e3779b1 : 0, bidCount, askCount);
        }
      }
    }
  }
  check(t, 'l2Update layouts', rand, cases());
});

t.test('l3Update: every zero pattern of sequence, timestamp, prevSequence', async (t) => {
  const rand = prng(6);
  function* cases(): Generator<Case> {
    for (let length = 0; length <= MAX_SYMBOL; length++) {
      for (const on of patterns(3)) {
        for (const [bidCount, askCount] of [[0, 0], [1, 0], [0, 1], [2, 3]]) {
          yield l3UpdateCase(rand, symbolOf(rand, length), on(0) ? 1001 : 0, on(1) ? 1_795_307_222_123_456 : 0, on(2) ? 1000 : 0, bidCount, askCount);
        }
      }
    }
  }
  check(t, 'l3Update layouts', rand, cases());
});

t.test('trade: every zero pattern of its seven scalars', async (t) => {
  const rand = prng(7);
  function* cases(): Generator<Case> {
    for (let length = 0; length <= MAX_SYMBOL; length++) {
      for (const on of patterns(7)) {
        yield tradeCase(symbolOf(rand, length), on(0) ? 1001 : 0, on(1) ? 1_795_307_222_123_456 : 0, on(2) ? 77 : 0, on(3) ? 670_001 : 0,
          on(4) ? 12_345 : 0, on(5) ? 1 : 0, on(6) ? 987_654 : 0);
      }
    }
  }
  check(t, 'trade layouts', rand, cases());
});

t.test('ticker: every zero pattern of its thirteen scalars', async (t) => {
  const rand = prng(8);
  function* cases(): Generator<Case> {
    for (let length = 0; length <= MAX_SYMBOL; length++) {
      for (const on of patterns(13)) {
        const f = [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12].map((i) => (on(i) ? 670_000 + i : 0));
        yield tickerCase(symbolOf(rand, length), on(0) ? 1001 : 0, on(1) ? 1_795_307_222_123_456 : 0, f);
      }
    }
  }
  check(t, 'ticker layouts', rand, cases());
});

t.test('candle: every zero pattern of its fourteen scalars, final included', async (t) => {
  const rand = prng(11);
  function* cases(): Generator<Case> {
    for (let length = 0; length <= MAX_SYMBOL; length++) {
      for (const on of patterns(14)) {
        const f = [3, 4, 5, 6, 7, 8, 9, 10, 12, 13].map((i) => (on(i) ? 670_000 + i : 0));
        yield candleCase(symbolOf(rand, length), on(0) ? 1001 : 0, on(1) ? 1_795_307_222_123_456 : 0, on(2) ? 5 : 0, f, on(11));
      }
    }
  }
  check(t, 'candle layouts', rand, cases());
});

t.test('large updates: 1000 levels and 500 order changes a side', async (t) => {
  const rand = prng(9);
  const symbol = new TextEncoder().encode('BTC/USD');
  const cases = [
    l2UpdateCase(rand, symbol, 5, 6, 1000, 4, 9, 1000, 1000),
    l2UpdateCase(rand, symbol, 5, 6, 1000, 4, 9, 1000, 0),
    l3UpdateCase(rand, symbol, 5, 6, 4, 500, 500),
    l3UpdateCase(rand, symbol, 5, 6, 4, 0, 500),
  ];
  check(t, 'large updates', rand, cases, 40_000);
});
