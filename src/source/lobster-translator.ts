import { applyEvent } from '../engine/apply-event';
import { ASK, BID, OK, REJECT_NAMES } from '../model/book-types';
import { EV_ADD, EV_CANCEL, EV_DELETE, EV_EXECUTE, EV_TRADE, EventSink } from '../model/events';
import { Instrument, toInstrument } from '../model/instruments';
import { OrderBook } from '../engine/order-book';
import {
  LOBSTER_ADD,
  LOBSTER_BAD_ROW,
  LOBSTER_CANCEL,
  LOBSTER_CROSS,
  LOBSTER_DELETE,
  LOBSTER_EXECUTE,
  LOBSTER_HALT,
  LOBSTER_HIDDEN_EXECUTE,
  LOBSTER_INCONSISTENT,
  LobsterBookReader,
  LobsterError,
  LobsterMessage,
  LobsterMessageReader,
  lobsterFiles,
} from './lobster-files';

/**
 * Turns LOBSTER (message, orderbook row) pairs into engine events such that a book fed exactly
 * those events shows, after message i, the top N levels of orderbook row i.
 *
 * Messages alone do not rebuild the book: LOBSTER leaves out orders resting before the open and
 * everything that happens beyond the top N levels. So the translator keeps a shadow OrderBook
 * and reads each orderbook row as evidence:
 *
 * - Seed. Row 1 is the book AFTER message 1, so the translator first undoes message 1 on row 1
 *   (an add takes its size off, a cancel/delete/execution puts it back) to get the book before
 *   it, seeds that as synthetic orders (one per level, ids from SYNTHETIC_ID_BASE, far above
 *   LOBSTER's), then translates message 1 like any other. Message 1's order is thus known by
 *   its real id, and an execution in message 1 still prints its trade.
 * - Hidden liquidity. A cancel, delete or execution the shadow cannot fully account to the
 *   named order (unknown id, or an order whose known size is smaller) takes the rest from the
 *   synthetic orders at that side and price, in queue order, then from real orders there,
 *   newest first: a real order the shadow still holds there has been cancelled out of view
 *   (see below). If the level holds too little, that is LOBSTER_INCONSISTENT.
 * - Learning. After each message the shadow is compared with row i. Prices worse than the last
 *   level of a full row i-1 were out of view before this message; there the shadow's content
 *   was a guess, and row i corrects it: a missing or short level is learned (a synthetic add),
 *   a level that is absent or smaller in row i is trimmed (synthetic orders newest first, then
 *   real ones, which LOBSTER cancelled while they sat beyond depth N without a message). Any
 *   difference at a price that was in view is LOBSTER_INCONSISTENT: the replay only learns
 *   what LOBSTER could not show, so it cannot hide a book bug.
 *
 * Every event, learned ones included, goes to the sink in order and to the shadow. Messages
 * map to events as: 1 EV_ADD, 2 EV_CANCEL, 3 EV_DELETE, 4 EV_EXECUTE (aggressor opposite the
 * resting order), 5 and 6 EV_TRADE (aggressor opposite `direction`), 7 nothing (counted).
 * A price that is not a whole cent is counted as off-tick and skipped.
 *
 * Hot path: step() allocates nothing; errors are cold and thrown with a code.
 */

/** First synthetic order id: 2^40, far above LOBSTER's order ids (about 3 x 10^8 per day). */
export const SYNTHETIC_ID_BASE = 2 ** 40;

/** LOBSTER prices are dollars x 10000; the engine's are cents (price decimals 2). */
const PRICE_DIVISOR = 100;

/** A Nasdaq stock as the engine sees it: tick 0.01 USD, whole shares. */
export function lobsterInstrument(ticker: string, index: number): Instrument {
  return toInstrument(
    { symbol: ticker, base: ticker, quote: 'USD', tickSize: '0.01', lotSize: '1', minOrderSize: '1', status: 'online' },
    index,
  );
}

export class LobsterStats {
  /** Message rows translated. */
  messages = 0;
  /** Events sent to the sink, learned ones included. */
  events = 0;
  /**
   * Synthetic orders added: the seed's levels, liquidity learned as it came into view, and
   * size handed back when a deleted order was smaller than the shadow held.
   */
  learned = 0;
  /** Levels trimmed because liquidity beyond depth N left without a message. */
  forgotten = 0;
  /** Messages on unknown order ids (liquidity resting before the open or beyond depth N). */
  unknownOrders = 0;
  /** Messages the shadow could not account to the named order alone. */
  reassigned = 0;
  /** Type 7 messages. */
  halts = 0;
  /** Messages skipped because their price is not a whole cent. */
  offTick = 0;
}

function inconsistent(row: number, what: string): LobsterError {
  return new LobsterError(LOBSTER_INCONSISTENT, `row ${row}: ${what}`);
}

function sideName(side: number): string {
  return side === BID ? 'bid' : 'ask';
}

/** True if `a` is a worse price than `b` on that side (lower bid, higher ask). */
function worse(side: number, a: number, b: number): boolean {
  return side === BID ? a < b : a > b;
}

export class LobsterTranslator {
  readonly stats = new LobsterStats();
  /** The translator's own view of the book (synthetic orders included). */
  readonly shadow: OrderBook;
  readonly depth: number;
  private readonly symbol: number;
  private readonly sink: EventSink;
  private time = 0;
  /** 1-based number of the row being translated. */
  private row = 0;
  private nextSyntheticId = SYNTHETIC_ID_BASE;

  /** Row i in engine units: prices and sizes per side, best first; counts of occupied levels. */
  private readonly rowPrice: Float64Array[];
  private readonly rowSize: Float64Array[];
  private readonly rowCount = new Int32Array(2);
  /** Row i-1: was the side full (N levels), and its worst shown price. */
  private readonly prevFull = new Uint8Array(2);
  private readonly prevWorst = new Float64Array(2);
  /** Order ids of one level, collected to walk it newest first (grown when needed, cold). */
  private scratch = new Float64Array(64);

  constructor(symbolIndex: number, depth: number, sink: EventSink) {
    if (!(depth >= 1 && depth % 1 === 0)) throw new RangeError(`depth must be a positive integer, got ${depth}`);
    this.symbol = symbolIndex;
    this.depth = depth;
    this.sink = sink;
    this.shadow = new OrderBook(1, 1, null);
    this.rowPrice = [new Float64Array(depth), new Float64Array(depth)];
    this.rowSize = [new Float64Array(depth), new Float64Array(depth)];
  }

  /** Rows translated so far. */
  get rows(): number {
    return this.row;
  }

  /**
   * Translates message i given orderbook row i (4 x depth raw LOBSTER numbers). The first call
   * also seeds the book. Throws LOBSTER_INCONSISTENT (naming the row) when they disagree.
   */
  step(message: LobsterMessage, bookRow: ArrayLike<number>): void {
    this.row++;
    this.time = message.time;
    this.loadRow(bookRow);
    if (this.row === 1) this.seed(message);
    this.stats.messages++;
    this.translate(message);
    this.reconcile(BID);
    this.reconcile(ASK);
    for (let side = BID; side <= ASK; side++) {
      const count = this.rowCount[side];
      this.prevFull[side] = count === this.depth ? 1 : 0;
      this.prevWorst[side] = count > 0 ? this.rowPrice[side][count - 1] : 0;
    }
  }

  // ---- rows ----------------------------------------------------------------------------

  private loadRow(raw: ArrayLike<number>): void {
    if (raw.length !== 4 * this.depth) {
      throw new LobsterError(LOBSTER_BAD_ROW, `row ${this.row}: ${raw.length} fields, expected ${4 * this.depth}`);
    }
    for (let side = BID; side <= ASK; side++) {
      const prices = this.rowPrice[side];
      const sizes = this.rowSize[side];
      const offset = side === ASK ? 0 : 2;
      let count = 0;
      for (let k = 0; k < this.depth; k++) {
        const size = raw[4 * k + offset + 1];
        if (size === 0) continue;
        const price = raw[4 * k + offset];
        if (count < k || !(size > 0) || price % PRICE_DIVISOR !== 0 || !(price > 0)) {
          throw new LobsterError(LOBSTER_BAD_ROW, `row ${this.row}: ${sideName(side)} level ${k + 1} is malformed`);
        }
        const cents = price / PRICE_DIVISOR;
        if (count > 0 && !worse(side, cents, prices[count - 1])) {
          throw new LobsterError(LOBSTER_BAD_ROW, `row ${this.row}: ${sideName(side)} levels are not sorted`);
        }
        prices[count] = cents;
        sizes[count] = size;
        count++;
      }
      this.rowCount[side] = count;
    }
  }

  /** Seeds the shadow with row 1 minus the effect of message 1: the book just before it. */
  private seed(first: LobsterMessage): void {
    const levels: Map<number, number>[] = [new Map(), new Map()];
    for (let side = BID; side <= ASK; side++) {
      for (let k = 0; k < this.rowCount[side]; k++) levels[side].set(this.rowPrice[side][k], this.rowSize[side][k]);
    }
    const type = first.type;
    if (type >= LOBSTER_ADD && type <= LOBSTER_EXECUTE && first.price % PRICE_DIVISOR === 0) {
      const side = first.direction === 1 ? BID : ASK;
      const price = first.price / PRICE_DIVISOR;
      const shown = levels[side].get(price) ?? 0;
      const before = type === LOBSTER_ADD ? shown - first.size : shown + first.size;
      if (before < 0) throw inconsistent(1, `adds ${first.size} at ${sideName(side)} ${price} but row 1 shows ${shown}`);
      levels[side].set(price, before);
    }
    for (let side = BID; side <= ASK; side++) {
      const prices = [...levels[side].keys()].sort((a, b) => (side === BID ? b - a : a - b));
      for (const price of prices) {
        const size = levels[side].get(price)!;
        if (size > 0) this.learn(side, price, size);
      }
    }
  }

  // ---- messages ------------------------------------------------------------------------

  private translate(m: LobsterMessage): void {
    const type = m.type;
    if (type === LOBSTER_HALT) {
      this.stats.halts++;
      return;
    }
    if (m.price % PRICE_DIVISOR !== 0) {
      this.stats.offTick++;
      return;
    }
    const side = m.direction === 1 ? BID : ASK;
    const price = m.price / PRICE_DIVISOR;
    switch (type) {
      case LOBSTER_ADD:
        this.emit(EV_ADD, side, m.orderId, price, m.size);
        return;
      case LOBSTER_CANCEL:
      case LOBSTER_DELETE:
      case LOBSTER_EXECUTE:
        this.reduce(type, side, m.orderId, price, m.size);
        return;
      case LOBSTER_HIDDEN_EXECUTE:
      case LOBSTER_CROSS:
        this.emit(EV_TRADE, side ^ 1, m.orderId, price, m.size);
        return;
    }
  }

  /** A cancel, delete or execution of `size` at (side, price), by order `orderId` if known. */
  private reduce(type: number, side: number, orderId: number, price: number, size: number): void {
    const shadow = this.shadow;
    let rest = size;
    let reassigned = false;
    if (orderId < SYNTHETIC_ID_BASE && shadow.hasOrder(orderId)) {
      if (shadow.orderSide(orderId) !== side || shadow.orderPrice(orderId) !== price) {
        throw inconsistent(
          this.row,
          `order ${orderId} rests at ${sideName(shadow.orderSide(orderId))} ${shadow.orderPrice(orderId)}, ` +
            `the message says ${sideName(side)} ${price}`,
        );
      }
      const have = shadow.orderSize(orderId);
      if (type === LOBSTER_DELETE) {
        this.emit(EV_DELETE, side, orderId, price, have);
        // Smaller than we hold: part of it left unseen while beyond depth N, and the trim
        // took that part from other orders, which are still there.
        if (have > size) this.learn(side, price, have - size);
        rest = have >= size ? 0 : size - have;
      } else {
        const take = have < size ? have : size;
        this.emit(type === LOBSTER_EXECUTE ? EV_EXECUTE : EV_CANCEL, side, orderId, price, take);
        rest = size - take;
      }
      reassigned = have !== size && (type === LOBSTER_DELETE || have < size);
    } else {
      this.stats.unknownOrders++;
    }
    if (rest > 0 && this.takeHidden(type === LOBSTER_EXECUTE, side, price, rest)) reassigned = true;
    if (reassigned) this.stats.reassigned++;
  }

  /**
   * Takes `amount` from the orders at (side, price) that the message did not name; true if
   * the synthetic ones were not enough and real orders had to give.
   */
  private takeHidden(execute: boolean, side: number, price: number, amount: number): boolean {
    const shadow = this.shadow;
    const position = this.findLevel(side, price);
    if (position < 0 || shadow.levelSize(side, position) < amount) {
      const have = position < 0 ? 0 : shadow.levelSize(side, position);
      throw inconsistent(this.row, `takes ${amount} at ${sideName(side)} ${price}, where the book holds ${have}`);
    }
    let rest = amount;
    for (let id = shadow.firstOrderAt(side, position); id !== 0 && rest > 0; ) {
      const next = shadow.nextOrder(id);
      if (id >= SYNTHETIC_ID_BASE) rest -= this.takeFrom(execute, side, id, price, rest);
      id = next;
    }
    if (rest === 0) return false;
    this.takeNewestFirst(execute, side, price, rest, false);
    return true;
  }

  // ---- learning ------------------------------------------------------------------------

  /** Makes the shadow's levels on `side` equal row i wherever row i shows them. */
  private reconcile(side: number): void {
    const shadow = this.shadow;
    const prices = this.rowPrice[side];
    const sizes = this.rowSize[side];
    const count = this.rowCount[side];
    // A full row shows nothing beyond its last level; a shorter one shows the whole side.
    const full = count === this.depth;
    const limit = count > 0 ? prices[count - 1] : 0;
    let k = 0;
    let position = 0;
    for (;;) {
      const rowHas = k < count;
      let shadowPrice = 0;
      let shadowHas = false;
      if (position < shadow.levelCount(side)) {
        shadowPrice = shadow.levelPrice(side, position);
        shadowHas = !full || !worse(side, shadowPrice, limit);
      }
      if (!rowHas && !shadowHas) return;
      if (rowHas && shadowHas && shadowPrice === prices[k]) {
        const have = shadow.levelSize(side, position);
        if (have !== sizes[k]) this.correct(side, shadowPrice, sizes[k], have);
        position++;
        k++;
      } else if (shadowHas && (!rowHas || worse(side, prices[k], shadowPrice))) {
        // The shadow has a level row i does not show; correcting removes it, so `position`
        // already names the next one.
        this.correct(side, shadowPrice, 0, shadow.levelSize(side, position));
      } else {
        this.correct(side, prices[k], sizes[k], 0);
        position++;
        k++;
      }
    }
  }

  /** Sets the level at (side, price) from `have` to `want`, if it was out of view. */
  private correct(side: number, price: number, want: number, have: number): void {
    const outOfView = this.prevFull[side] === 1 && worse(side, price, this.prevWorst[side]);
    if (!outOfView) {
      throw inconsistent(
        this.row,
        `${sideName(side)} ${price}: the orderbook file shows ${want}, the messages leave ${have}`,
      );
    }
    if (want > have) {
      this.learn(side, price, want - have);
    } else {
      this.stats.forgotten++;
      this.takeNewestFirst(false, side, price, have - want, true);
    }
  }

  private learn(side: number, price: number, size: number): void {
    this.stats.learned++;
    this.emit(EV_ADD, side, this.nextSyntheticId++, price, size);
  }

  // ---- shadow helpers ------------------------------------------------------------------

  /**
   * Takes `amount` at (side, price) from the back of the queue: synthetic orders first when
   * `syntheticFirst`, then real ones. The caller has checked that the level holds enough.
   */
  private takeNewestFirst(
    execute: boolean,
    side: number,
    price: number,
    amount: number,
    syntheticFirst: boolean,
  ): void {
    const shadow = this.shadow;
    const position = this.findLevel(side, price);
    let n = 0;
    for (let id = shadow.firstOrderAt(side, position); id !== 0; id = shadow.nextOrder(id)) {
      if (n === this.scratch.length) {
        const grown = new Float64Array(n * 2);
        grown.set(this.scratch);
        this.scratch = grown;
      }
      this.scratch[n++] = id;
    }
    let rest = amount;
    for (let pass = syntheticFirst ? 0 : 1; pass < 2 && rest > 0; pass++) {
      for (let i = n - 1; i >= 0 && rest > 0; i--) {
        const id = this.scratch[i];
        if (pass === 1 || id >= SYNTHETIC_ID_BASE) {
          if (shadow.hasOrder(id)) rest -= this.takeFrom(execute, side, id, price, rest);
        }
      }
    }
    if (rest > 0) throw inconsistent(this.row, `cannot take ${amount} at ${sideName(side)} ${price}`);
  }

  /** Cancels or executes up to `limit` of order `id`; returns the amount taken. */
  private takeFrom(execute: boolean, side: number, id: number, price: number, limit: number): number {
    const size = this.shadow.orderSize(id);
    const take = size < limit ? size : limit;
    if (execute) this.emit(EV_EXECUTE, side, id, price, take);
    else if (take === size) this.emit(EV_DELETE, side, id, price, take);
    else this.emit(EV_CANCEL, side, id, price, take);
    return take;
  }

  /** Position of the level at `price`, or -1. Binary search: positions are sorted best first. */
  private findLevel(side: number, price: number): number {
    const shadow = this.shadow;
    let low = 0;
    let high = shadow.levelCount(side);
    while (low < high) {
      const mid = (low + high) >>> 1;
      const p = shadow.levelPrice(side, mid);
      if (p === price) return mid;
      if (worse(side, p, price)) high = mid;
      else low = mid + 1;
    }
    return -1;
  }

  private emit(kind: number, side: number, orderId: number, price: number, size: number): void {
    const status = applyEvent(this.shadow, kind, side, orderId, price, size, 0);
    if (status !== OK) {
      throw inconsistent(
        this.row,
        `event ${kind} on order ${orderId} (${sideName(side)} ${price} x ${size}) rejected: ${REJECT_NAMES[status]}`,
      );
    }
    this.stats.events++;
    this.sink.event(kind, this.symbol, side, orderId, price, size, 0, this.time);
  }
}

/** Applies each event to a book as the engine would, counting accepted events as its sequence. */
class EngineSink implements EventSink {
  readonly book: OrderBook;
  sequence = 0;
  rejects = 0;

  constructor(book: OrderBook) {
    this.book = book;
  }

  event(
    kind: number,
    _symbol: number,
    side: number,
    orderId: number,
    price: number,
    size: number,
    newOrderId: number,
  ): void {
    if (applyEvent(this.book, kind, side, orderId, price, size, newOrderId) === OK) this.sequence++;
    else this.rejects++;
  }
}

export interface ReplayOptions {
  /** Stop after this many messages (default: all). */
  until?: number;
  /** Called after each message with its 1-based row number, the engine book and orderbook row i. */
  onRow?: (row: number, book: OrderBook, bookRow: Float64Array) => void;
  /** Receives every event too, after the engine book has applied it. */
  sink?: EventSink;
}

export interface ReplayResult {
  instrument: Instrument;
  /** The engine's book, built only from the emitted events. */
  book: OrderBook;
  /** Engine events accepted by the book. */
  sequence: number;
  /** Engine events the book rejected (0 on a faithful replay). */
  rejects: number;
  rows: number;
  depth: number;
  stats: LobsterStats;
}

class TeeSink implements EventSink {
  private readonly first: EventSink;
  private readonly second: EventSink;
  constructor(first: EventSink, second: EventSink) {
    this.first = first;
    this.second = second;
  }
  event(
    kind: number,
    symbol: number,
    side: number,
    orderId: number,
    price: number,
    size: number,
    newOrderId: number,
    timestamp: number,
  ): void {
    this.first.event(kind, symbol, side, orderId, price, size, newOrderId, timestamp);
    this.second.event(kind, symbol, side, orderId, price, size, newOrderId, timestamp);
  }
}

/**
 * Replays a LOBSTER message file (and its orderbook file) into a fresh engine book through
 * applyEvent, with the translator's shadow kept separately. Errors carry the file's name.
 */
export function replayLobsterFile(messagePath: string, opts: ReplayOptions = {}): ReplayResult {
  const files = lobsterFiles(messagePath);
  const instrument = lobsterInstrument(files.ticker, 0);
  const engine = new EngineSink(new OrderBook(instrument.tickUnits, instrument.lotUnits, null));
  const sink = opts.sink === undefined ? engine : new TeeSink(engine, opts.sink);
  const translator = new LobsterTranslator(instrument.index, files.depth, sink);
  const messages = new LobsterMessageReader(files.messagePath, files.midnightMicros);
  const rows = new LobsterBookReader(files.orderbookPath, files.depth);
  const until = opts.until ?? Infinity;
  const onRow = opts.onRow;
  try {
    while (translator.rows < until && messages.next()) {
      if (!rows.next()) {
        throw new LobsterError(LOBSTER_BAD_ROW, `${files.orderbookPath}: ends before message ${messages.line}`);
      }
      translator.step(messages, rows.row);
      if (onRow !== undefined) onRow(translator.rows, engine.book, rows.row);
    }
    if (translator.rows < until && rows.next()) {
      throw new LobsterError(LOBSTER_BAD_ROW, `${files.orderbookPath}:${rows.line}: more rows than messages`);
    }
  } catch (error) {
    if (error instanceof LobsterError && error.code === LOBSTER_INCONSISTENT) {
      throw new LobsterError(error.code, `${files.messagePath}: ${error.message}`);
    }
    throw error;
  }
  return {
    instrument,
    book: engine.book,
    sequence: engine.sequence,
    rejects: engine.rejects,
    rows: translator.rows,
    depth: files.depth,
    stats: translator.stats,
  };
}
