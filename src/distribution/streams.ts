import type { Instrument } from '../model/instruments';
import { STREAM_TRADES, STREAMS } from '../model/streams';

/**
 * How a session receives data: the owner's FlatBuffers bytes, the Data Feed JSON, or the
 * Market Data API stream dialect (the feed JSON wrapped in a DATA envelope). Each format has its
 * outlet (uWS: a topic per stream key); a format with no subscribers costs nothing.
 */
export const FORMAT_BINARY = 0;
export const FORMAT_FEED_JSON = 1;
export const FORMAT_MARKET_DATA = 2;
/** FIX 4.4 (src/fix/): the owner's bytes reach the FIX outlet, which renders them once per record. */
export const FORMAT_FIX = 3;
export const FORMATS = 4;

/**
 * Numbers every stream of every instrument with a key, instrument × STREAMS + stream
 * (model/streams.ts), which names a transport's topics and indexes every per-stream array of the
 * distribution core, so its hot path does array lookups only. Remembers the sequence of the
 * last message on each key (heartbeats report it).
 */
export class StreamTable {
  /** Sequence of the last message published on each key. */
  readonly lastSequence: Float64Array;
  /** Keys in all: instruments × STREAMS. */
  readonly count: number;

  constructor(readonly instruments: readonly Instrument[]) {
    this.count = instruments.length * STREAMS;
    this.lastSequence = new Float64Array(this.count);
  }

  index(symbol: number, stream: number): number {
    return symbol * STREAMS + stream;
  }

  symbolOf(key: number): number {
    return Math.floor(key / STREAMS);
  }

  /** The key's stream number within its instrument (model/streams.ts). */
  streamOf(key: number): number {
    return key % STREAMS;
  }

  /** Trades carry no state: a follower joins them at once, without a snapshot. */
  needsSnapshot(key: number): boolean {
    return this.streamOf(key) !== STREAM_TRADES;
  }
}
