import type { Instrument } from '../model/instruments';
import { L2_DEPTHS } from '../model/depths';
import { MSG_CANDLE, MSG_L2_SNAPSHOT, MSG_L2_UPDATE, MSG_L3_SNAPSHOT, MSG_L3_UPDATE, MSG_TICKER, STREAM_CANDLES, STREAM_L2, STREAM_L3, STREAM_TICKER, STREAM_TRADES } from '../model/out-records';
import { INTERVAL_COUNT } from '../model/intervals';

/**
 * Every stream a client can follow, numbered densely: instrument × slot, where slots are the L2
 * depths, then L3, ticker, trades and the candle intervals. The number names a transport's
 * topics (uWS: "b<n>", "j<n>", "m<n>") and indexes every per-stream counter, so the
 * distribution hot path does array lookups only.
 */
export const SLOT_L3 = L2_DEPTHS.length;
export const SLOT_TICKER = SLOT_L3 + 1;
export const SLOT_TRADES = SLOT_L3 + 2;
/** One slot per candle interval (INTERVALS order). */
export const SLOT_CANDLES = SLOT_L3 + 3;
export const SLOTS = SLOT_CANDLES + INTERVAL_COUNT;

/**
 * How a connection receives data: the owner's FlatBuffers bytes, the Data Feed JSON, or the
 * Market Data API stream dialect (the feed JSON wrapped in a DATA envelope). Each format of each
 * stream is its own uWS topic; a format with no subscribers costs nothing.
 */
export const FORMAT_BINARY = 0;
export const FORMAT_FEED_JSON = 1;
export const FORMAT_MARKET_DATA = 2;
export const FORMATS = 3;

export const CHANNELS = ['ticker', 'l2', 'l3', 'trades', 'candles'] as const;
export type Channel = (typeof CHANNELS)[number];

/** `index` is the L2 depth index for l2 and the interval index for candles. */
export function slotOf(channel: Channel, index: number): number {
  switch (channel) {
    case 'l2':
      return index;
    case 'l3':
      return SLOT_L3;
    case 'ticker':
      return SLOT_TICKER;
    case 'candles':
      return SLOT_CANDLES + index;
    default:
      return SLOT_TRADES;
  }
}

/** The index the engine's control record carries for a slot: L2 depth or candle interval. */
export function engineIndexOf(slot: number): number {
  if (slot < SLOT_L3) return slot;
  if (slot >= SLOT_CANDLES) return slot - SLOT_CANDLES;
  return 0;
}

/** Out-ring message kind + depth index → slot. */
export function slotOfMessage(kind: number, depthIndex: number): number {
  switch (kind) {
    case MSG_L2_SNAPSHOT:
    case MSG_L2_UPDATE:
      return depthIndex;
    case MSG_L3_SNAPSHOT:
    case MSG_L3_UPDATE:
      return SLOT_L3;
    case MSG_TICKER:
      return SLOT_TICKER;
    case MSG_CANDLE:
      return SLOT_CANDLES + depthIndex;
    default:
      return SLOT_TRADES;
  }
}

export function engineStreamOf(slot: number): number {
  if (slot < SLOT_L3) return STREAM_L2;
  if (slot === SLOT_L3) return STREAM_L3;
  if (slot === SLOT_TICKER) return STREAM_TICKER;
  if (slot >= SLOT_CANDLES) return STREAM_CANDLES;
  return STREAM_TRADES;
}

export function channelOf(slot: number): Channel {
  if (slot < SLOT_L3) return 'l2';
  if (slot === SLOT_L3) return 'l3';
  if (slot === SLOT_TICKER) return 'ticker';
  if (slot >= SLOT_CANDLES) return 'candles';
  return 'trades';
}

/** The Market Data API's name for what a stream carries. */
export function marketDataTypeOf(slot: number): string {
  if (slot < SLOT_L3) return 'ORDERBOOK';
  if (slot === SLOT_L3) return 'ORDERBOOK_L3';
  if (slot === SLOT_TICKER) return 'QUOTE';
  if (slot >= SLOT_CANDLES) return 'OHLC';
  return 'TRADE';
}

/**
 * Numbers every stream of the configured instruments and remembers the sequence of the last
 * message on each (heartbeats report it; a parked trades subscription resumes after it).
 */
export class StreamTable {
  /** Sequence of the last message published on each stream. */
  readonly lastSequence: Float64Array;
  readonly count: number;

  constructor(readonly instruments: readonly Instrument[]) {
    this.count = instruments.length * SLOTS;
    this.lastSequence = new Float64Array(this.count);
  }

  index(symbol: number, slot: number): number {
    return symbol * SLOTS + slot;
  }

  symbolOf(stream: number): number {
    return Math.floor(stream / SLOTS);
  }

  slotOf(stream: number): number {
    return stream % SLOTS;
  }

  /** Trades carry no state: a follower joins them at once, without a snapshot. */
  needsSnapshot(stream: number): boolean {
    return this.slotOf(stream) !== SLOT_TRADES;
  }
}
