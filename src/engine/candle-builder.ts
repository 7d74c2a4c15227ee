import { BookcastError } from '../errors';
import { INTERVAL_COUNT, INTERVALS, intervalStart } from '../model/intervals';
import { addExact, productError } from '../util/exact-sum';
import type { WordCursor } from './word-cursor';

/**
 * OHLCV candles for one symbol, one current candle per interval of INTERVALS, built from the
 * trades in O(INTERVAL_COUNT) per trade with no allocation: all state lives in float64 columns
 * sized at construction.
 *
 * A candle covers [start, start + length) (epoch-aligned, see intervals.ts): a trade stamped
 * exactly on a boundary opens the new candle. A candle exists only once a trade falls in it, so
 * empty intervals produce nothing (no flat candles carried from the previous close).
 *
 * Clock: like Rolling24h, one non-decreasing clock, the largest timestamp passed to onTrade()
 * or tick(). A trade stamped before the clock is booked as happening at the clock, which is
 * what makes "final" final: once tick(now) has closed a candle, a late trade cannot reopen it
 * and no start is ever emitted final twice. An owner that ticks from a wall clock while trades
 * carry source timestamps should therefore tick with now minus the source's expected lag.
 *
 * The listener hears (a) after every trade, the updated current candle of every interval that
 * `follow` flags (every interval without one), final=false, in interval order; (b) exactly once
 * per candle, final=true, when its interval has ended: when a trade at or after start + length
 * arrives (the final comes before that trade's own final=false calls) or when tick(now) finds
 * now >= start + length. The final has the same figures as the last final=false call for that
 * candle.
 *
 * Volume and notional are exact pairs (util/exact-sum.ts): the float64 sum and what its rounding
 * left out (0 until the sum passes 2^53), so a candle of a busy market is exact to the unit.
 *
 * Only the candles in progress are kept (current() reads them): closed candles live on with the
 * listener (the front thread keeps the recent ones for REST, src/gateway/recent-candles.ts), so
 * the builder holds 96 bytes per interval (the 80-byte row, its length and its end): 576 bytes
 * per symbol.
 */

/** Receives candles from the builder, synchronously; arguments are plain numbers. */
export interface CandleListener {
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
  ): void;
}

/** Receives the candle in progress from current(). */
export interface CandleSink {
  push(
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
  ): void;
}

// One candle is a row of FIELDS float64 words in the table of candles in progress.
const F_START = 0;
const F_OPEN = 1;
const F_HIGH = 2;
const F_LOW = 3;
const F_CLOSE = 4;
const F_VOLUME = 5;
const F_NOTIONAL = 6;
const F_COUNT = 7;
const F_VOLUME_REST = 8;
const F_NOTIONAL_REST = 9;
const FIELDS = 10;
/** Fields checkpoint format 1 held: the rests came later. */
const FORMAT_1_FIELDS = 8;

/** Words CandleBuilder.save() writes. */
export const CANDLE_SAVED_WORDS = 1 + INTERVAL_COUNT * (1 + FIELDS);

export class CandleBuilder {
  private readonly listener: CandleListener;
  private readonly lengths = new Float64Array(INTERVAL_COUNT);
  /** start + length of each current candle: a trade before it updates, at or after it closes. */
  private readonly ends = new Float64Array(INTERVAL_COUNT);
  /** Row i is interval i's current candle; a count of 0 means there is none. */
  private readonly building = new Float64Array(INTERVAL_COUNT * FIELDS);
  private clockMicros = Number.NEGATIVE_INFINITY;

  /**
   * `follow[i] !== 0`: the listener wants interval i's candle in progress after each trade. A
   * book worker sends those only to subscribers; a call (twelve numbers) for every interval
   * cost it ~520 instructions a trade under callgrind when nobody followed any.
   */
  constructor(listener: CandleListener, private readonly follow: Uint8Array | null = null) {
    this.listener = listener;
    for (let i = 0; i < INTERVAL_COUNT; i++) this.lengths[i] = INTERVALS[i].micros;
  }

  /** The largest time seen (-Infinity before any). */
  get clock(): number {
    return this.clockMicros;
  }

  /** Books a trade at max(ts, clock) into every interval's current candle. */
  onTrade(ts: number, price: number, size: number): void {
    if (ts > this.clockMicros) this.clockMicros = ts;
    const time = this.clockMicros;
    const c = this.building;
    // The trade's notional, exactly (product + error), once for every interval.
    const product = price * size;
    const error = productError(price, size, product);
    for (let i = 0; i < INTERVAL_COUNT; i++) {
      const at = i * FIELDS;
      if (c[at + F_COUNT] > 0 && time < this.ends[i]) {
        if (price > c[at + F_HIGH]) c[at + F_HIGH] = price;
        if (price < c[at + F_LOW]) c[at + F_LOW] = price;
        c[at + F_CLOSE] = price;
        addExact(c, at + F_VOLUME, c, at + F_VOLUME_REST, size);
        addExact(c, at + F_NOTIONAL, c, at + F_NOTIONAL_REST, product);
        addExact(c, at + F_NOTIONAL, c, at + F_NOTIONAL_REST, error);
        c[at + F_COUNT] += 1;
      } else {
        if (c[at + F_COUNT] > 0) this.close(i);
        const start = intervalStart(time, i);
        this.ends[i] = start + this.lengths[i];
        c[at + F_START] = start;
        c[at + F_OPEN] = price;
        c[at + F_HIGH] = price;
        c[at + F_LOW] = price;
        c[at + F_CLOSE] = price;
        c[at + F_VOLUME] = size;
        c[at + F_VOLUME_REST] = 0;
        c[at + F_NOTIONAL] = product;
        c[at + F_NOTIONAL_REST] = 0;
        addExact(c, at + F_NOTIONAL, c, at + F_NOTIONAL_REST, error);
        c[at + F_COUNT] = 1;
      }
      if (this.follow === null || this.follow[i] !== 0) this.notify(i, c[at + F_COUNT], false);
    }
  }

  /** Moves the clock to `now` (if later) and closes every candle whose interval has ended. */
  tick(now: number): void {
    if (now > this.clockMicros) this.clockMicros = now;
    const time = this.clockMicros;
    for (let i = 0; i < INTERVAL_COUNT; i++) {
      if (this.building[i * FIELDS + F_COUNT] > 0 && time >= this.ends[i]) this.close(i);
    }
  }

  /** Pushes interval `interval`'s candle in progress, if any; returns whether there is one. */
  current(interval: number, sink: CandleSink): boolean {
    this.checkInterval(interval);
    const c = this.building;
    const at = interval * FIELDS;
    if (c[at + F_COUNT] === 0) return false;
    sink.push(
      c[at + F_START],
      c[at + F_OPEN],
      c[at + F_HIGH],
      c[at + F_LOW],
      c[at + F_CLOSE],
      c[at + F_VOLUME],
      c[at + F_VOLUME_REST],
      c[at + F_NOTIONAL],
      c[at + F_NOTIONAL_REST],
      c[at + F_COUNT],
    );
    return true;
  }

  /** Writes the clock and every candle in progress to a checkpoint (symbol-checkpoint.ts). */
  save(out: WordCursor): void {
    out.put(this.clockMicros);
    for (let i = 0; i < INTERVAL_COUNT; i++) {
      out.put(this.ends[i]);
      for (let f = 0; f < FIELDS; f++) out.put(this.building[i * FIELDS + f]);
    }
  }

  /**
   * Replaces the candles in progress with those save() wrote in checkpoint format `format` (1 had
   * no rests: its sums were plain, so they are 0); tells the listener nothing.
   */
  load(input: WordCursor, format: number): void {
    const fields = format >= 2 ? FIELDS : FORMAT_1_FIELDS;
    this.clockMicros = input.take();
    for (let i = 0; i < INTERVAL_COUNT; i++) {
      this.ends[i] = input.take();
      this.building.fill(0, i * FIELDS, (i + 1) * FIELDS);
      for (let f = 0; f < fields; f++) this.building[i * FIELDS + f] = input.take();
    }
  }


  /** Clears interval i's current candle and tells the listener it is final. */
  private close(i: number): void {
    const c = this.building;
    const at = i * FIELDS;
    const count = c[at + F_COUNT];
    // Cleared before the call, so a listener reading current() already sees no candle.
    c[at + F_COUNT] = 0;
    this.notify(i, count, true);
  }

  /** Hands interval i's candle to the listener; `count` is passed, since close() has cleared it. */
  private notify(i: number, count: number, final: boolean): void {
    const c = this.building;
    const at = i * FIELDS;
    this.listener.onCandle(
      i,
      c[at + F_START],
      c[at + F_OPEN],
      c[at + F_HIGH],
      c[at + F_LOW],
      c[at + F_CLOSE],
      c[at + F_VOLUME],
      c[at + F_VOLUME_REST],
      c[at + F_NOTIONAL],
      c[at + F_NOTIONAL_REST],
      count,
      final,
    );
  }

  private checkInterval(interval: number): void {
    if (!(Number.isInteger(interval) && interval >= 0 && interval < INTERVAL_COUNT)) {
      throw new BookcastError('INVALID_PARAMETER', `interval ${interval} is not an index of INTERVALS`);
    }
  }
}
