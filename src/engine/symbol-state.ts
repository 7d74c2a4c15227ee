import type { Instrument } from '../model/instruments';
import { OrderBook } from './order-book';
import type { BookListener } from '../model/book-types';
import { L2_DEPTHS } from '../model/depths';
import { Rolling24h } from './rolling-24h';
import { CandleBuilder, CandleListener } from './candle-builder';
import { INTERVAL_COUNT } from '../model/intervals';
import { TickerTemplate } from '../wire/fast-encoder';

/** Everything a book worker keeps for one instrument it owns. */
export class SymbolState {
  readonly book: OrderBook;
  /** UTF-8 symbol name, encoded once for every message. */
  readonly symbolBytes: Uint8Array;
  /** The last ticker's bytes, which the next is made from (the worker's DiffEmitter). */
  readonly tickerTemplate = new TickerTemplate();
  /** Sequence of the last accepted event; every accepted event takes the next one. */
  sequence = 0;
  /** Source timestamp (µs) of the last accepted event. */
  timestamp = 0;
  nextTradeId = 1;
  lastPrice = 0;
  lastSize = 0;
  lastSide = -1;
  lastTradeId = 0;
  /** Rolling 24-hour statistics over this symbol's trades. */
  readonly rolling24h = new Rolling24h();
  /** Candles of every interval, built from this symbol's trades. */
  readonly candles: CandleBuilder;
  /** Which candle intervals have subscribers for their in-progress updates. */
  readonly candleActive = new Uint8Array(INTERVAL_COUNT);
  /** Which L2 depth streams have subscribers, by index into L2_DEPTHS. */
  readonly l2Active = new Uint8Array(L2_DEPTHS.length);
  /** Sequence of the last message on each L2 depth stream: the next one's prev_sequence. */
  readonly l2Last = new Float64Array(L2_DEPTHS.length);
  l2ActiveCount = 0;
  l3Active = false;
  l3Last = 0;
  tickerActive = false;
  private checksumValue = 0;
  /** Set when a change touched the top CHECKSUM_DEPTH levels. */
  checksumStale = true;
  mirrorDirty = true;
  /** Sequence and time (µs) of the last book snapshot sent to storage (a book never changed is not stored). */
  storedSequence = 0;
  storedAt = 0;
  /**
   * The largest order id and timestamp of any event handed to this symbol, accepted or not. A
   * checkpoint carries them: a simulator resuming from it must not reuse an id the journal
   * already names, and orderbook?at= may start from it only for times after every event in it.
   */
  maxOrderId = 0;
  maxTimestamp = 0;
  /**
   * Levels of each side ([bid, ask]) the mirror must rewrite: positions from..to (to = Infinity
   * when levels shifted). A size change rewrites one level; an inserted or removed level rewrites
   * everything below it. Reset by the mirror writer.
   */
  readonly mirrorFrom = new Float64Array([0, 0]);
  readonly mirrorTo = new Float64Array([Infinity, Infinity]);

  constructor(
    readonly instrument: Instrument,
    /** Hears every change to the book and the candles (the worker's DiffEmitter). */
    readonly listener: BookListener & CandleListener,
  ) {
    this.book = new OrderBook(instrument.tickUnits, instrument.lotUnits, listener);
    this.candles = new CandleBuilder(listener, this.candleActive);
    this.symbolBytes = new TextEncoder().encode(instrument.symbol);
  }

  /** Records an input event's ids and time (see maxOrderId), before the book judges it. */
  noteEvent(orderId: number, newOrderId: number, timestamp: number): void {
    if (orderId > this.maxOrderId) this.maxOrderId = orderId;
    if (newOrderId > this.maxOrderId) this.maxOrderId = newOrderId;
    if (timestamp > this.maxTimestamp) this.maxTimestamp = timestamp;
  }

  /** Notes a level change for the mirror (see mirrorFrom). */
  touchLevel(side: number, position: number, shifted: boolean): void {
    if (position < this.mirrorFrom[side]) this.mirrorFrom[side] = position;
    if (shifted) this.mirrorTo[side] = Infinity;
    else if (position > this.mirrorTo[side]) this.mirrorTo[side] = position;
  }

  /** After a reset every level must be rewritten. */
  touchAll(): void {
    this.mirrorFrom.fill(0);
    this.mirrorTo.fill(Infinity);
  }

  checksum(): number {
    if (this.checksumStale) {
      this.checksumValue = this.book.checksum();
      this.checksumStale = false;
    }
    return this.checksumValue;
  }

  setL2Active(depthIndex: number, active: boolean): void {
    const was = this.l2Active[depthIndex] === 1;
    if (was === active) return;
    this.l2Active[depthIndex] = active ? 1 : 0;
    this.l2ActiveCount += active ? 1 : -1;
  }
}
