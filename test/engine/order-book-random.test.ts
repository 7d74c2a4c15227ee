import t from 'tap';
import { applyEvent } from '../../src/engine/apply-event';
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
  REJECT_OFF_LOT,
  REJECT_OFF_TICK,
  REJECT_UNKNOWN_ORDER,
  Side,
} from '../../src/model/book-types';
import { EV_ADD, EV_CANCEL, EV_CLEAR, EV_DELETE, EV_EXECUTE, EV_MODIFY, EV_REPLACE, EV_TRADE } from '../../src/model/events';
import { OrderBook } from '../../src/engine/order-book';
import { ReferenceBook, ReferenceTrade } from './fixtures/reference-book';

/**
 * Millions of seeded random events (valid and invalid, crossed books, empty sides, clears,
 * prices near 2^53) applied both to OrderBook and to the naive ReferenceBook. Every event's
 * return code must match; every K events, and at the end, the full L2, every order, the FIFO
 * order of each side, the trades and the checksum must match; and an L2/L3 copy rebuilt only
 * from the listener's calls must match too, which proves the diffs (positions included).
 * A failure names the seed and the event index; the seeded PRNG makes it reproduce exactly.
 */

const CHECK_EVERY = 1000;

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

interface Level {
  price: number;
  size: number;
}

/** Rebuilds L2 and L3 from listener calls alone, checking each call against the live book. */
class Reconstruction implements BookListener {
  readonly levels: Level[][] = [[], []];
  readonly orders = new Map<number, { side: number; price: number; size: number }>();
  readonly trades: ReferenceTrade[] = [];
  calls = 0;
  failure: string | null = null;
  private orderPending = false;

  constructor(private readonly book: OrderBook) {}

  private fail(message: string): void {
    if (this.failure === null) this.failure = message;
  }

  /** Every order change must have been followed by its level change. */
  endEvent(): void {
    if (this.orderPending) this.fail('onOrder without its onLevel');
  }

  reset(): void {
    this.levels[BID].length = 0;
    this.levels[ASK].length = 0;
    this.orders.clear();
  }

  onLevel(side: Side, price: number, size: number, position: number, change: number): void {
    this.calls++;
    if (!this.orderPending) this.fail(`onLevel ${price} without a preceding onOrder`);
    this.orderPending = false;
    const list = this.levels[side];
    const book = this.book;
    if (change === LEVEL_INSERT) {
      if (position > list.length) return this.fail(`INSERT ${price} at ${position} beyond ${list.length}`);
      list.splice(position, 0, { price, size });
    } else if (change === LEVEL_UPDATE || change === LEVEL_REMOVE) {
      const level = list[position];
      if (level === undefined || level.price !== price) {
        return this.fail(`change ${change} of ${price} at ${position} finds ${level?.price}`);
      }
      if (change === LEVEL_UPDATE) level.size = size;
      else if (size !== 0) return this.fail(`REMOVE of ${price} with size ${size}`);
      else list.splice(position, 1);
    } else {
      return this.fail(`unknown level change ${change}`);
    }
    // The book has already changed when it tells: what it reports must be what it holds.
    if (change === LEVEL_REMOVE) {
      if (book.levelPrice(side, position) === price) this.fail(`removed level ${price} still at ${position}`);
    } else if (book.levelPrice(side, position) !== price || book.levelSize(side, position) !== size) {
      this.fail(`level ${price}/${size} at ${position} is ${book.levelPrice(side, position)}/${book.levelSize(side, position)}`);
    }
  }

  onOrder(action: number, side: Side, orderId: number, price: number, size: number): void {
    this.calls++;
    if (this.orderPending) this.fail('two onOrder calls without onLevel between');
    this.orderPending = true;
    const known = this.orders.get(orderId);
    if (action === ORDER_ADD) {
      if (known !== undefined) return this.fail(`ADD of live order ${orderId}`);
      this.orders.set(orderId, { side, price, size });
    } else if (action === ORDER_MODIFY) {
      if (known === undefined || known.side !== side || known.price !== price || !(size > 0 && size < known.size)) {
        return this.fail(`bad MODIFY of ${orderId}`);
      }
      known.size = size;
    } else if (action === ORDER_REMOVE) {
      if (known === undefined || known.side !== side || known.price !== price || size !== 0) {
        return this.fail(`bad REMOVE of ${orderId}`);
      }
      this.orders.delete(orderId);
    } else {
      this.fail(`unknown order action ${action}`);
    }
  }

  onTrade(price: number, size: number, aggressor: Side, makerOrderId: number): void {
    this.calls++;
    this.trades.push([price, size, aggressor, makerOrderId]);
    // onTrade comes before the execution changes the order.
    if (makerOrderId !== 0 && !(this.book.orderSize(makerOrderId) >= size)) {
      this.fail(`onTrade for ${makerOrderId} after the order changed`);
    }
  }
}

interface Scenario {
  seed: number;
  events: number;
  tick: number;
  lot: number;
  midTicks: number;
  maxLive: number;
  maxLots: number;
  priceDecimals: number;
  sizeDecimals: number;
}

const SCENARIOS: Scenario[] = [
  { seed: 1, events: 1_000_000, tick: 1, lot: 1, midTicks: 670_000, maxLive: 400, maxLots: 50, priceDecimals: 1, sizeDecimals: 8 },
  { seed: 2, events: 1_000_000, tick: 5, lot: 10, midTicks: 20_000, maxLive: 2000, maxLots: 20, priceDecimals: 2, sizeDecimals: 4 },
  { seed: 3, events: 800_000, tick: 100, lot: 1000, midTicks: 3_000, maxLive: 60, maxLots: 5, priceDecimals: 5, sizeDecimals: 5 },
  // Prices and sizes near 2^53: exactness of units, and 16-digit checksum fields.
  { seed: 4, events: 500_000, tick: 1, lot: 1, midTicks: 2 ** 52 + 12_345, maxLive: 300, maxLots: 2 ** 44, priceDecimals: 8, sizeDecimals: 2 },
  // Few orders over a wide range: sparse, often one-sided or empty books.
  { seed: 5, events: 500_000, tick: 7, lot: 3, midTicks: 1_000, maxLive: 12, maxLots: 9, priceDecimals: 0, sizeDecimals: 0 },
];

interface Event {
  kind: number;
  side: number;
  orderId: number;
  price: number;
  size: number;
  newOrderId: number;
}

function applyReference(ref: ReferenceBook, e: Event): number {
  switch (e.kind) {
    case EV_ADD:
      return ref.add(e.orderId, e.side, e.price, e.size);
    case EV_MODIFY:
      return ref.modify(e.orderId, e.size);
    case EV_REPLACE:
      return ref.replace(e.orderId, e.newOrderId, e.price, e.size);
    case EV_CANCEL:
      return ref.cancel(e.orderId, e.size);
    case EV_DELETE:
      return ref.delete(e.orderId);
    case EV_EXECUTE:
      return ref.execute(e.orderId, e.size);
    case EV_TRADE:
      return ref.trade(e.price, e.size, e.side);
    case EV_CLEAR:
      ref.clear();
      return OK;
    default:
      return REJECT_BAD_EVENT;
  }
}

/** Draws events that are mostly valid against the reference's current state. */
class Generator {
  private nextId = 1;
  private mid: number;
  private target: number;
  private readonly live: number[] = [];
  private readonly liveAt = new Map<number, number>();
  readonly event: Event = { kind: 0, side: 0, orderId: 0, price: 0, size: 0, newOrderId: 0 };

  constructor(
    private readonly s: Scenario,
    private readonly ref: ReferenceBook,
    private readonly random: () => number,
  ) {
    this.mid = s.midTicks;
    this.target = s.maxLive;
  }

  private chance(p: number): boolean {
    return this.random() < p;
  }

  private pick<T>(items: T[]): T {
    return items[Math.floor(this.random() * items.length)];
  }

  private liveId(): number {
    if (this.live.length === 0 || this.chance(0.03)) return this.nextId + 1 + Math.floor(this.random() * 1000);
    return this.pick(this.live);
  }

  private price(side: number): number {
    if (this.chance(0.02)) {
      return this.pick([0, -this.s.tick, NaN, Infinity, 2 ** 53 + 2, this.mid * this.s.tick + (this.s.tick > 1 ? 1 : 0.5)]);
    }
    let distance = Math.floor(-Math.log(1 - this.random()) * 6);
    if (this.chance(0.03)) distance = -distance; // crossed: the feed is believed
    const ticks = side === BID ? this.mid - distance : this.mid + distance;
    return Math.max(1, ticks) * this.s.tick;
  }

  private size(maxLots: number): number {
    if (this.chance(0.02)) {
      return this.pick([0, -this.s.lot, NaN, 1.5 * this.s.lot, this.s.lot + (this.s.lot > 1 ? 1 : 0.5)]);
    }
    return (1 + Math.floor(this.random() * maxLots)) * this.s.lot;
  }

  private reduction(orderId: number, below: boolean): number {
    const remaining = this.ref.orders.get(orderId)?.size ?? this.s.lot;
    const lots = remaining / this.s.lot;
    if (this.chance(0.03)) return remaining + this.s.lot; // too much
    if (!below && this.chance(0.3)) return remaining;
    return this.size(Math.max(1, below ? lots - 1 : lots));
  }

  next(): Event {
    const e = this.event;
    const random = this.random;
    if (this.chance(0.0005)) this.target = Math.floor(random() * (this.s.maxLive + 1));
    if (this.chance(0.05)) this.mid += this.chance(0.5) ? -1 : 1;
    e.side = this.chance(0.005) ? 2 : this.chance(0.5) ? BID : ASK;
    e.orderId = 0;
    e.price = 0;
    e.size = 0;
    e.newOrderId = 0;
    const addShare = this.live.length < this.target ? 0.6 : 0.25;
    const r = random();
    if (this.chance(0.00002)) {
      e.kind = EV_CLEAR;
    } else if (this.chance(0.002)) {
      e.kind = 99;
    } else if (r < addShare) {
      e.kind = EV_ADD;
      e.orderId = this.chance(0.01) && this.live.length > 0 ? this.pick(this.live) : this.chance(0.005) ? this.pick([0, -3, 2.5, NaN]) : this.nextId++;
      e.price = this.price(e.side);
      e.size = this.size(this.s.maxLots);
    } else if (r < addShare + (1 - addShare) * 0.3) {
      e.kind = EV_DELETE;
      e.orderId = this.liveId();
    } else if (r < addShare + (1 - addShare) * 0.45) {
      e.kind = EV_CANCEL;
      e.orderId = this.liveId();
      e.size = this.reduction(e.orderId, false);
    } else if (r < addShare + (1 - addShare) * 0.6) {
      e.kind = EV_MODIFY;
      e.orderId = this.liveId();
      e.size = this.reduction(e.orderId, true);
    } else if (r < addShare + (1 - addShare) * 0.75) {
      e.kind = EV_REPLACE;
      e.orderId = this.liveId();
      const known = this.ref.orders.get(e.orderId);
      const roll = random();
      e.newOrderId = roll < 0.6 ? this.nextId++ : roll < 0.9 ? e.orderId : roll < 0.95 ? this.liveId() : 0;
      e.price = this.price(known?.side ?? BID);
      e.size = this.size(this.s.maxLots);
    } else if (r < addShare + (1 - addShare) * 0.95) {
      e.kind = EV_EXECUTE;
      e.orderId = this.liveId();
      e.size = this.reduction(e.orderId, false);
    } else {
      e.kind = EV_TRADE;
      e.price = this.price(e.side);
      e.size = this.size(this.s.maxLots);
    }
    return e;
  }

  /** Keeps the pickable ids in step with the reference after an event. */
  settle(e: Event, status: number): void {
    if (status !== OK) return;
    if (e.kind === EV_CLEAR) {
      this.live.length = 0;
      this.liveAt.clear();
      return;
    }
    if (e.orderId !== 0 && !this.ref.orders.has(e.orderId)) this.forget(e.orderId);
    if (e.kind === EV_ADD) this.remember(e.orderId);
    if (e.kind === EV_REPLACE && !this.liveAt.has(e.newOrderId)) this.remember(e.newOrderId);
  }

  private remember(id: number): void {
    this.liveAt.set(id, this.live.length);
    this.live.push(id);
  }

  private forget(id: number): void {
    const at = this.liveAt.get(id);
    if (at === undefined) return;
    const last = this.live.pop()!;
    if (last !== id) {
      this.live[at] = last;
      this.liveAt.set(last, at);
    }
    this.liveAt.delete(id);
  }
}

/** The first difference between the book, the reference and the reconstruction, or null. */
function compare(book: OrderBook, ref: ReferenceBook, recon: Reconstruction, s: Scenario): string | null {
  if (recon.failure !== null) return `listener: ${recon.failure}`;
  if (book.orderCount !== ref.orders.size) return `orderCount ${book.orderCount} != ${ref.orders.size}`;
  if (recon.orders.size !== ref.orders.size) return `rebuilt L3 has ${recon.orders.size} orders, not ${ref.orders.size}`;
  for (const side of [BID, ASK]) {
    const levels = ref.levels(side);
    const rebuilt = recon.levels[side];
    if (book.levelCount(side) !== levels.length) return `side ${side}: ${book.levelCount(side)} levels != ${levels.length}`;
    if (rebuilt.length !== levels.length) return `side ${side}: rebuilt L2 has ${rebuilt.length} levels, not ${levels.length}`;
    for (let i = 0; i < levels.length; i++) {
      const want = levels[i];
      const got = [book.levelPrice(side, i), book.levelSize(side, i), book.levelOrderCount(side, i)];
      if (got[0] !== want.price || got[1] !== want.size || got[2] !== want.count) {
        return `side ${side} level ${i}: ${got} != ${[want.price, want.size, want.count]}`;
      }
      if (rebuilt[i].price !== want.price || rebuilt[i].size !== want.size) {
        return `side ${side} rebuilt level ${i}: ${rebuilt[i].price}/${rebuilt[i].size} != ${want.price}/${want.size}`;
      }
    }
    if (book.bestPrice(side) !== (levels[0]?.price ?? 0) || book.bestSize(side) !== (levels[0]?.size ?? 0)) {
      return `side ${side}: best ${book.bestPrice(side)}/${book.bestSize(side)}`;
    }
    const expected = ref.sideOrders(side);
    const visited: number[] = [];
    book.forEachOrder(side, {
      visit(orderId: number, price: number, size: number) {
        visited.push(orderId, price, size);
      },
    });
    const wanted = expected.flatMap((o) => [o.id, o.price, o.size]);
    if (visited.join() !== wanted.join()) return `side ${side}: forEachOrder differs from price-time priority`;
    const walked: number[] = [];
    for (let i = 0; i < levels.length; i++) {
      for (let id = book.firstOrderAt(side, i); id !== 0; id = book.nextOrder(id)) walked.push(id);
    }
    if (walked.join() !== expected.map((o) => o.id).join()) return `side ${side}: firstOrderAt/nextOrder walk differs`;
  }
  for (const order of ref.orders.values()) {
    const id = order.id;
    if (book.orderSide(id) !== order.side || book.orderPrice(id) !== order.price || book.orderSize(id) !== order.size) {
      return `order ${id}: ${book.orderSide(id)}/${book.orderPrice(id)}/${book.orderSize(id)}`;
    }
    const rebuilt = recon.orders.get(id);
    if (rebuilt === undefined || rebuilt.side !== order.side || rebuilt.price !== order.price || rebuilt.size !== order.size) {
      return `rebuilt order ${id} differs`;
    }
  }
  if (recon.trades.join('|') !== ref.trades.join('|')) return `trades differ: ${recon.trades.length} vs ${ref.trades.length}`;
  recon.trades.length = 0;
  ref.trades.length = 0;
  const checksum = ref.checksum(s.priceDecimals, s.sizeDecimals);
  if (book.checksum() !== checksum) return `checksum ${book.checksum()} != ${checksum}`;
  return null;
}

for (const s of SCENARIOS) {
  t.test(`seed ${s.seed}: ${s.events} events, tick ${s.tick}, lot ${s.lot}`, async (t) => {
    const random = mulberry32(s.seed);
    const book = new OrderBook(s.tick, s.lot, null, 16); // tiny: growth happens under test
    const recon = new Reconstruction(book);
    book.setListener(recon);
    const ref = new ReferenceBook(s.tick, s.lot);
    const generator = new Generator(s, ref, random);
    const codes = new Map<number, number>();
    let failure: string | null = null;
    let checks = 0;
    for (let n = 1; n <= s.events && failure === null; n++) {
      const e = generator.next();
      const callsBefore = recon.calls;
      const status = applyEvent(book, e.kind, e.side, e.orderId, e.price, e.size, e.newOrderId);
      const expected = applyReference(ref, e);
      generator.settle(e, expected);
      recon.endEvent();
      codes.set(status, (codes.get(status) ?? 0) + 1);
      if (status !== expected) {
        failure = `status ${status} != ${expected}`;
      } else if (status !== OK && recon.calls !== callsBefore) {
        failure = 'a rejected event called the listener';
      } else if (e.kind === EV_CLEAR) {
        if (recon.calls !== callsBefore) failure = 'clear() called the listener';
        recon.reset();
      }
      if (failure === null && (n % CHECK_EVERY === 0 || n === s.events)) {
        failure = compare(book, ref, recon, s);
        checks++;
      }
      if (failure !== null) failure = `seed ${s.seed}, event ${n} ${JSON.stringify(e)}: ${failure}`;
    }
    t.equal(failure, null, 'book, reference and listener-built copy agree throughout');
    t.equal(checks, Math.ceil(s.events / CHECK_EVERY), 'every checkpoint ran');
    // The mix must exercise both accepted events and many kinds of rejects to prove anything.
    t.ok((codes.get(OK) ?? 0) > s.events / 2, 'most events apply');
    const wanted = [OK, REJECT_UNKNOWN_ORDER, REJECT_DUPLICATE_ORDER, REJECT_BAD_SIZE, REJECT_BAD_PRICE, REJECT_BAD_SIDE, REJECT_BAD_EVENT];
    if (s.tick > 1) wanted.push(REJECT_OFF_TICK);
    if (s.lot > 1) wanted.push(REJECT_OFF_LOT);
    t.same(
      wanted.filter((code) => !codes.has(code)),
      [],
      `every reachable code seen (${[...codes.keys()].sort((a, b) => a - b)})`,
    );
  });
}
