import { ASK, BID, BookListener, LEVEL_INSERT, LEVEL_REMOVE, LEVEL_UPDATE, Side } from '../model/book-types';
import { CHECKSUM_DEPTH, L2_DEPTHS } from '../model/depths';
import { MSG_CANDLE, MSG_L2_SNAPSHOT, MSG_L2_UPDATE, MSG_L3_SNAPSHOT, MSG_L3_UPDATE, MSG_TICKER, MSG_TRADE, FLAG_BROADCAST, FLAG_SNAPSHOT, packType } from '../model/out-records';
import type { CandleListener, CandleSink } from './candle-builder';
import { intervalStart } from '../model/intervals';
import type { OutWriter } from './out-writer';
import type { PersistWriter } from './persist-writer';
import type { SymbolState } from './symbol-state';
import { MessageEncoder } from '../wire/message-encoder';
import { FastEncoder, TICKER_ASK_SIZE, TICKER_BID, TICKER_HIGH, TICKER_LAST, TICKER_LAST_SIZE, TICKER_LOW, TICKER_OPEN, TICKER_SEQUENCE, TICKER_TIMESTAMP, TICKER_VALUES, TICKER_VOLUME, TICKER_VOLUME_REST } from '../wire/fast-encoder';

/** One event changes at most two levels (replace), each adding at most a slide-in per depth. */
const MAX_LEVEL_CHANGES = 8;
const MAX_ORDER_CHANGES = 4;
const DEPTHS = L2_DEPTHS.length;

/** Level changes of the current event for one L2 depth stream, one side: preallocated columns. */
class LevelChanges {
  readonly prices = new Float64Array(MAX_LEVEL_CHANGES);
  readonly sizes = new Float64Array(MAX_LEVEL_CHANGES);
  count = 0;

  push(price: number, size: number): void {
    this.prices[this.count] = price;
    this.sizes[this.count] = size;
    this.count++;
  }
}

class OrderChanges {
  readonly ids = new Float64Array(MAX_ORDER_CHANGES);
  readonly prices = new Float64Array(MAX_ORDER_CHANGES);
  readonly sizes = new Float64Array(MAX_ORDER_CHANGES);
  readonly events = new Uint8Array(MAX_ORDER_CHANGES);
  count = 0;
}

/** Collects orders of one side for an L3 snapshot; grows, and is reused. */
class OrderCollector {
  ids = new Float64Array(1024);
  prices = new Float64Array(1024);
  sizes = new Float64Array(1024);
  count = 0;

  visit(orderId: number, price: number, size: number): void {
    if (this.count === this.ids.length) this.grow();
    this.ids[this.count] = orderId;
    this.prices[this.count] = price;
    this.sizes[this.count] = size;
    this.count++;
  }

  private grow(): void {
    const n = this.ids.length * 2;
    const ids = new Float64Array(n);
    const prices = new Float64Array(n);
    const sizes = new Float64Array(n);
    ids.set(this.ids);
    prices.set(this.prices);
    sizes.set(this.sizes);
    this.ids = ids;
    this.prices = prices;
    this.sizes = sizes;
  }
}

/**
 * Turns book changes into encoded diffs, once, inside the owning worker. It listens to every book
 * of the worker; `begin` points it at the book about to change. Nothing here allocates per event:
 * changes accumulate in preallocated columns and are encoded when the event commits.
 *
 * L2 depth streams: a change at position p reaches every active depth d > p. When a level inside
 * d leaves, the level that slides into position d-1 is added to that stream; when a level enters
 * inside d, the level pushed out to position d is sent with size 0. A client applying the stream
 * in order therefore holds exactly the top d, and the checksum (top 10) verifies it.
 */
export class DiffEmitter implements BookListener, CandleListener, CandleSink {
  private s!: SymbolState;
  private sequence = 0;
  private timestamp = 0;
  private readonly bids: LevelChanges[] = [];
  private readonly asks: LevelChanges[] = [];
  private readonly l3Bids = new OrderChanges();
  private readonly l3Asks = new OrderChanges();
  private readonly collector = [new OrderCollector(), new OrderCollector()];
  private readonly snapPrices = [new Float64Array(L2_DEPTHS[DEPTHS - 1]), new Float64Array(L2_DEPTHS[DEPTHS - 1])];
  private readonly snapSizes = [new Float64Array(L2_DEPTHS[DEPTHS - 1]), new Float64Array(L2_DEPTHS[DEPTHS - 1])];
  /** A ticker's numbers, in the order FastEncoder's ticker template takes them. */
  private readonly tickerValues = new Float64Array(TICKER_VALUES);
  /** Where OrderBook.bestLevels writes the best bid and ask: the four numbers from TICKER_BID on. */
  private readonly quote = this.tickerValues.subarray(TICKER_BID, TICKER_ASK_SIZE + 1);
  private snapshotCandle = 0;
  private topChanged = false;
  private bestChanged = false;
  private traded = false;

  /** Hot messages are encoded in place in the out-ring; snapshots use the Builder. */
  private readonly fast = new FastEncoder();

  constructor(
    private readonly encoder: MessageEncoder,
    private readonly out: OutWriter,
    private readonly persist: PersistWriter,
  ) {
    for (let d = 0; d < DEPTHS; d++) {
      this.bids.push(new LevelChanges());
      this.asks.push(new LevelChanges());
    }
  }

  /** Starts an event for `s` that will take `sequence` if the book accepts it. */
  begin(s: SymbolState, sequence: number, timestamp: number): void {
    this.s = s;
    this.sequence = sequence;
    this.timestamp = timestamp;
  }

  onLevel(side: Side, price: number, size: number, position: number, change: number): void {
    if (position < CHECKSUM_DEPTH) this.topChanged = true;
    if (position === 0) this.bestChanged = true;
    const s = this.s;
    s.touchLevel(side, position, change !== LEVEL_UPDATE);
    if (s.l2ActiveCount === 0) return;
    const book = s.book;
    const columns = side === BID ? this.bids : this.asks;
    for (let d = 0; d < DEPTHS; d++) {
      const depth = L2_DEPTHS[d];
      if (s.l2Active[d] === 0 || position >= depth) continue;
      const changes = columns[d];
      changes.push(price, size);
      if (change === LEVEL_REMOVE) {
        if (book.levelCount(side) >= depth) changes.push(book.levelPrice(side, depth - 1), book.levelSize(side, depth - 1));
      } else if (change === LEVEL_INSERT) {
        if (book.levelCount(side) > depth) changes.push(book.levelPrice(side, depth), 0);
      }
    }
  }

  onOrder(action: number, side: Side, orderId: number, price: number, size: number): void {
    if (!this.s.l3Active) return;
    const c = side === BID ? this.l3Bids : this.l3Asks;
    const i = c.count++;
    c.ids[i] = orderId;
    c.prices[i] = price;
    c.sizes[i] = size;
    c.events[i] = action;
  }

  onTrade(price: number, size: number, aggressor: Side, makerOrderId: number): void {
    const s = this.s;
    const tradeId = s.nextTradeId++;
    s.lastPrice = price;
    s.lastSize = size;
    s.lastSide = aggressor;
    s.lastTradeId = tradeId;
    s.rolling24h.addTrade(this.timestamp, price, size);
    this.traded = true;
    const fast = this.fast;
    const seq = this.sequence;
    const ts = this.timestamp;
    const length = fast.tradeLength(s.symbolBytes, seq, ts, tradeId, price, size, aggressor, makerOrderId);
    const at = this.out.claim(packType(s.instrument.index, MSG_TRADE, 0), seq, length);
    fast.writeTrade(this.out.bytes, at, length, s.symbolBytes, seq, ts, tradeId, price, size, aggressor, makerOrderId);
    this.out.commit();
    this.persist.trade(s.instrument.index, seq, tradeId, price, size, aggressor, makerOrderId, ts);
    s.candles.onTrade(ts, price, size);
  }

  /**
   * A candle changed (every trade) or closed. Closed candles always go out (the front keeps
   * them for REST); candles in progress come only for the intervals someone follows (the
   * symbol's CandleBuilder is given SymbolState.candleActive).
   */
  onCandle(
    interval: number,
    start: number,
    open: number,
    high: number,
    low: number,
    close: number,
    volume: number,
    volumeRest: number,
    notional: number,
    notionalRest: number,
    count: number,
    final: boolean,
  ): void {
    const s = this.s;
    if (final) this.persist.candle(s.instrument.index, interval, start, open, high, low, close, volume, volumeRest, notional, notionalRest, count);
    const fast = this.fast;
    const seq = this.sequence;
    const ts = this.timestamp;
    const length = fast.candleLength(s.symbolBytes, seq, ts, interval, start, open, high, low, close, volume, notional, count, final, volumeRest, notionalRest);
    const at = this.out.claim(packType(s.instrument.index, MSG_CANDLE, interval), seq, length);
    fast.writeCandle(this.out.bytes, at, length, s.symbolBytes, seq, ts, interval, start, open, high, low, close, volume, notional, count, final, volumeRest, notionalRest);
    this.out.commit();
  }

  /** Time passed without an event: close the candles whose interval ended by `until`. */
  closeCandles(s: SymbolState, until: number, now: number): void {
    this.begin(s, s.sequence, now);
    s.candles.tick(until);
  }

  /** The candle in progress of one interval (or an empty one) for a new subscriber. */
  candleSnapshot(s: SymbolState, interval: number, now: number): void {
    this.begin(s, s.sequence, now);
    this.snapshotCandle = interval;
    if (!s.candles.current(interval, this)) {
      this.push(intervalStart(now, interval), 0, 0, 0, 0, 0, 0, 0, 0, 0);
    }
  }

  /** CandleSink for candleSnapshot: writes the candle as a snapshot record. */
  push(start: number, open: number, high: number, low: number, close: number, volume: number, volumeRest: number, notional: number, notionalRest: number, count: number): void {
    const s = this.s;
    const interval = this.snapshotCandle;
    const bytes = this.encoder.candle(s.symbolBytes, s.sequence, this.timestamp, interval, start, open, high, low, close, volume, notional, count, false, volumeRest, notionalRest);
    this.out.write(packType(s.instrument.index, MSG_CANDLE, interval) | FLAG_SNAPSHOT, s.sequence, bytes);
  }

  /** The book accepted the event: take the sequence and encode what changed. */
  commit(): void {
    const s = this.s;
    const seq = this.sequence;
    s.sequence = seq;
    s.timestamp = this.timestamp;
    s.mirrorDirty = true;
    if (this.topChanged) s.checksumStale = true;
    if (s.l2ActiveCount > 0) {
      for (let d = 0; d < DEPTHS; d++) {
        const bids = this.bids[d];
        const asks = this.asks[d];
        if (bids.count + asks.count === 0) continue;
        const fast = this.fast;
        const depth = L2_DEPTHS[d];
        const checksum = s.checksum();
        const length = fast.l2UpdateLength(s.symbolBytes, seq, this.timestamp, depth, s.l2Last[d], checksum, bids.count, asks.count);
        const at = this.out.claim(packType(s.instrument.index, MSG_L2_UPDATE, d), seq, length);
        fast.writeL2Update(
          this.out.bytes, at, length, s.symbolBytes, seq, this.timestamp, depth, s.l2Last[d], checksum,
          bids.prices, bids.sizes, bids.count, asks.prices, asks.sizes, asks.count,
        );
        this.out.commit();
        s.l2Last[d] = seq;
        bids.count = 0;
        asks.count = 0;
      }
    }
    const l3b = this.l3Bids;
    const l3a = this.l3Asks;
    if (l3b.count + l3a.count > 0) {
      const fast = this.fast;
      const length = fast.l3UpdateLength(s.symbolBytes, seq, this.timestamp, s.l3Last, l3b.count, l3a.count);
      const at = this.out.claim(packType(s.instrument.index, MSG_L3_UPDATE, 0), seq, length);
      fast.writeL3Update(
        this.out.bytes, at, length, s.symbolBytes, seq, this.timestamp, s.l3Last,
        l3b.ids, l3b.prices, l3b.sizes, l3b.events, l3b.count,
        l3a.ids, l3a.prices, l3a.sizes, l3a.events, l3a.count,
      );
      this.out.commit();
      s.l3Last = seq;
      l3b.count = 0;
      l3a.count = 0;
    }
    if (s.tickerActive && (this.bestChanged || this.traded)) this.ticker(s, false, 0);
    this.topChanged = false;
    this.bestChanged = false;
    this.traded = false;
  }

  /** The book rejected the event; a reject calls no listener, so there is nothing to undo. */
  abort(): void {
    this.topChanged = false;
    this.bestChanged = false;
    this.traded = false;
  }

  /** A book reset: every active stream restarts from a snapshot that all its subscribers get. */
  reset(s: SymbolState, sequence: number, timestamp: number): void {
    s.sequence = sequence;
    s.timestamp = timestamp;
    s.mirrorDirty = true;
    s.touchAll();
    s.checksumStale = true;
    for (let d = 0; d < DEPTHS; d++) {
      if (s.l2Active[d] === 1) this.l2Snapshot(s, d, FLAG_BROADCAST);
    }
    if (s.l3Active) this.l3Snapshot(s, FLAG_BROADCAST);
    if (s.tickerActive) this.ticker(s, true, FLAG_BROADCAST);
  }

  l2Snapshot(s: SymbolState, depthIndex: number, flags: number): void {
    const depth = L2_DEPTHS[depthIndex];
    const book = s.book;
    const bidCount = Math.min(depth, book.levelCount(BID));
    const askCount = Math.min(depth, book.levelCount(ASK));
    const [bidPrices, askPrices] = this.snapPrices;
    const [bidSizes, askSizes] = this.snapSizes;
    for (let i = 0; i < bidCount; i++) {
      bidPrices[i] = book.levelPrice(BID, i);
      bidSizes[i] = book.levelSize(BID, i);
    }
    for (let i = 0; i < askCount; i++) {
      askPrices[i] = book.levelPrice(ASK, i);
      askSizes[i] = book.levelSize(ASK, i);
    }
    const ins = s.instrument;
    const bytes = this.encoder.l2Snapshot(
      s.symbolBytes, s.sequence, s.timestamp, depth, ins.priceDecimals, ins.sizeDecimals, s.checksum(),
      bidPrices, bidSizes, bidCount, askPrices, askSizes, askCount,
    );
    this.out.write(packType(ins.index, MSG_L2_SNAPSHOT, depthIndex) | FLAG_SNAPSHOT | flags, s.sequence, bytes);
  }

  l3Snapshot(s: SymbolState, flags: number): void {
    const [bids, asks] = this.collector;
    bids.count = 0;
    asks.count = 0;
    s.book.forEachOrder(BID, bids);
    s.book.forEachOrder(ASK, asks);
    const ins = s.instrument;
    const bytes = this.encoder.l3Snapshot(
      s.symbolBytes, s.sequence, s.timestamp, ins.priceDecimals, ins.sizeDecimals,
      bids.ids, bids.prices, bids.sizes, bids.count, asks.ids, asks.prices, asks.sizes, asks.count,
    );
    this.out.write(packType(ins.index, MSG_L3_SNAPSHOT, 0) | FLAG_SNAPSHOT | flags, s.sequence, bytes);
  }

  /** A ticker update, or (snapshot) the ticker answering a subscription or a reset. */
  ticker(s: SymbolState, snapshot: boolean, flags: number): void {
    const values = this.tickerValues;
    values[TICKER_SEQUENCE] = s.sequence;
    values[TICKER_TIMESTAMP] = s.timestamp;
    s.book.bestLevels(this.quote);
    const fast = this.fast;
    const template = s.tickerTemplate;
    // The last trade changes only with a trade, which changes the 24 h window's version too.
    const st = s.rolling24h;
    let length = fast.tickerQuote(template, s.symbolBytes, values, st.version);
    if (length < 0) {
      values[TICKER_LAST] = s.lastPrice;
      values[TICKER_LAST_SIZE] = s.lastSize;
      values[TICKER_VOLUME] = st.volume;
      values[TICKER_HIGH] = st.high;
      values[TICKER_LOW] = st.low;
      values[TICKER_OPEN] = st.open;
      values[TICKER_VOLUME_REST] = st.volumeRest;
      length = fast.tickerFull(template, s.symbolBytes, values, st.version);
    }
    const at = this.out.claim(packType(s.instrument.index, MSG_TICKER, 0) | (snapshot ? FLAG_SNAPSHOT : 0) | flags, s.sequence, length);
    this.out.bytes.set(template.bytes, at);
    this.out.commit();
  }
}
