import type { Instrument } from '../model/instruments';
import { STREAMS } from '../model/streams';
import type { Session } from './session';

/**
 * How a connection receives data: the owner's FlatBuffers bytes, the Data Feed JSON, or the
 * Market Data API stream dialect (the feed JSON wrapped in a DATA envelope). Each format of each
 * stream is its own uWS topic; a format with no subscribers costs nothing.
 */
export const FORMAT_BINARY = 0;
export const FORMAT_FEED_JSON = 1;
export const FORMAT_MARKET_DATA = 2;
export const FORMATS = 3;

/**
 * The front's state of every stream of every instrument, in arrays indexed by the stream's key:
 * instrument × STREAMS + stream (model/streams.ts). The key names the stream's topics ("b<key>"
 * binary, "j<key>" JSON, "m<key>" Market Data API) and indexes its counters, so the fan-out hot
 * path does array lookups only.
 */
export class StreamTable {
  /** Topic names by format, then stream: "b<n>", "j<n>", "m<n>". */
  readonly topics: string[][] = [[], [], []];
  /** Live subscribers by format, then stream (the fan-out skips a format nobody reads). */
  readonly subscribers: Int32Array[];
  /** Sequence of the last message published on each stream. */
  readonly lastSequence: Float64Array;
  /** Connections waiting for the stream's next snapshot before they join its topic. */
  readonly pending: Session[][] = [];
  /** A snapshot request is with the owner and not yet answered. */
  readonly snapshotInFlight: Uint8Array;
  /** Conflated (throttled) subscribers, who follow the stream without its topic. */
  readonly throttled: Int32Array;
  /** The owner has been asked to produce the stream and not yet told to stop. */
  readonly active: Uint8Array;

  constructor(readonly instruments: readonly Instrument[]) {
    const n = instruments.length * STREAMS;
    for (let i = 0; i < n; i++) {
      this.topics[FORMAT_BINARY].push(`b${i}`);
      this.topics[FORMAT_FEED_JSON].push(`j${i}`);
      this.topics[FORMAT_MARKET_DATA].push(`m${i}`);
      this.pending.push([]);
    }
    this.subscribers = [new Int32Array(n), new Int32Array(n), new Int32Array(n)];
    this.lastSequence = new Float64Array(n);
    this.snapshotInFlight = new Uint8Array(n);
    this.active = new Uint8Array(n);
    this.throttled = new Int32Array(n);
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

  /** Nobody follows or waits for the stream: its owner may stop producing it. */
  idle(stream: number): boolean {
    const s = this.subscribers;
    return s[0][stream] === 0 && s[1][stream] === 0 && s[2][stream] === 0 && this.throttled[stream] === 0 && this.pending[stream].length === 0;
  }
}
