import { INTERVALS } from '../model/intervals';
import { formatUnitPair, formatUnits } from '../util/decimal';
import { changePercent, vwapUnits } from '../util/market-math';
import { decodeMessage, DecodedLevel } from '../wire/message-decoder';
import { formatTimestampMicros } from '../wire/timestamp';
import type { FeedMessage, Level } from './messages';

/** How a symbol writes its integer units as decimals (GET /api/v1/market/symbols, or a snapshot). */
export interface Decimals {
  price_decimals: number;
  size_decimals: number;
}

const EVENTS = ['add', 'modify', 'delete'] as const;
const SIDES = ['buy', 'sell'] as const;

/**
 * A FlatBuffers frame (?format=flatbuffers) as the JSON dialect's message, so one book and one
 * set of events serve both formats. Snapshots carry their symbol's decimals and update `decimals`;
 * other messages use what it holds (the SDK fills it from /api/v1/market/symbols first).
 * Throws BadFrameError (code BAD_FRAME) on bytes that are not a frame.
 */
export function frameToMessage(bytes: Uint8Array, decimals: Map<string, Decimals>): FeedMessage {
  const m = decodeMessage(bytes);
  const time = (us: number) => formatTimestampMicros(us);
  if (m.type === 'heartbeat') return { type: 'heartbeat', timestamp: time(m.timestamp), data: { subscriptions: m.subscriptions } };
  if (m.type === 'subscribed') return { type: 'subscribed', timestamp: time(m.timestamp), data: { channels: m.channels, symbols: m.symbols } };
  if (m.type === 'error') return { type: 'error', timestamp: time(m.timestamp), data: { code: m.code, message: m.message } };
  if (m.type === 'l2_snapshot' || m.type === 'l3_snapshot') decimals.set(m.symbol, { price_decimals: m.priceDecimals, size_decimals: m.sizeDecimals });
  const d = decimals.get(m.symbol);
  if (d === undefined) throw new Error(`no decimals known for ${m.symbol}`);
  const p = (u: number) => formatUnits(u, d.price_decimals);
  const s = (u: number) => formatUnits(u, d.size_decimals);
  const orNull = (u: number, f: (u: number) => string) => (u === 0 ? null : f(u));
  const levels = (l: DecodedLevel[]): Level[] => l.map(([price, size]) => [p(price), s(size)]);
  const base = { symbol: m.symbol, timestamp: time(m.timestamp), sequence: m.sequence };
  switch (m.type) {
    case 'l2_snapshot':
      return { ...base, type: m.type, checksum: m.checksum, data: { depth: m.depth, bids: levels(m.bids), asks: levels(m.asks) } };
    case 'l2_update':
      return { ...base, type: m.type, prev_sequence: m.prevSequence, checksum: m.checksum, data: { depth: m.depth, bids: levels(m.bids), asks: levels(m.asks) } };
    case 'l3_snapshot': {
      const orders = (list: typeof m.bids) => list.map((o) => ({ order_id: o.orderId, price: p(o.price), size: s(o.size) }));
      return { ...base, type: m.type, data: { bids: orders(m.bids), asks: orders(m.asks) } };
    }
    case 'l3_update': {
      const changes = (list: typeof m.bids) => list.map((o) => ({ event: EVENTS[o.event], order_id: o.orderId, price: p(o.price), size: s(o.size) }));
      return { ...base, type: m.type, prev_sequence: m.prevSequence, data: { bids: changes(m.bids), asks: changes(m.asks) } };
    }
    case 'trade':
      return { ...base, type: m.type, data: { trade_id: m.tradeId, price: p(m.price), size: s(m.size), side: SIDES[m.side], maker_order_id: m.makerOrderId } };
    case 'ticker':
      return {
        ...base,
        type: m.type,
        data: {
          bid: orNull(m.bid, p), bid_size: orNull(m.bidSize, s), ask: orNull(m.ask, p), ask_size: orNull(m.askSize, s), last: orNull(m.last, p),
          last_size: orNull(m.lastSize, s), volume_24h: formatUnitPair(m.volume24h, m.volume24hRest, d.size_decimals), high_24h: orNull(m.high24h, p), low_24h: orNull(m.low24h, p), change_24h: m.last === 0 ? null : changePercent(m.last, m.open24h),
        },
      };
    case 'candle': {
      const empty = m.count === 0;
      return {
        ...base,
        type: m.type,
        data: {
          interval: INTERVALS[m.interval]?.name ?? String(m.interval), start: time(m.start),
          open: empty ? null : p(m.open), high: empty ? null : p(m.high), low: empty ? null : p(m.low), close: empty ? null : p(m.close),
          volume: formatUnitPair(m.volume, m.volumeRest, d.size_decimals),
          vwap: empty ? null : orNull(vwapUnits(m.notional, m.notionalRest, m.volume, m.volumeRest) ?? 0, p), trades: m.count, final: m.final,
        },
      };
    }
  }
}
