import { BookcastError } from '../errors';
import { INTERVAL_COUNT, INTERVALS, intervalStart } from './intervals';

/**
 * OHLCV candles for one symbol, one current candle per interval of INTERVALS, built from the
 * trades in O(INTERVAL_COUNT) per trade with no allocation: all state lives in float64 columns
 * sized at construction.
 *
 * A candle covers [start, start + length) (epoch-aligned, see intervals.ts): a trade stamped
 * exactly on a boundary opens the new candle. A candle exists only once a trade falls in it, so
 * empty intervals produce nothing (no flat candles carried from the previous close).
 *
 * Clock: like RollingStats, one non-decreasing clock, the largest timestamp passed to onTrade()
 * or tick(). A trade stamped before the clock is booked as happening at the clock, which is
 * what makes "final" final: once tick(now) has closed a candle, a late trade cannot reopen it
 * and no start is ever emitted final twice. An owner that ticks from a wall clock while trades
 * carry source timestamps should therefore tick with now minus the source's expected lag.
 *
 * The listener hears (a) after every trade, the updated current candle of every interval,
 * final=false, in interval order; (b) exactly once per candle, final=true, when its interval
 * has ended: when a trade at or after start + length arrives (the final comes before that
 * trade's own final=false calls) or when tick(now) finds now >= start + length. The final has
 * the same figures as the last final=false call for that candle.
 *
 * Volume and notional are plain float64 sums: exact below 2^53 and, since nothing is ever
 * subtracted from them, merely rounded beyond.
 *
 * The last `keep` final candles of each interval stay in a preallocated ring for REST reads
 * (recent()); current() reads the candle in progress. Memory: 64 bytes per kept candle per
 * interval, 384 KB per symbol at the default keep of 1,000.
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
    notional: number,
    count: number,
    final: boolean,
  ): void;
}

/** Receives stored candles from recent() and current(). */
export interface CandleSink {
  push(
    start: number,
    open: number,
    high: number,
    low: number,
    close: number,
    volume: number,
    notional: number,
    count: number,
  ): void;
}

export const DEFAULT_KEEP = 1000;

// One candle is a row of FIELDS float64 words, in the table of candles in progress and in the
// history rings.
const F_START = 0;
const F_OPEN = 1;
const F_HIGH = 2;
const F_LOW = 3;
const F_CLOSE = 4;
const F_VOLUME = 5;
const F_NOTIONAL = 6;
const F_COUNT = 7;
const FIELDS = 8;

export class CandleBuilder {
  /** Final candles kept per interval. */
  readonly keep: number;
  private readonly listener: CandleListener;
  private readonly lengths = new Float64Array(INTERVAL_COUNT);
  /** start + length of each current candle: a trade before it updates, at or after it closes. */
  private readonly ends = new Float64Array(INTERVAL_COUNT);
  /** Row i is interval i's current candle; a count of 0 means there is none. */
  private readonly building = new Float64Array(INTERVAL_COUNT * FIELDS);
  /** Interval i's ring of `keep` rows starts at row i * keep. */
  private readonly history: Float64Array;
  /** Per interval: the ring row the next final candle goes to, and how many rows are filled. */
  private readonly next = new Int32Array(INTERVAL_COUNT);
  private readonly filled = new Int32Array(INTERVAL_COUNT);
  private clockMicros = Number.NEGATIVE_INFINITY;

  constructor(listener: CandleListener, keep: number = DEFAULT_KEEP) {
    if (!Number.isInteger(keep) || keep < 1 || keep > 1 << 20) {
      throw new BookcastError('CONFIG_INVALID', `candles kept per interval must be an integer in 1..${1 << 20}, not ${keep}`);
    }
    this.listener = listener;
    this.keep = keep;
    this.history = new Float64Array(INTERVAL_COUNT * keep * FIELDS);
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
    for (let i = 0; i < INTERVAL_COUNT; i++) {
      const at = i * FIELDS;
      if (c[at + F_COUNT] > 0 && time < this.ends[i]) {
        if (price > c[at + F_HIGH]) c[at + F_HIGH] = price;
        if (price < c[at + F_LOW]) c[at + F_LOW] = price;
        c[at + F_CLOSE] = price;
        c[at + F_VOLUME] += size;
        c[at + F_NOTIONAL] += price * size;
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
        c[at + F_NOTIONAL] = price * size;
        c[at + F_COUNT] = 1;
      }
      this.listener.onCandle(
        i,
        c[at + F_START],
        c[at + F_OPEN],
        c[at + F_HIGH],
        c[at + F_LOW],
        c[at + F_CLOSE],
        c[at + F_VOLUME],
        c[at + F_NOTIONAL],
        c[at + F_COUNT],
        false,
      );
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

  /**
   * Pushes interval `interval`'s stored final candles with from <= start <= to, oldest first;
   * when more than `limit` qualify, only the newest `limit` of them. Returns how many it
   * pushed. Only the last `keep` final candles are stored; the current one is not (current()).
   */
  recent(interval: number, from: number, to: number, limit: number, sink: CandleSink): number {
    this.checkInterval(interval);
    const filled = this.filled[interval];
    // Logical row k (0 = oldest stored) is ring row (first + k) % keep.
    const first = (this.next[interval] - filled + this.keep) % this.keep;
    const base = interval * this.keep;
    // Starts increase along the ring, so both ends are binary searches.
    let lo = 0;
    let hi = filled;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.storedStart(base, first, mid) < from) lo = mid + 1;
      else hi = mid;
    }
    const begin = lo;
    hi = filled;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.storedStart(base, first, mid) <= to) lo = mid + 1;
      else hi = mid;
    }
    const end = lo;
    const take = limit >= 1 ? Math.min(end - begin, Math.floor(limit)) : 0;
    for (let k = end - take; k < end; k++) this.pushRow(this.history, base + ((first + k) % this.keep), sink);
    return take;
  }

  /** Pushes interval `interval`'s candle in progress, if any; returns whether there is one. */
  current(interval: number, sink: CandleSink): boolean {
    this.checkInterval(interval);
    if (this.building[interval * FIELDS + F_COUNT] === 0) return false;
    this.pushRow(this.building, interval, sink);
    return true;
  }

  /** Stores interval i's current candle as final, clears it, and tells the listener. */
  private close(i: number): void {
    const c = this.building;
    const h = this.history;
    const from = i * FIELDS;
    const row = this.next[i];
    const to = (i * this.keep + row) * FIELDS;
    for (let f = 0; f < FIELDS; f++) h[to + f] = c[from + f];
    this.next[i] = row + 1 === this.keep ? 0 : row + 1;
    if (this.filled[i] < this.keep) this.filled[i]++;
    c[from + F_COUNT] = 0;
    this.listener.onCandle(
      i,
      h[to + F_START],
      h[to + F_OPEN],
      h[to + F_HIGH],
      h[to + F_LOW],
      h[to + F_CLOSE],
      h[to + F_VOLUME],
      h[to + F_NOTIONAL],
      h[to + F_COUNT],
      true,
    );
  }

  private storedStart(base: number, first: number, k: number): number {
    return this.history[(base + ((first + k) % this.keep)) * FIELDS + F_START];
  }

  private pushRow(table: Float64Array, row: number, sink: CandleSink): void {
    const at = row * FIELDS;
    sink.push(
      table[at + F_START],
      table[at + F_OPEN],
      table[at + F_HIGH],
      table[at + F_LOW],
      table[at + F_CLOSE],
      table[at + F_VOLUME],
      table[at + F_NOTIONAL],
      table[at + F_COUNT],
    );
  }

  private checkInterval(interval: number): void {
    if (!(Number.isInteger(interval) && interval >= 0 && interval < INTERVAL_COUNT)) {
      throw new BookcastError('INVALID_PARAMETER', `interval ${interval} is not an index of INTERVALS`);
    }
  }
}
