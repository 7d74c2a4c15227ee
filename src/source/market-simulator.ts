import { applyEvent } from '../engine/apply-event';
import { ASK, BID, OK } from '../model/book-types';
import { EV_ADD, EV_DELETE, EV_EXECUTE, EV_MODIFY, EventSink } from '../model/events';
import type { Instrument } from '../model/instruments';
import { OrderBook } from '../engine/order-book';
import { H_JOURNAL_SEQUENCE, H_MAX_ORDER_ID, loadBook } from '../engine/symbol-checkpoint';
import { parseUnits } from '../util/decimal';
import { Random } from '../util/random';

/** Levels per side the simulator keeps near the mid before it lets cancels outnumber adds. */
const TARGET_ORDERS = 400;
/** Largest number of levels a marketable order may sweep. */
const MAX_SWEEP_LEVELS = 4;

/** The simulator's own view of one market: it is the matching engine whose feed it emits. */
class SimulatedMarket {
  readonly book: OrderBook;
  mid: number;
  /** Live order ids, for picking a random one to cancel in O(1). */
  private ids = new Float64Array(1024);
  private count = 0;
  private readonly where = new Map<number, number>();

  constructor(readonly instrument: Instrument, mid: number) {
    this.book = new OrderBook(instrument.tickUnits, instrument.lotUnits, null);
    this.mid = mid;
  }

  get liveOrders(): number {
    return this.count;
  }

  track(id: number): void {
    if (this.count === this.ids.length) {
      const grown = new Float64Array(this.ids.length * 2);
      grown.set(this.ids);
      this.ids = grown;
    }
    this.where.set(id, this.count);
    this.ids[this.count++] = id;
  }

  untrack(id: number): void {
    const at = this.where.get(id);
    if (at === undefined) return;
    const last = this.ids[--this.count];
    this.ids[at] = last;
    this.where.set(last, at);
    this.where.delete(id);
  }

  /** OrderVisitor for resume(): tracks every order the restored book holds. */
  visit(orderId: number): void {
    this.track(orderId);
  }

  pick(random: Random): number {
    return this.ids[random.int(this.count)];
  }
}

/**
 * A market simulator with realistic-looking flow: Poisson arrivals (the caller schedules them),
 * limit orders placed a geometric number of ticks behind the touch around a drifting mid,
 * cancels and size reductions of random resting orders, and marketable orders that sweep one or
 * more levels and print trades. It emits a matching engine's feed (adds, modifies, deletes,
 * executions) and keeps its own book to know what rests where.
 */
export class MarketSimulator {
  private readonly markets: SimulatedMarket[];
  private readonly random: Random;
  private nextOrderId = 1;
  /** Events emitted; also the sequence a consumer should reach after applying all of them. */
  emitted = 0;

  constructor(
    instruments: readonly Instrument[],
    referencePrices: Readonly<Record<string, string>>,
    seed: number,
    private readonly sink: EventSink,
  ) {
    this.random = new Random(seed);
    this.markets = instruments.map((ins) => {
      const mid = parseUnits(referencePrices[ins.symbol] ?? '100', ins.priceDecimals);
      return new SimulatedMarket(ins, mid - (mid % ins.tickUnits));
    });
  }

  /**
   * Rebuilds the simulator's markets from a journal after a restart: applies a past event to its
   * own book (without emitting it) so the live flow continues from the same state, with fresh
   * order ids.
   */
  restore(kind: number, symbol: number, side: number, orderId: number, price: number, size: number, newOrderId: number): void {
    const m = this.markets[symbol];
    if (m === undefined) return;
    applyEvent(m.book, kind, side, orderId, price, size, newOrderId);
    const id = Math.max(orderId, newOrderId);
    if (id >= this.nextOrderId) this.nextOrderId = id + 1;
    this.emitted++;
  }

  /**
   * Starts a market from a checkpoint instead of the journal's first record: `words` is one
   * symbol's checkpoint (engine/symbol-checkpoint.ts); its resting orders enter the simulator's
   * book in time priority, and ids continue after the largest the journal had named by then,
   * as restore() of every earlier record would have left them. Later records go to restore().
   */
  restoreCheckpoint(symbol: number, words: Float64Array): void {
    const m = this.markets[symbol];
    if (m === undefined) return;
    loadBook(words, m.book);
    const id = words[H_MAX_ORDER_ID];
    if (id >= this.nextOrderId) this.nextOrderId = id + 1;
    this.emitted = words[H_JOURNAL_SEQUENCE];
  }

  /** After restore: the live orders to pick cancels from, and the mid, come from the books. */
  resume(): void {
    for (const m of this.markets) {
      m.book.forEachOrder(BID, m);
      m.book.forEachOrder(ASK, m);
      const bid = m.book.bestPrice(BID);
      const ask = m.book.bestPrice(ASK);
      if (bid > 0 && ask > 0) {
        const mid = (bid + ask) / 2;
        m.mid = mid - (mid % m.instrument.tickUnits);
      }
    }
  }

  /** One order-entry arrival at `timestamp` (µs) on a random market; emits 1..n events. */
  arrival(timestamp: number): void {
    const m = this.markets[this.random.int(this.markets.length)];
    this.drift(m);
    const r = this.random.next();
    if (m.liveOrders < TARGET_ORDERS / 4 || r < 0.5 - (m.liveOrders > TARGET_ORDERS ? 0.15 : 0)) {
      this.placeLimit(m, timestamp);
    } else if (r < 0.9) {
      this.cancelOne(m, timestamp);
    } else {
      this.sweep(m, timestamp);
    }
  }

  private drift(m: SimulatedMarket): void {
    const tick = m.instrument.tickUnits;
    if (this.random.next() < 0.05) m.mid += this.random.next() < 0.5 ? -tick : tick;
    if (m.mid < tick * 10) m.mid = tick * 10;
  }

  private emit(m: SimulatedMarket, kind: number, side: number, id: number, price: number, size: number, ts: number): void {
    const status = applyEvent(m.book, kind, side, id, price, size, 0);
    if (status !== OK) throw new Error(`simulator produced an event its own book rejects (${status})`);
    this.sink.event(kind, m.instrument.index, side, id, price, size, 0, ts);
    this.emitted++;
  }

  private size(m: SimulatedMarket): number {
    const ins = m.instrument;
    const lots = Math.ceil(ins.minSizeUnits / ins.lotUnits) * (1 + this.random.geometric(0.25));
    return lots * ins.lotUnits;
  }

  private placeLimit(m: SimulatedMarket, ts: number): void {
    const tick = m.instrument.tickUnits;
    const side = this.random.next() < 0.5 ? BID : ASK;
    const behind = (1 + this.random.geometric(0.2)) * tick;
    let price: number;
    if (side === BID) {
      price = m.mid - behind;
      const ask = m.book.bestPrice(ASK);
      if (ask > 0 && price >= ask) price = ask - tick;
    } else {
      price = m.mid + behind;
      const bid = m.book.bestPrice(BID);
      if (bid > 0 && price <= bid) price = bid + tick;
    }
    if (price < tick) price = tick;
    const id = this.nextOrderId++;
    this.emit(m, EV_ADD, side, id, price, this.size(m), ts);
    m.track(id);
  }

  private cancelOne(m: SimulatedMarket, ts: number): void {
    const id = m.pick(this.random);
    const book = m.book;
    const size = book.orderSize(id);
    const side = book.orderSide(id);
    const price = book.orderPrice(id);
    const lot = m.instrument.lotUnits;
    if (this.random.next() < 0.2 && size >= 2 * lot) {
      const keep = lot * (1 + this.random.int(size / lot - 1));
      this.emit(m, EV_MODIFY, side, id, price, keep, ts);
    } else {
      this.emit(m, EV_DELETE, side, id, price, size, ts);
      m.untrack(id);
    }
  }

  private sweep(m: SimulatedMarket, ts: number): void {
    const taker = this.random.next() < 0.5 ? BID : ASK;
    const resting = taker === BID ? ASK : BID;
    const book = m.book;
    let wanted = this.size(m) * (1 + this.random.int(3));
    let levels = 0;
    while (wanted > 0 && book.levelCount(resting) > 0 && levels < MAX_SWEEP_LEVELS) {
      const price = book.levelPrice(resting, 0);
      const id = book.firstOrderAt(resting, 0);
      const size = book.orderSize(id);
      const fill = Math.min(size, wanted);
      this.emit(m, EV_EXECUTE, resting, id, price, fill, ts);
      if (fill === size) m.untrack(id);
      wanted -= fill;
      if (book.levelCount(resting) === 0 || book.levelPrice(resting, 0) !== price) levels++;
    }
    // The trade moves the market: the mid follows the last traded price.
    if (m.book.bestPrice(BID) > 0 && m.book.bestPrice(ASK) > 0) {
      const tick = m.instrument.tickUnits;
      const mid = (m.book.bestPrice(BID) + m.book.bestPrice(ASK)) / 2;
      m.mid = mid - (mid % tick);
    }
  }
}
