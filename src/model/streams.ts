import { L2_DEPTHS } from './depths';
import { INTERVAL_COUNT } from './intervals';
import { MSG_CANDLE, MSG_L2_SNAPSHOT, MSG_L2_UPDATE, MSG_L3_SNAPSHOT, MSG_L3_UPDATE, MSG_TICKER } from './out-records';

/**
 * The one stream vocabulary. A stream is what a client follows of one instrument, numbered
 * densely per instrument: the L2 depths (L2_DEPTHS order), then L3, ticker, trades, then one
 * stream per candle interval (INTERVALS order). The engine's control records, the front's topics
 * and counters, and the names clients use all start from this number; every mapping to and from
 * it is in this file.
 *
 *   stream   0 .. 4    5    6        7        8 .. 13
 *   channel  l2        l3   ticker   trades   candles
 *   index    depth     0    0        0        interval
 */
export const STREAM_L2 = 0;
export const STREAM_L3 = L2_DEPTHS.length;
export const STREAM_TICKER = STREAM_L3 + 1;
/** Trades always flow (REST keeps recent ones): the owner needs no request for them. */
export const STREAM_TRADES = STREAM_L3 + 2;
/** Candle updates of one interval; closed candles always flow. */
export const STREAM_CANDLES = STREAM_L3 + 3;
/** Streams per instrument (fits the 4 bits a control record gives it). */
export const STREAMS = STREAM_CANDLES + INTERVAL_COUNT;

/** What a client subscribes to, as the Data Feed names it; a channel's index picks the stream. */
export const CHANNELS = ['ticker', 'l2', 'l3', 'trades', 'candles'] as const;
export type Channel = (typeof CHANNELS)[number];

/** The Market Data API's names for what a stream carries, and the channels a client may ask for by them. */
export const MARKET_DATA_TYPES: Readonly<Record<Channel, string>> = {
  ticker: 'QUOTE',
  l2: 'ORDERBOOK',
  l3: 'ORDERBOOK_L3',
  trades: 'TRADE',
  candles: 'OHLC',
};
export const CHANNEL_OF_DATA_TYPE: Readonly<Record<string, Channel>> = {
  TRADE: 'trades',
  QUOTE: 'ticker',
  ORDERBOOK: 'l2',
  OHLC: 'candles',
};

/** `index` is the L2 depth index for l2 and the interval index for candles; other channels ignore it. */
export function streamOf(channel: Channel, index: number): number {
  switch (channel) {
    case 'l2':
      return STREAM_L2 + index;
    case 'l3':
      return STREAM_L3;
    case 'ticker':
      return STREAM_TICKER;
    case 'candles':
      return STREAM_CANDLES + index;
    default:
      return STREAM_TRADES;
  }
}

export function channelOf(stream: number): Channel {
  if (stream < STREAM_L3) return 'l2';
  if (stream === STREAM_L3) return 'l3';
  if (stream === STREAM_TICKER) return 'ticker';
  if (stream >= STREAM_CANDLES) return 'candles';
  return 'trades';
}

/** The L2 depth index of an l2 stream, the interval index of a candle stream, else 0. */
export function indexOf(stream: number): number {
  if (stream < STREAM_L3) return stream - STREAM_L2;
  if (stream >= STREAM_CANDLES) return stream - STREAM_CANDLES;
  return 0;
}

export function marketDataTypeOf(stream: number): string {
  return MARKET_DATA_TYPES[channelOf(stream)];
}

/** The stream an out-ring message belongs to: its message type (MSG_*) and depth/interval bits. */
export function streamOfMessage(message: number, depthIndex: number): number {
  switch (message) {
    case MSG_L2_SNAPSHOT:
    case MSG_L2_UPDATE:
      return STREAM_L2 + depthIndex;
    case MSG_L3_SNAPSHOT:
    case MSG_L3_UPDATE:
      return STREAM_L3;
    case MSG_TICKER:
      return STREAM_TICKER;
    case MSG_CANDLE:
      return STREAM_CANDLES + depthIndex;
    default:
      return STREAM_TRADES;
  }
}
