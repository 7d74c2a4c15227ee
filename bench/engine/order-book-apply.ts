import { performance } from 'node:perf_hooks';
import { applyEvent } from '../../src/engine/apply-event';
import { ASK, BID, BookListener, OK } from '../../src/model/book-types';
import { EV_ADD, EV_CANCEL, EV_DELETE, EV_EXECUTE, EV_MODIFY, EV_REPLACE, EVENT_WORDS } from '../../src/model/events';
import { OrderBook } from '../../src/engine/order-book';
import { runStandalone } from '../standalone';
import { EventRecorder, replay, ReplayRate, timeReplays } from './event-records';

/**
 * OrderBookApply: events/s through applyEvent() into one book, from a recorded synthetic flow
 * (adds clustered near the mid, deletes, partial cancels, modifies, replaces, executions at the
 * touch), replayed from an empty book: with no listener; with a no-op listener, which prices
 * the listener calls and the level-position searches they require; and with a checksum()
 * after every event, as a worker that publishes a checksum with every diff would.
 * The flow is generated up front into 64-byte event records so generation is not timed.
 */

const EVENTS = 1 << 20;
const RESTING_TARGET = 5000;
const MID = 670_000; // BTC/USD at 0.1 tick: 67000.0
const LOT = 1_000; // 0.01 BTC at 5 decimals

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Records a valid flow by driving a scratch book, so every event applies cleanly on replay. */
function recordFlow(count: number, seed: number): Float64Array {
  const random = mulberry32(seed);
  const book = new OrderBook(1, 1, null, 1 << 14);
  const live: number[] = [];
  const liveIndex = new Map<number, number>();
  const recorder = new EventRecorder();
  let nextId = 1;
  let mid = MID;

  const forget = (id: number) => {
    const at = liveIndex.get(id)!;
    const last = live.pop()!;
    if (last !== id) {
      live[at] = last;
      liveIndex.set(last, at);
    }
    liveIndex.delete(id);
  };
  const remember = (id: number) => {
    liveIndex.set(id, live.length);
    live.push(id);
  };
  const quote = (side: number) => {
    const distance = 1 + Math.floor(-Math.log(1 - random()) * 8);
    return side === BID ? mid - distance : mid + distance;
  };

  for (let n = 0; n < count; n++) {
    const r = random();
    // Adds outweigh removals below the target depth and trail them above it.
    const addShare = live.length < RESTING_TARGET ? 0.5 : 0.3;
    if (random() < 0.01) mid += random() < 0.5 ? -1 : 1;
    let kind: number;
    let side = random() < 0.5 ? BID : ASK;
    let orderId = 0;
    let price = 0;
    let size = 0;
    let newOrderId = 0;
    if (live.length === 0 || r < addShare) {
      kind = EV_ADD;
      orderId = nextId++;
      price = quote(side);
      size = LOT * (1 + Math.floor(random() * 20));
    } else if (r < addShare + (1 - addShare) * 0.8) {
      orderId = live[Math.floor(random() * live.length)];
      side = book.orderSide(orderId);
      const remaining = book.orderSize(orderId);
      const s = random();
      if (s < 0.6 || remaining === LOT) {
        kind = EV_DELETE;
      } else if (s < 0.75) {
        kind = EV_CANCEL;
        size = LOT;
      } else if (s < 0.9) {
        kind = EV_MODIFY;
        size = remaining - LOT;
      } else {
        kind = EV_REPLACE;
        newOrderId = nextId++;
        price = quote(side);
        size = remaining;
      }
    } else {
      kind = EV_EXECUTE;
      side = book.bestPrice(BID) === 0 ? ASK : book.bestPrice(ASK) === 0 ? BID : side;
      orderId = book.firstOrderAt(side, 0);
      const remaining = book.orderSize(orderId);
      size = random() < 0.5 ? remaining : LOT * Math.max(1, Math.floor((remaining / LOT) * random()));
    }
    recorder.event(kind, 0, side, orderId, price, size, newOrderId, 0);
    if (applyEvent(book, kind, side, orderId, price, size, newOrderId) !== OK) {
      throw new Error(`bench flow generated a rejected event at ${n}`);
    }
    if (kind === EV_ADD) remember(orderId);
    else if (!book.hasOrder(orderId)) forget(orderId);
    if (kind === EV_REPLACE) remember(newOrderId);
  }
  return recorder.words.subarray(0, recorder.count * EVENT_WORDS);
}

let sink = 0; // checksums land somewhere observable

class NoopListener implements BookListener {
  calls = 0;
  onLevel(): void {
    this.calls++;
  }
  onOrder(): void {
    this.calls++;
  }
  onTrade(): void {
    this.calls++;
  }
}

type Rate = Omit<ReplayRate, 'replays'>;

function measure(book: OrderBook, records: Float64Array, seconds: number, checksumEach = false): Rate {
  const events = records.length / EVENT_WORDS;
  if (replay(book, records, events, checksumEach) !== 0) throw new Error('replay rejected events');
  const { eventsPerSecond, nsPerEvent, cpuNsPerEvent } = timeReplays(book, records, events, seconds, checksumEach);
  return { eventsPerSecond, nsPerEvent, cpuNsPerEvent };
}

/** checksum() of an unchanged book: every level's piece cached, twenty joins. */
function measureChecksum(book: OrderBook, seconds: number): number {
  let calls = 0;
  const start = performance.now();
  const deadline = start + seconds * 1000;
  let now = start;
  do {
    for (let i = 0; i < 10_000; i++) sink ^= book.checksum();
    calls += 10_000;
    now = performance.now();
  } while (now < deadline);
  return Math.round(((now - start) * 1e6) / calls);
}

export async function run(opts: { seconds: number }): Promise<object> {
  const records = recordFlow(EVENTS, 42);
  const share = opts.seconds / 7;
  const plain = new OrderBook(1, 1, null);
  const noListener = measure(plain, records, share * 2);
  const listener = new NoopListener();
  const listened = new OrderBook(1, 1, listener);
  const withListener = measure(listened, records, share * 2);
  listener.calls = 0;
  replay(listened, records, EVENTS);
  const withChecksum = measure(new OrderBook(1, 1, null), records, share * 2, true);
  return {
    name: 'OrderBookApply',
    events: EVENTS,
    restingOrders: plain.orderCount,
    levels: { bid: plain.levelCount(BID), ask: plain.levelCount(ASK) },
    noListener,
    noopListener: withListener,
    listenerCallsPerEvent: Math.round((listener.calls / EVENTS) * 100) / 100,
    checksumAfterEachEvent: withChecksum,
    checksumUnchangedNs: measureChecksum(plain, share),
  };
}

if (require.main === module) runStandalone(run, 10);
