/**
 * A piscina task (runs in a pool thread, off the front thread): the L2 book of one symbol as it
 * was at a past time, rebuilt exactly by replaying the input journal up to that time. Stored
 * snapshots are L2 and cannot seed an order-by-order replay, so the journal is read from its
 * start; the cost is one pass over it (tens of millions of events a second are read and checked).
 */
import { applyEvent } from '../engine/apply-event';
import { ASK, BID, OK } from '../engine/book-types';
import { EV_CLEAR, W_KIND, W_NEW_ORDER_ID, W_ORDER_ID, W_PRICE, W_SIDE, W_SIZE, W_SYMBOL, W_TIMESTAMP } from '../engine/events';
import { OrderBook } from '../engine/order-book';
import { JournalReader } from '../journal/journal-reader';

export interface BookAtTask {
  journalDir: string;
  symbol: number;
  tickUnits: number;
  lotUnits: number;
  at: number;
  depth: number;
}

export interface BookAt {
  sequence: number;
  timestamp: number;
  checksum: number;
  bids: [number, number][];
  asks: [number, number][];
}

export default function bookAt(task: BookAtTask): BookAt {
  const book = new OrderBook(task.tickUnits, task.lotUnits, null);
  let sequence = 0;
  let timestamp = 0;
  new JournalReader(task.journalDir).read(
    {
      onEvent(_seq: number, f: Float64Array, w: number) {
        if (f[w + W_SYMBOL] !== task.symbol) return;
        let status = OK;
        if (f[w + W_KIND] === EV_CLEAR) book.clear();
        else status = applyEvent(book, f[w + W_KIND], f[w + W_SIDE], f[w + W_ORDER_ID], f[w + W_PRICE], f[w + W_SIZE], f[w + W_NEW_ORDER_ID]);
        if (status === OK) {
          sequence++;
          timestamp = f[w + W_TIMESTAMP];
        }
      },
    },
    { untilTime: task.at },
  );
  const side = (s: number): [number, number][] =>
    Array.from({ length: Math.min(task.depth, book.levelCount(s)) }, (_, i) => [book.levelPrice(s, i), book.levelSize(s, i)]);
  return { sequence, timestamp, checksum: book.checksum(), bids: side(BID), asks: side(ASK) };
}
