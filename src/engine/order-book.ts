import { CHECKSUM_DEPTH } from '../model/depths';
import { checksumJoin, checksumOfSides, crcUnits, decimalLength } from './book-checksum';
import { crc32Shift, crc32ShiftLong, crc32Unshift } from '../util/crc32';
import { NO_SLOT, OrderIndex } from './order-index';
import {
  ASK,
  BID,
  BookListener,
  LEVEL_INSERT,
  LEVEL_REMOVE,
  LEVEL_UPDATE,
  OK,
  ORDER_ADD,
  ORDER_MODIFY,
  ORDER_REMOVE,
  REJECT_BAD_EVENT,
  REJECT_BAD_PRICE,
  REJECT_BAD_SIDE,
  REJECT_BAD_SIZE,
  REJECT_DUPLICATE_ORDER,
  REJECT_LEVEL_OVERFLOW,
  REJECT_OFF_LOT,
  REJECT_OFF_TICK,
  REJECT_UNKNOWN_ORDER,
  Side,
} from '../model/book-types';

/**
 * The L3 book of one symbol, with its L2 levels and L1 top, built from a matching engine's
 * order feed. A builder, not a matcher: it believes the feed, so a crossed add rests as given.
 * Single writer; no method allocates in steady state.
 *
 * Layout (all preallocated typed arrays, doubled when full):
 *
 *   orders   struct-of-arrays slots: id, price, size, side, level slot, prev/next slot
 *            (a doubly linked FIFO per level); free slots chained through `next`.
 *            An OrderIndex (typed-array hash table) maps order id to slot.
 *   levels   struct-of-arrays slots: price, aggregate size, order count, FIFO head/tail,
 *            and the level's cached checksum pieces (see book-checksum.ts).
 *   sides    per side, level slots sorted by key with the BEST LEVEL LAST, so the busy top of
 *            the book is the cheap end to insert at or remove from (copyWithin moves only the
 *            levels better than the one touched). key = price for bids, -price for asks, so
 *            both sides sort ascending and share one binary search.
 *            position (0 = best) = count - 1 - index.
 *
 * Every mutation validates everything before touching anything: a reject changes nothing
 * and calls no listener. Listener calls come after the state has changed, onOrder before
 * onLevel for each order change; execute() calls onTrade before any change.
 *
 * Reject codes: side not BID/ASK → BAD_SIDE; an order id to be created
 * (add, replace's new id) that is not a positive safe integer → BAD_EVENT; an id to be found
 * that is not live → UNKNOWN_ORDER; price NaN, <= 0 or above 2^53 - 1 → BAD_PRICE, not a
 * multiple of tickUnits (fractions included) → OFF_TICK; size not a positive safe integer, or
 * more than the order holds (cancel, execute), or not less than it (modify) → BAD_SIZE, not a
 * multiple of lotUnits → OFF_LOT; a new id already live (other than replace's own) →
 * DUPLICATE_ORDER; an add or replace that would take its level's total size past 2^53 - 1 →
 * LEVEL_OVERFLOW. Level totals are sums of sizes, so that bound keeps every one of them (and the
 * checksum over them) exact: each order is at most 2^53 - 1 and every reduction subtracts from
 * an exact total.
 */

const NONE = -1;
const MAX_UNITS = Number.MAX_SAFE_INTEGER;
const DEFAULT_CAPACITY = 1024;
/** Prefixes kept per side for the checksum: of the best 0 to CHECKSUM_DEPTH levels. */
const PREFIXES = CHECKSUM_DEPTH + 1;
// What changed among a side's top levels since its last checksum (see checksumSide): sizes only,
// exactly one level inserted, exactly one removed, or anything else.
const CHANGED_SIZES = 0;
const CHANGED_INSERT = 1;
const CHANGED_REMOVE = 2;
const CHANGED_MANY = 3;

export interface OrderVisitor {
  visit(orderId: number, price: number, size: number): void;
}

/**
 * a ^ crc32Shift(a, n): what moving a prefix's register (a) n bytes further from the text's end
 * changes in the whole register; 0 for the empty prefix.
 */
function moved(a: number, n: number): number {
  return a === 0 ? 0 : a ^ crc32Shift(a, n);
}

function isPositiveSafeInteger(value: number): boolean {
  return value > 0 && value <= MAX_UNITS && value % 1 === 0;
}

/** Non-integer prices are off every tick grid; non-positive or unsafe ones are bad. */
function priceCheck(price: number, tickUnits: number): number {
  if (!(price > 0 && price <= MAX_UNITS)) return REJECT_BAD_PRICE;
  return price % tickUnits === 0 ? OK : REJECT_OFF_TICK;
}

function sizeCheck(size: number, lotUnits: number): number {
  if (!(size > 0 && size <= MAX_UNITS) || size % 1 !== 0) return REJECT_BAD_SIZE;
  return size % lotUnits === 0 ? OK : REJECT_OFF_LOT;
}

function grownF64(a: Float64Array, length: number): Float64Array {
  const b = new Float64Array(length);
  b.set(a);
  return b;
}

function grownI32(a: Int32Array, length: number): Int32Array {
  const b = new Int32Array(length);
  b.set(a);
  return b;
}

function grownU8(a: Uint8Array, length: number): Uint8Array {
  const b = new Uint8Array(length);
  b.set(a);
  return b;
}

function incrementError(what: string, value: number): Error {
  return Object.assign(new Error(`order book ${what} must be a positive safe integer, got ${value}`), {
    code: 'ERR_BOOK_INCREMENT',
  });
}

export class OrderBook {
  readonly tickUnits: number;
  readonly lotUnits: number;
  private listener: BookListener | null;

  private readonly slotOf: OrderIndex;
  private live = 0;
  private orderFresh = 0; // slots at and above it were never used
  private orderFree = NONE;
  private oId: Float64Array;
  private oPrice: Float64Array;
  private oSize: Float64Array;
  private oSide: Uint8Array;
  private oLevel: Int32Array;
  private oPrev: Int32Array;
  private oNext: Int32Array;

  private levelFresh = 0;
  private levelFree = NONE; // chained through lHead
  private lPrice: Float64Array;
  private lSize: Float64Array;
  private lCount: Int32Array;
  private lHead: Int32Array;
  private lTail: Int32Array;
  // The level's checksum pieces, kept so checksum() redoes only levels that changed since: the
  // register of its price's digits (lPriceLength 0 = not fed yet; a price has at least one
  // digit) and of its whole text, stale when the size changed.
  private lPriceCrc: Int32Array;
  private lPriceLength: Uint8Array;
  private lStale: Uint8Array;
  private lCrc: Int32Array;
  private lTextLength: Uint8Array;
  // Per side: the register (from 0) and length of its top levels' text; the same for its best p
  // levels at [side * PREFIXES + p], p = 0..CHECKSUM_DEPTH (p = 0: the empty text, never
  // written), of which the registers are current up to prefixValid and the lengths up to
  // lengthValid (never below prefixValid); the positions (first, last) changed since the last
  // checksum and what changed there (CHANGED_*); for a single insert or remove, the register
  // and length of the level that left the top (pushed out past it, or removed; length 0: none).
  // See checksumSide.
  private readonly sideCrc = new Int32Array(2);
  private readonly sideLength = new Int32Array(2);
  private readonly prefixCrc = new Int32Array(2 * PREFIXES);
  private readonly prefixLength = new Int32Array(2 * PREFIXES);
  private readonly prefixValid = new Int32Array(2);
  private readonly lengthValid = new Int32Array(2);
  private readonly changedFrom = new Int32Array(2);
  private readonly changedTo = new Int32Array(2);
  private readonly change = new Uint8Array([CHANGED_MANY, CHANGED_MANY]);
  private readonly goneCrc = new Int32Array(2);
  private readonly goneLength = new Int32Array(2);

  private readonly keys: Float64Array[];
  private readonly levels: Int32Array[];
  private readonly counts = new Int32Array(2);

  /** `capacity`: orders to preallocate for (storage still doubles when it runs out). */
  constructor(tickUnits: number, lotUnits: number, listener: BookListener | null, capacity = DEFAULT_CAPACITY) {
    if (!isPositiveSafeInteger(tickUnits)) throw incrementError('tickUnits', tickUnits);
    if (!isPositiveSafeInteger(lotUnits)) throw incrementError('lotUnits', lotUnits);
    this.tickUnits = tickUnits;
    this.lotUnits = lotUnits;
    this.listener = listener;
    const orders = Math.max(16, capacity | 0);
    this.slotOf = new OrderIndex(orders);
    this.oId = new Float64Array(orders);
    this.oPrice = new Float64Array(orders);
    this.oSize = new Float64Array(orders);
    this.oSide = new Uint8Array(orders);
    this.oLevel = new Int32Array(orders);
    this.oPrev = new Int32Array(orders);
    this.oNext = new Int32Array(orders);
    const levels = Math.max(16, orders >> 2);
    this.lPrice = new Float64Array(levels);
    this.lSize = new Float64Array(levels);
    this.lCount = new Int32Array(levels);
    this.lHead = new Int32Array(levels);
    this.lTail = new Int32Array(levels);
    this.lPriceCrc = new Int32Array(levels);
    this.lPriceLength = new Uint8Array(levels);
    this.lStale = new Uint8Array(levels);
    this.lCrc = new Int32Array(levels);
    this.lTextLength = new Uint8Array(levels);
    this.keys = [new Float64Array(levels), new Float64Array(levels)];
    this.levels = [new Int32Array(levels), new Int32Array(levels)];
  }

  setListener(listener: BookListener | null): void {
    this.listener = listener;
  }

  // ---- mutations -------------------------------------------------------------------------

  add(orderId: number, side: number, price: number, size: number): number {
    if (side !== BID && side !== ASK) return REJECT_BAD_SIDE;
    if (!isPositiveSafeInteger(orderId)) return REJECT_BAD_EVENT;
    const priceStatus = priceCheck(price, this.tickUnits);
    if (priceStatus !== OK) return priceStatus;
    const sizeStatus = sizeCheck(size, this.lotUnits);
    if (sizeStatus !== OK) return sizeStatus;
    if (this.slotOf.has(orderId)) return REJECT_DUPLICATE_ORDER;
    return this.insertOrder(orderId, side, price, size);
  }

  cancel(orderId: number, size: number): number {
    const slot = this.slotOf.get(orderId);
    if (slot === NO_SLOT) return REJECT_UNKNOWN_ORDER;
    const status = this.reductionCheck(slot, size);
    if (status !== OK) return status;
    if (size === this.oSize[slot]) this.removeOrder(slot);
    else this.reduceOrder(slot, size);
    return OK;
  }

  delete(orderId: number): number {
    const slot = this.slotOf.get(orderId);
    if (slot === NO_SLOT) return REJECT_UNKNOWN_ORDER;
    this.removeOrder(slot);
    return OK;
  }

  modify(orderId: number, newSize: number): number {
    const slot = this.slotOf.get(orderId);
    if (slot === NO_SLOT) return REJECT_UNKNOWN_ORDER;
    const status = sizeCheck(newSize, this.lotUnits);
    if (status !== OK) return status;
    const remaining = this.oSize[slot];
    if (newSize >= remaining) return REJECT_BAD_SIZE;
    this.reduceOrder(slot, remaining - newSize);
    return OK;
  }

  replace(orderId: number, newOrderId: number, price: number, size: number): number {
    const slot = this.slotOf.get(orderId);
    if (slot === NO_SLOT) return REJECT_UNKNOWN_ORDER;
    if (!isPositiveSafeInteger(newOrderId)) return REJECT_BAD_EVENT;
    const priceStatus = priceCheck(price, this.tickUnits);
    if (priceStatus !== OK) return priceStatus;
    const sizeStatus = sizeCheck(size, this.lotUnits);
    if (sizeStatus !== OK) return sizeStatus;
    if (newOrderId !== orderId && this.slotOf.has(newOrderId)) return REJECT_DUPLICATE_ORDER;
    const side = this.oSide[slot];
    // The order leaves its level first: at the same price the level loses its old size.
    const leaving = price === this.oPrice[slot] ? this.oSize[slot] : 0;
    if (this.levelTotal(side, price) - leaving + size > MAX_UNITS) return REJECT_LEVEL_OVERFLOW;
    this.removeOrder(slot);
    this.insertOrder(newOrderId, side, price, size);
    return OK;
  }

  execute(orderId: number, size: number): number {
    const slot = this.slotOf.get(orderId);
    if (slot === NO_SLOT) return REJECT_UNKNOWN_ORDER;
    const status = this.reductionCheck(slot, size);
    if (status !== OK) return status;
    if (this.listener !== null) {
      this.listener.onTrade(this.oPrice[slot], size, (this.oSide[slot] ^ 1) as Side, orderId);
    }
    if (size === this.oSize[slot]) this.removeOrder(slot);
    else this.reduceOrder(slot, size);
    return OK;
  }

  trade(price: number, size: number, aggressor: number): number {
    if (aggressor !== BID && aggressor !== ASK) return REJECT_BAD_SIDE;
    const priceStatus = priceCheck(price, this.tickUnits);
    if (priceStatus !== OK) return priceStatus;
    const sizeStatus = sizeCheck(size, this.lotUnits);
    if (sizeStatus !== OK) return sizeStatus;
    if (this.listener !== null) this.listener.onTrade(price, size, aggressor, 0);
    return OK;
  }

  /** Forgets every order at once (slots are recycled from scratch); tells no listener. */
  clear(): void {
    this.slotOf.clear();
    this.live = 0;
    this.orderFresh = 0;
    this.orderFree = NONE;
    this.levelFresh = 0;
    this.levelFree = NONE;
    this.counts[BID] = 0;
    this.counts[ASK] = 0;
    this.changedFrom.fill(0);
    this.change.fill(CHANGED_MANY);
  }

  // ---- queries ---------------------------------------------------------------------------

  get orderCount(): number {
    return this.live;
  }

  levelCount(side: number): number {
    return side === BID || side === ASK ? this.counts[side] : 0;
  }

  levelPrice(side: number, position: number): number {
    const level = this.levelAt(side, position);
    return level === NONE ? 0 : this.lPrice[level];
  }

  levelSize(side: number, position: number): number {
    const level = this.levelAt(side, position);
    return level === NONE ? 0 : this.lSize[level];
  }

  levelOrderCount(side: number, position: number): number {
    const level = this.levelAt(side, position);
    return level === NONE ? 0 : this.lCount[level];
  }

  bestPrice(side: number): number {
    return this.levelPrice(side, 0);
  }

  bestSize(side: number): number {
    return this.levelSize(side, 0);
  }

  /**
   * The best bid's price and size, then the best ask's, into out[0..3] (0 and 0 for an empty
   * side): a ticker's quote in one call rather than four through levelAt.
   */
  bestLevels(out: Float64Array): void {
    const bids = this.counts[BID];
    const asks = this.counts[ASK];
    const bid = bids === 0 ? NONE : this.levels[BID][bids - 1];
    const ask = asks === 0 ? NONE : this.levels[ASK][asks - 1];
    out[0] = bid === NONE ? 0 : this.lPrice[bid];
    out[1] = bid === NONE ? 0 : this.lSize[bid];
    out[2] = ask === NONE ? 0 : this.lPrice[ask];
    out[3] = ask === NONE ? 0 : this.lSize[ask];
  }

  hasOrder(orderId: number): boolean {
    return this.slotOf.has(orderId);
  }

  orderPrice(orderId: number): number {
    const slot = this.slotOf.get(orderId);
    return slot === NO_SLOT ? NaN : this.oPrice[slot];
  }

  orderSize(orderId: number): number {
    const slot = this.slotOf.get(orderId);
    return slot === NO_SLOT ? NaN : this.oSize[slot];
  }

  orderSide(orderId: number): number {
    const slot = this.slotOf.get(orderId);
    return slot === NO_SLOT ? -1 : this.oSide[slot];
  }

  /** The order at the head of that level's queue (next to fill), 0 if there is no such level. */
  firstOrderAt(side: number, position: number): number {
    const level = this.levelAt(side, position);
    return level === NONE ? 0 : this.oId[this.lHead[level]];
  }

  /** The order queued right behind `orderId` at its price, 0 at the end or if unknown. */
  nextOrder(orderId: number): number {
    const slot = this.slotOf.get(orderId);
    if (slot === NO_SLOT) return 0;
    const next = this.oNext[slot];
    return next === NONE ? 0 : this.oId[next];
  }

  /** Visits one side from the best price down, each level in queue order. O(orders on that side). */
  forEachOrder(side: number, visitor: OrderVisitor): void {
    if (side !== BID && side !== ASK) return;
    const levels = this.levels[side];
    for (let index = this.counts[side] - 1; index >= 0; index--) {
      for (let slot = this.lHead[levels[index]]; slot !== NONE; slot = this.oNext[slot]) {
        visitor.visit(this.oId[slot], this.oPrice[slot], this.oSize[slot]);
      }
    }
  }

  /**
   * Copies the price and size of positions from..to (to < levelCount(side)) into `target`, level
   * i at at + stride * (i - from): the mirror's refresh, without a bounds check per field.
   */
  copyLevels(side: number, from: number, to: number, target: Float64Array, at: number, stride: number): void {
    const levels = this.levels[side];
    const best = this.counts[side] - 1;
    for (let i = from; i <= to; i++, at += stride) {
      const level = levels[best - i];
      target[at] = this.lPrice[level];
      target[at + 1] = this.lSize[level];
    }
  }

  /** Kraken v2 book checksum of the top 10 levels per side (see book-checksum.ts). O(20). */
  checksum(): number {
    this.checksumSide(ASK);
    this.checksumSide(BID);
    return checksumOfSides(this.sideCrc[ASK], this.sideLength[ASK], this.sideCrc[BID], this.sideLength[BID]);
  }

  // ---- internals -------------------------------------------------------------------------

  /**
   * Brings one side's register up to date: in place when one thing changed (see updateSide),
   * else by joining the side's top levels best first (asks low to high, bids high to low) from
   * the first changed position or the last current prefix, whichever is earlier.
   */
  private checksumSide(side: number): void {
    const from = this.changedFrom[side];
    if (from === CHECKSUM_DEPTH) return;
    const to = this.changedTo[side];
    const change = this.change[side];
    this.changedFrom[side] = CHECKSUM_DEPTH;
    this.changedTo[side] = -1;
    if (from === to && change !== CHANGED_MANY && this.updateSide(side, from, change)) return;
    const count = this.counts[side];
    const levels = this.levels[side];
    const base = side * PREFIXES;
    const top = count < CHECKSUM_DEPTH ? count : CHECKSUM_DEPTH;
    const start = from < this.prefixValid[side] ? from : this.prefixValid[side];
    let state = this.prefixCrc[base + start];
    let length = this.prefixLength[base + start];
    for (let position = start; position < top; position++) {
      const level = levels[count - 1 - position];
      if (this.lStale[level] !== 0) this.refreshLevel(level);
      state = checksumJoin(state, this.lCrc[level], this.lTextLength[level]);
      length += this.lTextLength[level];
      this.prefixCrc[base + position + 1] = state;
      this.prefixLength[base + position + 1] = length;
    }
    this.prefixValid[side] = top;
    this.lengthValid[side] = top;
    this.sideCrc[side] = state;
    this.sideLength[side] = length;
  }

  /**
   * Updates a side's register for one change at `position` (sizes there, or one level inserted
   * or removed) without a join, which would cost a shift per level below it: a best-level insert
   * on a full side rejoined all ten. The register is linear in each level's part, so with a the
   * register of the text before `position` (its prefix) and T the text after the change:
   *
   *   size X -> X'   side ^= shift(moved(a, |X|) ^ moved(a, |X'|) ^ x ^ x', |T|)
   *   insert L       side ^= shift(moved(a, |L|) ^ l, |T|), once the level pushed past the top,
   *                  if any, is unshifted out
   *   remove X       side ^= shift(moved(a, |X|) ^ x, |T|), then the level that slid into the
   *                  top, if any, is appended
   *
   * where moved(a, n) = a ^ shift(a, n). A size change that keeps the text's length needs no a,
   * only the length before `position` (brought up to date from the levels' lengths if needed);
   * the others need a current prefix there and return false (rejoin) without one. Prefixes past
   * `position` go stale, and their lengths too when a length changed.
   */
  private updateSide(side: number, position: number, change: number): boolean {
    const base = side * PREFIXES;
    const count = this.counts[side];
    let crc = this.sideCrc[side];
    let length = this.sideLength[side];
    if (change === CHANGED_SIZES) {
      const level = this.levels[side][count - 1 - position];
      const oldCrc = this.lCrc[level];
      const oldLength = this.lTextLength[level];
      this.refreshLevel(level);
      const newLength = this.lTextLength[level];
      let x = oldCrc ^ this.lCrc[level];
      if (newLength !== oldLength) {
        if (position > this.prefixValid[side]) return false;
        const a = this.prefixCrc[base + position];
        x ^= moved(a, oldLength) ^ moved(a, newLength);
        length += newLength - oldLength;
        if (this.lengthValid[side] > position) this.lengthValid[side] = position;
      }
      crc ^= crc32ShiftLong(x, this.sideLength[side] - this.lengthBefore(side, position) - oldLength);
    } else {
      if (position > this.prefixValid[side]) return false;
      const a = this.prefixCrc[base + position];
      const before = this.prefixLength[base + position];
      const gone = this.goneLength[side];
      if (change === CHANGED_INSERT) {
        if (gone !== 0) {
          crc = crc32Unshift(crc ^ this.goneCrc[side], gone);
          length -= gone;
        }
        const level = this.levels[side][count - 1 - position];
        this.refreshLevel(level);
        const added = this.lTextLength[level];
        crc ^= crc32ShiftLong(moved(a, added) ^ this.lCrc[level], length - before);
        length += added;
      } else {
        crc ^= crc32ShiftLong(moved(a, gone) ^ this.goneCrc[side], length - before - gone);
        length -= gone;
        if (count >= CHECKSUM_DEPTH) {
          const level = this.levels[side][count - CHECKSUM_DEPTH];
          if (this.lStale[level] !== 0) this.refreshLevel(level);
          crc = checksumJoin(crc, this.lCrc[level], this.lTextLength[level]);
          length += this.lTextLength[level];
        }
      }
      if (this.lengthValid[side] > position) this.lengthValid[side] = position;
    }
    if (this.prefixValid[side] > position) this.prefixValid[side] = position;
    this.sideCrc[side] = crc;
    this.sideLength[side] = length;
    return true;
  }

  /**
   * The length of a side's text before `position`, from its prefix lengths, first brought up to
   * `position` from the lengths of the levels there (current: they have not changed).
   */
  private lengthBefore(side: number, position: number): number {
    const base = side * PREFIXES;
    let valid = this.lengthValid[side];
    if (valid < position) {
      const levels = this.levels[side];
      const best = this.counts[side] - 1;
      let length = this.prefixLength[base + valid];
      for (; valid < position; valid++) {
        length += this.lTextLength[levels[best - valid]];
        this.prefixLength[base + valid + 1] = length;
      }
      this.lengthValid[side] = valid;
    }
    return this.prefixLength[base + position];
  }

  /** A level's register and length after its size changed (its price's digits are fed once). */
  private refreshLevel(level: number): void {
    if (this.lPriceLength[level] === 0) {
      this.lPriceCrc[level] = crcUnits(0, this.lPrice[level]);
      this.lPriceLength[level] = decimalLength(this.lPrice[level]);
    }
    const size = this.lSize[level];
    this.lCrc[level] = crcUnits(this.lPriceCrc[level], size);
    this.lTextLength[level] = this.lPriceLength[level] + decimalLength(size);
    this.lStale[level] = 0;
  }

  /**
   * The level at `position` of `side` changed (CHANGED_*); `removed` is the level a remove
   * takes away. Positions at or past CHECKSUM_DEPTH change nothing.
   */
  private changedAt(side: number, position: number, change: number, removed: number): void {
    if (position >= CHECKSUM_DEPTH) return;
    if (this.changedFrom[side] === CHECKSUM_DEPTH) {
      this.change[side] = change;
      // The level that left the top: its register is still the one the side's register holds,
      // as nothing else changed since the checksum.
      const count = this.counts[side];
      let gone = removed;
      if (change === CHANGED_INSERT && count > CHECKSUM_DEPTH) gone = this.levels[side][count - 1 - CHECKSUM_DEPTH];
      this.goneCrc[side] = gone === NONE ? 0 : this.lCrc[gone];
      this.goneLength[side] = gone === NONE ? 0 : this.lTextLength[gone];
    } else if (change !== CHANGED_SIZES || this.change[side] !== CHANGED_SIZES) {
      this.change[side] = CHANGED_MANY;
    }
    if (position < this.changedFrom[side]) this.changedFrom[side] = position;
    if (position > this.changedTo[side]) this.changedTo[side] = position;
  }

  /**
   * As changedAt, for a book with no listener, which searches for no position (only a listener
   * needs them): a change among the top levels rejoins the side from its best.
   */
  private changedAtKey(side: number, key: number): void {
    const count = this.counts[side];
    if (count <= CHECKSUM_DEPTH || key >= this.keys[side][count - CHECKSUM_DEPTH]) this.changedAt(side, 0, CHANGED_MANY, NONE);
  }

  /** Total size resting at `price` on `side`, 0 if there is no such level. */
  private levelTotal(side: number, price: number): number {
    const key = side === BID ? price : -price;
    const index = this.search(side, key);
    return index < this.counts[side] && this.keys[side][index] === key ? this.lSize[this.levels[side][index]] : 0;
  }

  private levelAt(side: number, position: number): number {
    if (side !== BID && side !== ASK) return NONE;
    const count = this.counts[side];
    // `>>> 0` rejects negative, fractional and NaN positions in one comparison.
    if (position >>> 0 !== position || position >= count) return NONE;
    return this.levels[side][count - 1 - position];
  }

  /** 0 < size <= remaining, on the lot grid. */
  private reductionCheck(slot: number, size: number): number {
    const status = sizeCheck(size, this.lotUnits);
    if (status !== OK) return status;
    return size > this.oSize[slot] ? REJECT_BAD_SIZE : OK;
  }

  /** Index of the first key >= key on that side. */
  private search(side: number, key: number): number {
    const keys = this.keys[side];
    let low = 0;
    let high = this.counts[side];
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (keys[mid] < key) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  /** Rests a checked order; changes nothing and returns LEVEL_OVERFLOW if its level's total would pass 2^53 - 1. */
  private insertOrder(orderId: number, side: number, price: number, size: number): number {
    const key = side === BID ? price : -price;
    const index = this.search(side, key);
    let count = this.counts[side];
    let level: number;
    let change: number;
    if (index < count && this.keys[side][index] === key) {
      level = this.levels[side][index];
      // Both terms are below 2^53, so a true sum past MAX_UNITS rounds to at least 2^53: the test is exact.
      if (this.lSize[level] + size > MAX_UNITS) return REJECT_LEVEL_OVERFLOW;
      change = LEVEL_UPDATE;
    } else {
      level = this.newLevel(price);
      this.insertLevel(side, index, key, level);
      count++;
      change = LEVEL_INSERT;
    }
    // Position count - 1 - index, now that the level is in place.
    this.changedAt(side, count - 1 - index, change === LEVEL_INSERT ? CHANGED_INSERT : CHANGED_SIZES, NONE);

    const slot = this.newOrderSlot();
    this.oId[slot] = orderId;
    this.oPrice[slot] = price;
    this.oSize[slot] = size;
    this.oSide[slot] = side;
    this.oLevel[slot] = level;
    const tail = this.lTail[level];
    this.oPrev[slot] = tail;
    this.oNext[slot] = NONE;
    if (tail === NONE) this.lHead[level] = slot;
    else this.oNext[tail] = slot;
    this.lTail[level] = slot;
    this.lSize[level] += size;
    this.lStale[level] = 1;
    this.lCount[level]++;
    this.slotOf.set(orderId, slot);
    this.live++;

    const listener = this.listener;
    if (listener !== null) {
      listener.onOrder(ORDER_ADD, side as Side, orderId, price, size);
      listener.onLevel(side as Side, price, this.lSize[level], count - 1 - index, change);
    }
    return OK;
  }

  private reduceOrder(slot: number, by: number): void {
    const level = this.oLevel[slot];
    const remaining = this.oSize[slot] - by;
    this.oSize[slot] = remaining;
    this.lSize[level] -= by;
    this.lStale[level] = 1;
    const side = this.oSide[slot] as Side;
    const price = this.oPrice[slot];
    const key = side === BID ? price : -price;

    const listener = this.listener;
    if (listener === null) {
      this.changedAtKey(side, key);
      return;
    }
    const position = this.counts[side] - 1 - this.search(side, key);
    this.changedAt(side, position, CHANGED_SIZES, NONE);
    listener.onOrder(ORDER_MODIFY, side, this.oId[slot], price, remaining);
    listener.onLevel(side, price, this.lSize[level], position, LEVEL_UPDATE);
  }

  private removeOrder(slot: number): void {
    const level = this.oLevel[slot];
    const side = this.oSide[slot] as Side;
    const price = this.oPrice[slot];
    const orderId = this.oId[slot];

    const prev = this.oPrev[slot];
    const next = this.oNext[slot];
    if (prev === NONE) this.lHead[level] = next;
    else this.oNext[prev] = next;
    if (next === NONE) this.lTail[level] = prev;
    else this.oPrev[next] = prev;
    this.lSize[level] -= this.oSize[slot];
    this.lStale[level] = 1;
    const left = --this.lCount[level];
    this.slotOf.delete(orderId);
    this.oNext[slot] = this.orderFree;
    this.orderFree = slot;
    this.live--;

    const key = side === BID ? price : -price;
    const listener = this.listener;
    if (left > 0 && listener === null) {
      this.changedAtKey(side, key);
      return;
    }
    const index = this.search(side, key);
    const position = this.counts[side] - 1 - index;
    this.changedAt(side, position, left === 0 ? CHANGED_REMOVE : CHANGED_SIZES, left === 0 ? level : NONE);
    if (left === 0) this.removeLevel(side, index, level);
    if (listener !== null) {
      listener.onOrder(ORDER_REMOVE, side, orderId, price, 0);
      if (left === 0) listener.onLevel(side, price, 0, position, LEVEL_REMOVE);
      else listener.onLevel(side, price, this.lSize[level], position, LEVEL_UPDATE);
    }
  }

  private newOrderSlot(): number {
    const free = this.orderFree;
    if (free !== NONE) {
      this.orderFree = this.oNext[free];
      return free;
    }
    if (this.orderFresh === this.oId.length) this.growOrders();
    return this.orderFresh++;
  }

  private newLevel(price: number): number {
    let level = this.levelFree;
    if (level !== NONE) {
      this.levelFree = this.lHead[level];
    } else {
      if (this.levelFresh === this.lPrice.length) this.growLevels();
      level = this.levelFresh++;
    }
    this.lPrice[level] = price;
    this.lPriceLength[level] = 0;
    this.lSize[level] = 0;
    this.lCount[level] = 0;
    this.lHead[level] = NONE;
    this.lTail[level] = NONE;
    return level;
  }

  private insertLevel(side: number, index: number, key: number, level: number): void {
    const count = this.counts[side];
    if (count === this.keys[side].length) {
      this.keys[side] = grownF64(this.keys[side], count * 2);
      this.levels[side] = grownI32(this.levels[side], count * 2);
    }
    const keys = this.keys[side];
    const levels = this.levels[side];
    if (index < count) {
      keys.copyWithin(index + 1, index, count);
      levels.copyWithin(index + 1, index, count);
    }
    keys[index] = key;
    levels[index] = level;
    this.counts[side] = count + 1;
  }

  private removeLevel(side: number, index: number, level: number): void {
    const count = this.counts[side] - 1;
    if (index < count) {
      this.keys[side].copyWithin(index, index + 1, count + 1);
      this.levels[side].copyWithin(index, index + 1, count + 1);
    }
    this.counts[side] = count;
    this.lHead[level] = this.levelFree;
    this.levelFree = level;
  }

  private growOrders(): void {
    const length = this.oId.length * 2;
    this.oId = grownF64(this.oId, length);
    this.oPrice = grownF64(this.oPrice, length);
    this.oSize = grownF64(this.oSize, length);
    this.oSide = grownU8(this.oSide, length);
    this.oLevel = grownI32(this.oLevel, length);
    this.oPrev = grownI32(this.oPrev, length);
    this.oNext = grownI32(this.oNext, length);
  }

  private growLevels(): void {
    const length = this.lPrice.length * 2;
    this.lPrice = grownF64(this.lPrice, length);
    this.lSize = grownF64(this.lSize, length);
    this.lCount = grownI32(this.lCount, length);
    this.lHead = grownI32(this.lHead, length);
    this.lTail = grownI32(this.lTail, length);
    this.lPriceCrc = grownI32(this.lPriceCrc, length);
    this.lPriceLength = grownU8(this.lPriceLength, length);
    this.lStale = grownU8(this.lStale, length);
    this.lCrc = grownI32(this.lCrc, length);
    this.lTextLength = grownU8(this.lTextLength, length);
  }
}
