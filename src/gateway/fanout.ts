import type { TemplatedApp } from 'uWebSockets.js';
import { FLAG_BROADCAST, FLAG_SNAPSHOT, MSG_CANDLE, MSG_TRADE, OUT_HEADER_BYTES, typeDepthIndex, typeMessage, typeSymbol } from '../model/out-records';
import type { RecordHandler, SpscRing } from '../ring/spsc-ring';
import type { RecentCandles } from './recent-candles';
import type { Conflator } from './conflator';
import { JsonFormat, renderJson } from '../wire/json-renderer';
import type { RecentTrades } from './recent-trades';
import { FORMAT_BINARY, FORMAT_FEED_JSON, FORMAT_MARKET_DATA, StreamTable } from './streams';
import { marketDataTypeOf, streamOfMessage } from '../model/streams';
import { wrapMarketData } from '../wire/market-data-json';
import { OutMessageReader } from '../wire/out-message-reader';
import type { SnapshotSource, Subscriptions } from './subscriptions';

/** Records taken from one out-ring per poll, so one busy worker cannot starve the others. */
const READ_LIMIT = 1024;

/**
 * Drains the book workers' out-rings on the front thread and hands every message to its topic:
 * the owner's FlatBuffers bytes go to binary subscribers as they are (uWS copies them once into
 * its topic tree), JSON is rendered once and only when the stream has JSON subscribers.
 * Snapshots go to the connections waiting for them (see Subscriptions).
 */
export class Fanout implements RecordHandler, SnapshotSource {
  private ring!: SpscRing;
  private ringIndex = 0;
  /** One reusable reader per ring for the few fields the front keeps of trades and candles. */
  private readonly readers: OutMessageReader[];

  /** The snapshot being handed out, for SnapshotSource, and its renderings so far. */
  private snapshotBytes!: Uint8Array;
  private snapshotJson: string | null = null;
  private snapshotSymbol = 0;
  private snapshotSlot = 0;
  /** Messages published since start, for the health endpoint. */
  published = 0;

  constructor(
    private readonly app: TemplatedApp,
    private readonly rings: readonly SpscRing[],
    private readonly streams: StreamTable,
    private readonly subscriptions: Subscriptions,
    private readonly trades: RecentTrades,
    private readonly candles: RecentCandles,
    private readonly conflator: Conflator,
    private readonly formats: readonly JsonFormat[],
  ) {
    this.readers = rings.map((r) => new OutMessageReader(r.bytes));
  }

  /** Reads what the workers have published; returns the number of records handled. */
  poll(): number {
    let work = 0;
    for (let i = 0; i < this.rings.length; i++) {
      this.ring = this.rings[i];
      this.ringIndex = i;
      work += this.ring.read(this, READ_LIMIT);
    }
    return work;
  }

  onRecord(type: number, offset: number, length: number): void {
    const ring = this.ring;
    const symbol = typeSymbol(type);
    const kind = typeMessage(type);
    const slot = streamOfMessage(kind, typeDepthIndex(type));
    const stream = this.streams.index(symbol, slot);
    const sequence = ring.f64[offset >>> 3];
    if ((type & FLAG_SNAPSHOT) !== 0) {
      this.snapshotBytes = ring.bytes.subarray(offset + OUT_HEADER_BYTES, offset + length);
      this.snapshotJson = null;
      this.snapshotSymbol = symbol;
      this.snapshotSlot = slot;
      this.subscriptions.snapshot(stream, sequence, this, (type & FLAG_BROADCAST) !== 0);
      return;
    }
    const streams = this.streams;
    streams.lastSequence[stream] = sequence;
    if (kind === MSG_TRADE) this.readers[this.ringIndex].readTrade(symbol, offset + OUT_HEADER_BYTES, this.trades);
    const final = kind === MSG_CANDLE && this.readers[this.ringIndex].readClosedCandle(symbol, typeDepthIndex(type), offset + OUT_HEADER_BYTES, this.candles);
    const subscribers = streams.subscribers;
    const binary = subscribers[FORMAT_BINARY][stream] > 0;
    const feed = subscribers[FORMAT_FEED_JSON][stream] > 0;
    const marketData = subscribers[FORMAT_MARKET_DATA][stream] > 0;
    const throttled = streams.throttled[stream] > 0;
    // Most records (trades nobody follows) end here, without making a view of their bytes.
    if (!binary && !feed && !marketData && !throttled) return;
    const bytes = ring.bytes.subarray(offset + OUT_HEADER_BYTES, offset + length);
    if (throttled) this.conflator.offer(stream, sequence, bytes, final);
    if (binary) {
      this.app.publish(streams.topics[FORMAT_BINARY][stream], bytes, true);
      this.published++;
    }
    if (feed || marketData) {
      // Rendered once for both JSON dialects.
      const json = renderJson(bytes, this.formats[symbol]);
      if (feed) this.app.publish(streams.topics[FORMAT_FEED_JSON][stream], json, false);
      if (marketData) this.app.publish(streams.topics[FORMAT_MARKET_DATA][stream], wrapMarketData(json, marketDataTypeOf(slot)), false);
      this.published += (feed ? 1 : 0) + (marketData ? 1 : 0);
    }
  }

  payload(format: number): Uint8Array | string {
    if (format === FORMAT_BINARY) return this.snapshotBytes;
    if (this.snapshotJson === null) this.snapshotJson = renderJson(this.snapshotBytes, this.formats[this.snapshotSymbol]);
    return format === FORMAT_FEED_JSON ? this.snapshotJson : wrapMarketData(this.snapshotJson, marketDataTypeOf(this.snapshotSlot));
  }
}
