import { basename } from 'node:path';
import { performance } from 'node:perf_hooks';
import { applyEvent } from '../../src/engine/apply-event';
import { OK } from '../../src/engine/book-types';
import {
  EVENT_WORDS,
  EventSink,
  W_KIND,
  W_NEW_ORDER_ID,
  W_ORDER_ID,
  W_PRICE,
  W_SIDE,
  W_SIZE,
  W_SYMBOL,
  W_TIMESTAMP,
} from '../../src/engine/events';
import { OrderBook } from '../../src/engine/order-book';
import { findLobsterSamples, lobsterDataDir } from '../../src/source/lobster-files';
import { replayLobsterFile } from '../../src/source/lobster-translator';

/**
 * LobsterApply: events/s through applyEvent() into one book, on real Nasdaq order flow (the
 * LOBSTER samples, 2012-06-21). Each sample is first translated into 64-byte event records
 * (seeded and learned hidden liquidity included), so neither parsing nor translation is timed;
 * then the records are replayed from an empty book (clear(), keeping its grown arrays) for
 * the time given. The translation itself (parse both files, shadow book, engine book) is
 * timed separately once per sample, as messages/s.
 */

class RecordSink implements EventSink {
  records = new Float64Array(1 << 16);
  count = 0;

  event(kind: number, symbol: number, side: number, orderId: number, price: number, size: number, newOrderId: number, timestamp: number): void {
    const at = this.count * EVENT_WORDS;
    if (at === this.records.length) {
      const grown = new Float64Array(this.records.length * 2);
      grown.set(this.records);
      this.records = grown;
    }
    const r = this.records;
    r[at + W_KIND] = kind;
    r[at + W_SYMBOL] = symbol;
    r[at + W_SIDE] = side;
    r[at + W_ORDER_ID] = orderId;
    r[at + W_PRICE] = price;
    r[at + W_SIZE] = size;
    r[at + W_NEW_ORDER_ID] = newOrderId;
    r[at + W_TIMESTAMP] = timestamp;
    this.count++;
  }
}

function replay(book: OrderBook, records: Float64Array, events: number): number {
  book.clear();
  let rejects = 0;
  const end = events * EVENT_WORDS;
  for (let at = 0; at < end; at += EVENT_WORDS) {
    const status = applyEvent(
      book,
      records[at + W_KIND],
      records[at + W_SIDE],
      records[at + W_ORDER_ID],
      records[at + W_PRICE],
      records[at + W_SIZE],
      records[at + W_NEW_ORDER_ID],
    );
    if (status !== OK) rejects++;
  }
  return rejects;
}

interface SampleResult {
  sample: string;
  messages: number;
  events: number;
  translateMessagesPerSecond: number;
  eventsPerSecond: number;
  nsPerEvent: number;
  replays: number;
  restingOrdersAtEnd: number;
}

function measure(messagePath: string, seconds: number): SampleResult {
  const sink = new RecordSink();
  const started = performance.now();
  const result = replayLobsterFile(messagePath, { sink });
  const translateMs = performance.now() - started;
  const events = sink.count;
  const book = new OrderBook(1, 1, null);
  if (replay(book, sink.records, events) !== 0) throw new Error(`${messagePath}: recorded events were rejected`);
  let replays = 0;
  const start = performance.now();
  const deadline = start + seconds * 1000;
  let now = start;
  do {
    replay(book, sink.records, events);
    replays++;
    now = performance.now();
  } while (now < deadline);
  const perEvent = ((now - start) * 1e6) / (replays * events);
  return {
    sample: basename(messagePath),
    messages: result.rows,
    events,
    translateMessagesPerSecond: Math.round((result.rows * 1000) / translateMs),
    eventsPerSecond: Math.round(1e9 / perEvent),
    nsPerEvent: Math.round(perEvent * 10) / 10,
    replays,
    restingOrdersAtEnd: book.orderCount,
  };
}

export async function run(opts: { seconds: number; dir?: string }): Promise<object> {
  const dir = opts.dir ?? lobsterDataDir();
  const samples = findLobsterSamples(dir);
  if (samples.length === 0) {
    return { name: 'LobsterApply', skipped: `no LOBSTER samples in ${dir} (set BOOKCAST_LOBSTER_DIR)` };
  }
  const share = opts.seconds / samples.length;
  return { name: 'LobsterApply', samples: samples.map((path) => measure(path, share)) };
}

if (require.main === module) {
  const seconds = Number(process.argv[2] ?? 10);
  run({ seconds }).then(
    (result) => console.log(JSON.stringify(result, null, 2)),
    (error) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
