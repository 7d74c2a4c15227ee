import { MessageEncoder } from '../../src/wire/message-encoder';
import type { DecodedLevel, DecodedMessage, DecodedOrder, DecodedOrderChange } from '../../src/wire/message-decoder';

/** Deterministic PRNG (mulberry32) so failures reproduce. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const utf8 = new TextEncoder();

function column<T>(rows: readonly T[], pick: (row: T) => number): Float64Array {
  return Float64Array.from(rows, pick);
}

function events(rows: readonly DecodedOrderChange[]): Uint8Array {
  return Uint8Array.from(rows, (r) => r.event);
}

/**
 * Encodes a message given in decoded form, so a round trip is decodeMessage(encode(m)) ≡ m.
 * The column arrays are padded with junk past the count, which must never reach the wire.
 */
export function encode(encoder: MessageEncoder, m: DecodedMessage): Uint8Array {
  const pad = <T extends Float64Array | Uint8Array>(a: T): T => {
    const out = new (a.constructor as new (n: number) => T)(a.length + 3);
    out.set(a);
    out.fill(99, a.length);
    return out;
  };
  const prices = (l: readonly DecodedLevel[]) => pad(column(l, (r) => r[0]));
  const sizes = (l: readonly DecodedLevel[]) => pad(column(l, (r) => r[1]));
  const ids = (o: readonly DecodedOrder[]) => pad(column(o, (r) => r.orderId));
  const oPrices = (o: readonly DecodedOrder[]) => pad(column(o, (r) => r.price));
  const oSizes = (o: readonly DecodedOrder[]) => pad(column(o, (r) => r.size));
  switch (m.type) {
    case 'l2_snapshot':
      return encoder.l2Snapshot(utf8.encode(m.symbol), m.sequence, m.timestamp, m.depth, m.priceDecimals, m.sizeDecimals, m.checksum,
        prices(m.bids), sizes(m.bids), m.bids.length, prices(m.asks), sizes(m.asks), m.asks.length);
    case 'l2_update':
      return encoder.l2Update(utf8.encode(m.symbol), m.sequence, m.timestamp, m.depth, m.prevSequence, m.checksum,
        prices(m.bids), sizes(m.bids), m.bids.length, prices(m.asks), sizes(m.asks), m.asks.length);
    case 'l3_snapshot':
      return encoder.l3Snapshot(utf8.encode(m.symbol), m.sequence, m.timestamp, m.priceDecimals, m.sizeDecimals,
        ids(m.bids), oPrices(m.bids), oSizes(m.bids), m.bids.length, ids(m.asks), oPrices(m.asks), oSizes(m.asks), m.asks.length);
    case 'l3_update':
      return encoder.l3Update(utf8.encode(m.symbol), m.sequence, m.timestamp, m.prevSequence,
        ids(m.bids), oPrices(m.bids), oSizes(m.bids), pad(events(m.bids)), m.bids.length,
        ids(m.asks), oPrices(m.asks), oSizes(m.asks), pad(events(m.asks)), m.asks.length);
    case 'trade':
      return encoder.trade(utf8.encode(m.symbol), m.sequence, m.timestamp, m.tradeId, m.price, m.size, m.side, m.makerOrderId);
    case 'ticker':
      return encoder.ticker(utf8.encode(m.symbol), m.sequence, m.timestamp, m.bid, m.bidSize, m.ask, m.askSize, m.last, m.lastSize,
        m.volume24h, m.high24h, m.low24h, m.open24h, m.volume24hRest);
    case 'candle':
      return encoder.candle(utf8.encode(m.symbol), m.sequence, m.timestamp, m.interval, m.start, m.open, m.high, m.low, m.close,
        m.volume, m.notional, m.count, m.final, m.volumeRest, m.notionalRest);
    case 'heartbeat':
      return encoder.heartbeat(m.timestamp, m.subscriptions);
    case 'subscribed':
      return encoder.subscribed(m.timestamp, m.channels, m.symbols, m.depth);
    case 'error':
      return encoder.error(m.timestamp, m.code, m.message);
  }
}

export const T0 = 1_795_307_222_123_456; // 2026-11-22T00:27:02.123456Z

/** Best first: bids descending from `best`, asks ascending. */
export function levels(count: number, best: number, step: number, seed = 1): DecodedLevel[] {
  const rand = prng(seed);
  return Array.from({ length: count }, (_, i): DecodedLevel => [best + i * step, 1 + Math.floor(rand() * 1e9)]);
}

export function ordersOf(count: number, best: number, step: number, seed = 2): DecodedOrder[] {
  const rand = prng(seed);
  return Array.from({ length: count }, (_, i) => ({ orderId: 1 + Math.floor(rand() * 2 ** 52), price: best + i * step, size: 1 + Math.floor(rand() * 1e9) }));
}

export function changesOf(count: number, best: number, step: number, seed = 3): DecodedOrderChange[] {
  return ordersOf(count, best, step, seed).map((o, i) => ({ event: i % 3, ...o }));
}

/** One message of every type, with every field away from its default. */
export function everyType(): DecodedMessage[] {
  return [
    { type: 'l2_snapshot', symbol: 'BTC/USD', sequence: 12, timestamp: T0, depth: 10, priceDecimals: 1, sizeDecimals: 5, checksum: 0xdeadbeef,
      bids: [[670001, 50000], [670000, 1]], asks: [[670002, 7]] },
    { type: 'l2_update', symbol: 'BTC/USD', sequence: 13, timestamp: T0 + 1, depth: 10, prevSequence: 12, checksum: 456,
      bids: [[670001, 0]], asks: [[670003, 2 ** 53 - 1], [670004, 3]] },
    { type: 'l3_snapshot', symbol: 'ETH/USD', sequence: 2 ** 53 - 1, timestamp: T0 + 2, priceDecimals: 2, sizeDecimals: 4,
      bids: [{ orderId: 5, price: 340000, size: 10 }], asks: [{ orderId: 2 ** 52 + 1, price: 340001, size: 20 }, { orderId: 6, price: 340002, size: 30 }] },
    { type: 'l3_update', symbol: 'ETH/USD', sequence: 100, timestamp: T0 + 3, prevSequence: 99,
      bids: [{ event: 0, orderId: 7, price: 339999, size: 5 }, { event: 1, orderId: 8, price: 339998, size: 6 }], asks: [{ event: 2, orderId: 9, price: 340005, size: 0 }] },
    { type: 'trade', symbol: 'SOL/USD', sequence: 7, timestamp: T0 + 4, tradeId: 77, price: 150123, size: 4500, side: 1, makerOrderId: 55 },
    { type: 'ticker', symbol: 'XRP/USD', sequence: 8, timestamp: T0 + 5, bid: 5999, bidSize: 100, ask: 6001, askSize: 200, last: 6000, lastSize: 50,
      volume24h: 123456, high24h: 6100, low24h: 5900, open24h: 6009, volume24hRest: 0 },
    { type: 'heartbeat', timestamp: T0 + 6, subscriptions: [
      { channel: 'l2', symbol: 'BTC/USD', depth: 10, sequence: 99 },
      { channel: 'trade', symbol: 'ETH/BTC', depth: 0, sequence: 2 ** 40 },
    ] },
    { type: 'subscribed', timestamp: T0 + 7, channels: ['l2', 'trade'], symbols: ['BTC/USD', 'ETH/USD'], depth: 25 },
    { type: 'error', timestamp: T0 + 8, code: 'UNKNOWN_SYMBOL', message: 'no such symbol: "DOGE/USD" ✗' },
    { type: 'candle', symbol: 'SOL/USD', sequence: 9, timestamp: T0 + 9, interval: 3, start: 1_795_305_600_000_000, open: 150_000, high: 150_500,
      low: 149_250, close: 150_123, volume: 4500 + 1200 + 300, notional: 150_000 * 4500 + 150_500 * 1200 + 149_250 * 300, count: 3, final: true,
      volumeRest: 0, notionalRest: 0 },
  ];
}
