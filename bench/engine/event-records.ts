import { performance } from 'node:perf_hooks';
import { applyEvent } from '../../src/engine/apply-event';
import { OK } from '../../src/model/book-types';
import { EVENT_WORDS, EventSink, W_KIND, W_NEW_ORDER_ID, W_ORDER_ID, W_PRICE, W_SIDE, W_SIZE, W_SYMBOL, W_TIMESTAMP } from '../../src/model/events';
import type { OrderBook } from '../../src/engine/order-book';

/**
 * Recorded event flows for the engine scenarios: events are generated or translated once, up
 * front, into 64-byte records (the event ring's eight words), so that what is timed is the
 * engine alone, replaying them.
 */

/** Keeps every event it is given as its eight words, in order, in an array that grows. */
export class EventRecorder implements EventSink {
  words = new Float64Array(1 << 16);
  count = 0;

  event(kind: number, symbol: number, side: number, orderId: number, price: number, size: number, newOrderId: number, timestamp: number): void {
    const at = this.count * EVENT_WORDS;
    if (at === this.words.length) {
      const grown = new Float64Array(this.words.length * 2);
      grown.set(this.words);
      this.words = grown;
    }
    const w = this.words;
    w[at + W_KIND] = kind;
    w[at + W_SYMBOL] = symbol;
    w[at + W_SIDE] = side;
    w[at + W_ORDER_ID] = orderId;
    w[at + W_PRICE] = price;
    w[at + W_SIZE] = size;
    w[at + W_NEW_ORDER_ID] = newOrderId;
    w[at + W_TIMESTAMP] = timestamp;
    this.count++;
  }
}

let sink = 0; // checksums land somewhere observable

/**
 * Applies the first `events` records of `words` to `book`, cleared first (it keeps its grown
 * arrays); with `checksumEach`, a checksum() after every event, as a worker that publishes one
 * with every diff would. Returns how many events were rejected.
 */
export function replay(book: OrderBook, words: Float64Array, events: number, checksumEach = false): number {
  book.clear();
  let rejects = 0;
  const end = events * EVENT_WORDS;
  for (let at = 0; at < end; at += EVENT_WORDS) {
    const status = applyEvent(book, words[at + W_KIND], words[at + W_SIDE], words[at + W_ORDER_ID], words[at + W_PRICE], words[at + W_SIZE], words[at + W_NEW_ORDER_ID]);
    if (status !== OK) rejects++;
    if (checksumEach) sink ^= book.checksum();
  }
  return rejects;
}

export interface ReplayRate {
  eventsPerSecond: number;
  nsPerEvent: number;
  /** Per event in CPU time of this process: steadier than wall time on a shared machine. */
  cpuNsPerEvent: number;
  replays: number;
}

/** Replays the records into `book` again and again for `seconds` (at least once). */
export function timeReplays(book: OrderBook, words: Float64Array, events: number, seconds: number, checksumEach = false): ReplayRate {
  let replays = 0;
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  const deadline = start + seconds * 1000;
  let now = start;
  do {
    replay(book, words, events, checksumEach);
    replays++;
    now = performance.now();
  } while (now < deadline);
  const cpu = process.cpuUsage(cpuStart);
  const perEvent = ((now - start) * 1e6) / (replays * events);
  const cpuPerEvent = ((cpu.user + cpu.system) * 1e3) / (replays * events);
  return {
    eventsPerSecond: Math.round(1e9 / perEvent),
    nsPerEvent: Math.round(perEvent * 10) / 10,
    cpuNsPerEvent: Math.round(cpuPerEvent * 10) / 10,
    replays,
  };
}
