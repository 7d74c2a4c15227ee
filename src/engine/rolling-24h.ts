/**
 * 24-hour market statistics for one symbol over a true rolling window that ends at the
 * symbol's clock (not since midnight, not since start-up), updated in amortized O(1) per trade
 * and per expiry, with no allocation once the bucket ring has grown to the symbol's pace.
 *
 * Resolution, exactly: trades are aggregated into one bucket per second of the Unix epoch
 * (second s holds timestamps s*1e6 .. s*1e6+999999 µs). The window at clock `now` is
 *
 *     [floor((now - 24h) / 1s) * 1s,  now]
 *
 * that is, a trade leaves the window when the whole second it happened in is more than 24 hours
 * old. A trade stamped exactly now-24h is still inside, and so is every trade of its second:
 * the window spans between 24h and 24h + 1s - 1µs. Within that set of trades every figure is
 * exact (no sampling, no approximation). Being exact to the microsecond at the far edge would
 * need every trade of the oldest second, so memory would grow with the trade count; one second
 * is the price paid for memory bounded by the number of distinct seconds with trades in the
 * window: at most MAX_BUCKETS = 86,401.
 *
 * Clock: a single non-decreasing clock, the largest timestamp passed to addTrade() or advance().
 * A trade stamped earlier than the clock is booked as happening at the clock (sources may be a
 * few microseconds out of order; the window must never move backwards), and an advance() to an
 * earlier time changes nothing.
 *
 * High and low come from monotonic deques over the buckets (the sliding-window maximum: each
 * bucket enters and leaves each deque at most once per raise of its extreme, so amortized O(1)).
 * Open is the first trade of the oldest bucket still in the window; last is the latest trade.
 * Every figure (sums, extremes, open, last, vwap, change) reads 0 while the window is empty.
 *
 * Sums: count is a sum of integers, exact below 2^53. Volume and notional (price*size per trade,
 * whose product alone can pass 2^53) can pass 2^53 on a busy symbol, and then a running sum that
 * adds each trade and later subtracts its bucket would keep a rounding residue for as long as the
 * process runs. So both, per bucket and in total, are carried as exact pairs (util/exact-sum.ts),
 * the product split the same way (Dekker's product); a bucket leaves the total exactly as it came.
 * Readers get both words (volume and volumeRest, notional and notionalRest).
 *
 * Memory: 80 bytes per bucket slot (nine float64 columns and two int32 deques); the ring
 * starts at 64 slots and doubles, so a symbol that trades in every second of a day ends at
 * 131,072 slots (10 MiB). Growing is the only allocation.
 */

import { BookcastError } from '../errors';
import { addExact, productError } from '../util/exact-sum';
import { CHECKPOINT_FORMAT, WordCursor } from './word-cursor';

const SECOND = 1_000_000;
export const WINDOW_SECONDS = 86_400;
/** Seconds floor(now)-86400 .. floor(now), both ends included. */
export const MAX_BUCKETS = WINDOW_SECONDS + 1;
const INITIAL_CAPACITY = 64;
const T_VOLUME = 0;
const T_VOLUME_REST = 1;
const T_NOTIONAL = 2;
const T_NOTIONAL_REST = 3;

export class Rolling24h {
  private mask = INITIAL_CAPACITY - 1;
  private bucketSecond: Float64Array = new Float64Array(INITIAL_CAPACITY);
  private bucketVolume: Float64Array = new Float64Array(INITIAL_CAPACITY);
  private bucketVolumeError: Float64Array = new Float64Array(INITIAL_CAPACITY);
  private bucketNotional: Float64Array = new Float64Array(INITIAL_CAPACITY);
  private bucketNotionalError: Float64Array = new Float64Array(INITIAL_CAPACITY);
  private bucketCount: Float64Array = new Float64Array(INITIAL_CAPACITY);
  private bucketHigh: Float64Array = new Float64Array(INITIAL_CAPACITY);
  private bucketLow: Float64Array = new Float64Array(INITIAL_CAPACITY);
  private bucketOpen: Float64Array = new Float64Array(INITIAL_CAPACITY);
  /**
   * Sequences of the oldest live bucket and of the next one; a bucket's slot is its sequence
   * & mask. Sequences are int32 and wrap, which is harmless: only equality and differences
   * below the capacity are ever used, and the capacity divides 2^32.
   */
  private head = 0;
  private tail = 0;
  /** Bucket sequences with strictly falling highs, oldest first: the front is the window's high. */
  private maxima: Int32Array = new Int32Array(INITIAL_CAPACITY);
  private maxFront = 0;
  private maxLength = 0;
  /** Bucket sequences with strictly rising lows, oldest first: the front is the window's low. */
  private minima: Int32Array = new Int32Array(INITIAL_CAPACITY);
  private minFront = 0;
  private minLength = 0;
  /** The window's exact sums as pairs (util/exact-sum.ts): volume, its rest, notional, its rest. */
  private readonly totals = new Float64Array(4);
  private countSum = 0;
  private lastPrice = 0;
  private clockMicros = Number.NEGATIVE_INFINITY;
  /**
   * Changes whenever a figure may have (a trade, the window moving, a load): while it is the
   * same, so are volume, volumeRest, high, low, open and last. The ticker template keys on it.
   */
  version = 0;

  /** Books a trade at max(ts, clock), after expiring what that time pushes out of the window. */
  addTrade(ts: number, price: number, size: number): void {
    this.version++;
    if (ts > this.clockMicros) this.clockMicros = ts;
    const second = Math.floor(this.clockMicros / SECOND);
    this.expire(second - WINDOW_SECONDS);
    const notional = price * size;
    const notionalRest = productError(price, size, notional);
    const totals = this.totals;
    const newest = (this.tail - 1) | 0;
    if (this.head !== this.tail && this.bucketSecond[newest & this.mask] === second) {
      const slot = newest & this.mask;
      addExact(this.bucketVolume, slot, this.bucketVolumeError, slot, size);
      addExact(this.bucketNotional, slot, this.bucketNotionalError, slot, notional);
      addExact(this.bucketNotional, slot, this.bucketNotionalError, slot, notionalRest);
      this.bucketCount[slot] += 1;
      if (price > this.bucketHigh[slot]) {
        this.bucketHigh[slot] = price;
        this.pushMax(newest, price);
      }
      if (price < this.bucketLow[slot]) {
        this.bucketLow[slot] = price;
        this.pushMin(newest, price);
      }
    } else {
      if (((this.tail - this.head) | 0) === this.mask + 1) this.grow();
      const sequence = this.tail;
      const slot = sequence & this.mask;
      this.tail = (sequence + 1) | 0;
      this.bucketSecond[slot] = second;
      this.bucketVolume[slot] = size;
      this.bucketVolumeError[slot] = 0;
      this.bucketNotional[slot] = notional;
      this.bucketNotionalError[slot] = notionalRest;
      this.bucketCount[slot] = 1;
      this.bucketHigh[slot] = price;
      this.bucketLow[slot] = price;
      this.bucketOpen[slot] = price;
      this.pushMax(sequence, price);
      this.pushMin(sequence, price);
    }
    addExact(totals, T_VOLUME, totals, T_VOLUME_REST, size);
    addExact(totals, T_NOTIONAL, totals, T_NOTIONAL_REST, notional);
    addExact(totals, T_NOTIONAL, totals, T_NOTIONAL_REST, notionalRest);
    this.countSum += 1;
    this.lastPrice = price;
  }

  /** Moves the window's end to `now` (if later than the clock) and drops what left the window. */
  advance(now: number): void {
    this.version++;
    if (now > this.clockMicros) this.clockMicros = now;
    this.expire(Math.floor(this.clockMicros / SECOND) - WINDOW_SECONDS);
  }

  /** Sum of sizes in the window, as float64 rounds it; the exact sum is volume + volumeRest. */
  get volume(): number {
    return this.totals[T_VOLUME];
  }

  /** What volume's rounding left out: 0 until the sum passes 2^53. */
  get volumeRest(): number {
    return this.totals[T_VOLUME_REST];
  }

  /** Sum of price*size in the window, in price units x size units, as float64 rounds it. */
  get notional(): number {
    return this.totals[T_NOTIONAL];
  }

  /** The exact notional is notional + notionalRest. */
  get notionalRest(): number {
    return this.totals[T_NOTIONAL_REST];
  }

  /** Number of trades in the window. */
  get count(): number {
    return this.countSum;
  }

  get high(): number {
    return this.maxLength === 0 ? 0 : this.bucketHigh[this.maxima[this.maxFront] & this.mask];
  }

  get low(): number {
    return this.minLength === 0 ? 0 : this.bucketLow[this.minima[this.minFront] & this.mask];
  }

  /** Price of the first trade still in the window. */
  get open(): number {
    return this.head === this.tail ? 0 : this.bucketOpen[this.head & this.mask];
  }

  /** Price of the latest trade, while it is in the window. */
  get last(): number {
    return this.lastPrice;
  }

  /** The window's end: the largest time seen (-Infinity before any). */
  get clock(): number {
    return this.clockMicros;
  }

  /** The window's start, in microseconds: floor((clock - 24h) / 1s) * 1s. */
  get windowStart(): number {
    return (Math.floor(this.clockMicros / SECOND) - WINDOW_SECONDS) * SECOND;
  }

  /** Live buckets (distinct seconds with trades in the window); at most MAX_BUCKETS. */
  get buckets(): number {
    return (this.tail - this.head) | 0;
  }

  /** Bucket slots allocated. */
  get capacity(): number {
    return this.mask + 1;
  }

  /** Volume-weighted average price in price units, 0 when the window is empty. */
  vwap(): number {
    const t = this.totals;
    return t[T_VOLUME] === 0 ? 0 : (t[T_NOTIONAL] + t[T_NOTIONAL_REST]) / (t[T_VOLUME] + t[T_VOLUME_REST]);
  }

  /** (last - open) / open as a percentage, 0 when the window is empty or open is 0. */
  changePercent(): number {
    const open = this.open;
    return open === 0 ? 0 : ((this.lastPrice - open) / open) * 100;
  }

  /** Words save() writes: eight scalars, then nine columns of the live buckets. */
  get savedWords(): number {
    return 8 + 9 * this.buckets;
  }

  /**
   * Writes the whole window to a checkpoint (symbol-checkpoint.ts), oldest bucket first. The
   * running sums go as they are, not recomputed, so every later figure rounds exactly as it
   * would have. The high/low deques are not written: each is a function of the buckets (the
   * buckets whose extreme beats every later bucket's, see pushMax), so load() rebuilds them.
   */
  save(out: WordCursor): void {
    out.put(this.clockMicros);
    out.put(this.totals[T_VOLUME]);
    out.put(this.totals[T_VOLUME_REST]);
    out.put(this.totals[T_NOTIONAL]);
    out.put(this.totals[T_NOTIONAL_REST]);
    out.put(this.countSum);
    out.put(this.lastPrice);
    const n = this.buckets;
    out.put(n);
    // The live buckets are one run of the ring, or two when they wrap past its end.
    const from = this.head & this.mask;
    const first = Math.min(n, this.mask + 1 - from);
    for (const column of this.columns(CHECKPOINT_FORMAT)) {
      out.words.set(column.subarray(from, from + first), out.at);
      out.words.set(column.subarray(0, n - first), out.at + first);
      out.at += n;
    }
  }

  /**
   * Replaces this window with one save() wrote, in checkpoint format `format`: format 1 had no
   * volume error (volumes then were plain sums, so it is 0).
   */
  load(input: WordCursor, format: number): void {
    this.version++;
    this.clockMicros = input.take();
    this.totals[T_VOLUME] = input.take();
    this.totals[T_VOLUME_REST] = format >= 2 ? input.take() : 0;
    this.totals[T_NOTIONAL] = input.take();
    this.totals[T_NOTIONAL_REST] = input.take();
    this.countSum = input.take();
    this.lastPrice = input.take();
    const n = input.take();
    if (!(Number.isInteger(n) && n >= 0 && n <= MAX_BUCKETS)) {
      throw new BookcastError('CHECKPOINT_CORRUPT', `checkpoint holds ${n} statistics buckets, at most ${MAX_BUCKETS} are possible`);
    }
    let capacity = INITIAL_CAPACITY;
    while (capacity < n) capacity *= 2;
    this.mask = capacity - 1;
    this.bucketSecond = new Float64Array(capacity);
    this.bucketVolume = new Float64Array(capacity);
    this.bucketVolumeError = new Float64Array(capacity);
    this.bucketNotional = new Float64Array(capacity);
    this.bucketNotionalError = new Float64Array(capacity);
    this.bucketCount = new Float64Array(capacity);
    this.bucketHigh = new Float64Array(capacity);
    this.bucketLow = new Float64Array(capacity);
    this.bucketOpen = new Float64Array(capacity);
    const columns = this.columns(format);
    if (input.at + columns.length * n > input.words.length) throw new BookcastError('CHECKPOINT_CORRUPT', `checkpoint ends inside its ${n} statistics buckets`);
    for (const column of columns) {
      column.set(input.words.subarray(input.at, input.at + n));
      input.at += n;
    }
    this.head = 0;
    this.tail = n;
    this.maxima = new Int32Array(capacity);
    this.maxFront = 0;
    this.maxLength = 0;
    this.minima = new Int32Array(capacity);
    this.minFront = 0;
    this.minLength = 0;
    for (let k = 0; k < n; k++) {
      this.pushMax(k, this.bucketHigh[k]);
      this.pushMin(k, this.bucketLow[k]);
    }
  }

  /** The bucket columns, in the order checkpoint format `format` holds them. */
  private columns(format: number): Float64Array[] {
    return [
      this.bucketSecond,
      this.bucketVolume,
      ...(format >= 2 ? [this.bucketVolumeError] : []),
      this.bucketNotional,
      this.bucketNotionalError,
      this.bucketCount,
      this.bucketHigh,
      this.bucketLow,
      this.bucketOpen,
    ];
  }

  /** Drops every bucket whose second is before `cutoff`. */
  private expire(cutoff: number): void {
    const mask = this.mask;
    const tail = this.tail;
    let head = this.head;
    if (head === tail || this.bucketSecond[head & mask] >= cutoff) return;
    do {
      const slot = head & mask;
      const totals = this.totals;
      addExact(totals, T_VOLUME, totals, T_VOLUME_REST, -this.bucketVolume[slot]);
      addExact(totals, T_VOLUME, totals, T_VOLUME_REST, -this.bucketVolumeError[slot]);
      addExact(totals, T_NOTIONAL, totals, T_NOTIONAL_REST, -this.bucketNotional[slot]);
      addExact(totals, T_NOTIONAL, totals, T_NOTIONAL_REST, -this.bucketNotionalError[slot]);
      this.countSum -= this.bucketCount[slot];
      if (this.maxLength > 0 && this.maxima[this.maxFront] === head) {
        this.maxFront = (this.maxFront + 1) & mask;
        this.maxLength--;
      }
      if (this.minLength > 0 && this.minima[this.minFront] === head) {
        this.minFront = (this.minFront + 1) & mask;
        this.minLength--;
      }
      head = (head + 1) | 0;
    } while (head !== tail && this.bucketSecond[head & mask] < cutoff);
    this.head = head;
    if (head === tail) {
      this.totals.fill(0);
      this.countSum = 0;
      this.lastPrice = 0;
    }
  }

  /** Appends bucket `sequence` (the newest) whose high is now `price`, dropping lower-or-equal highs. */
  private pushMax(sequence: number, price: number): void {
    const mask = this.mask;
    let length = this.maxLength;
    while (length > 0 && this.bucketHigh[this.maxima[(this.maxFront + length - 1) & mask] & mask] <= price) length--;
    this.maxima[(this.maxFront + length) & mask] = sequence;
    this.maxLength = length + 1;
  }

  /** Appends bucket `sequence` (the newest) whose low is now `price`, dropping higher-or-equal lows. */
  private pushMin(sequence: number, price: number): void {
    const mask = this.mask;
    let length = this.minLength;
    while (length > 0 && this.bucketLow[this.minima[(this.minFront + length - 1) & mask] & mask] >= price) length--;
    this.minima[(this.minFront + length) & mask] = sequence;
    this.minLength = length + 1;
  }

  /** Doubles the ring: each bucket moves to its sequence's slot under the new mask. */
  private grow(): void {
    const oldMask = this.mask;
    const capacity = (oldMask + 1) * 2;
    const mask = capacity - 1;
    const move = (from: Float64Array): Float64Array => {
      const to = new Float64Array(capacity);
      for (let sequence = this.head; sequence !== this.tail; sequence = (sequence + 1) | 0) {
        to[sequence & mask] = from[sequence & oldMask];
      }
      return to;
    };
    this.bucketSecond = move(this.bucketSecond);
    this.bucketVolume = move(this.bucketVolume);
    this.bucketVolumeError = move(this.bucketVolumeError);
    this.bucketNotional = move(this.bucketNotional);
    this.bucketNotionalError = move(this.bucketNotionalError);
    this.bucketCount = move(this.bucketCount);
    this.bucketHigh = move(this.bucketHigh);
    this.bucketLow = move(this.bucketLow);
    this.bucketOpen = move(this.bucketOpen);
    const maxima = new Int32Array(capacity);
    for (let k = 0; k < this.maxLength; k++) maxima[k] = this.maxima[(this.maxFront + k) & oldMask];
    const minima = new Int32Array(capacity);
    for (let k = 0; k < this.minLength; k++) minima[k] = this.minima[(this.minFront + k) & oldMask];
    this.maxima = maxima;
    this.maxFront = 0;
    this.minima = minima;
    this.minFront = 0;
    this.mask = mask;
  }
}
