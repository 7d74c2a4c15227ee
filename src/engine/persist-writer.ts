import { BACK_PRESSURED, SpscRing } from '../ring/spsc-ring';
import { claimAfterWaiting, SpaceWaiter } from '../ring/claim-or-wait';
import { ASK, BID } from '../model/book-types';
import { PERSIST_BOOK, PERSIST_BOOK_HEADER_WORDS, PERSIST_CANDLE, PERSIST_CANDLE_WORDS, PERSIST_TRADE, PERSIST_TRADE_WORDS } from '../model/persist-records';
import type { SymbolState } from './symbol-state';

/**
 * The book worker's side of its persist ring: trades, closed candles and periodic book records
 * for the persistence worker. Like the out-ring, records are committed lazily and published per
 * batch. The persistence worker drains the ring into a disk spool whenever the database is slow,
 * so a full ring is rare; when it happens the worker waits rather than drop a row.
 */
export class PersistWriter implements SpaceWaiter {
  waits = 0;

  constructor(private readonly ring: SpscRing) {}

  private claim(type: number, words: number): number {
    const ring = this.ring;
    let offset = ring.tryClaim(words * 8, type);
    if (offset === BACK_PRESSURED) offset = claimAfterWaiting(ring, words * 8, type, this);
    return offset >>> 3;
  }

  beforeWait(): void {
    this.waits++;
    this.ring.publish();
  }

  trade(symbol: number, sequence: number, tradeId: number, price: number, size: number, side: number, makerOrderId: number, time: number): void {
    const w = this.claim(PERSIST_TRADE, PERSIST_TRADE_WORDS);
    const f = this.ring.f64;
    f[w] = symbol;
    f[w + 1] = sequence;
    f[w + 2] = tradeId;
    f[w + 3] = price;
    f[w + 4] = size;
    f[w + 5] = side;
    f[w + 6] = makerOrderId;
    f[w + 7] = time;
    this.ring.commitLazy();
  }

  candle(
    symbol: number,
    interval: number,
    start: number,
    open: number,
    high: number,
    low: number,
    close: number,
    volume: number,
    volumeRest: number,
    notional: number,
    notionalRest: number,
    count: number,
  ): void {
    const w = this.claim(PERSIST_CANDLE, PERSIST_CANDLE_WORDS);
    const f = this.ring.f64;
    f[w] = symbol;
    f[w + 1] = interval;
    f[w + 2] = start;
    f[w + 3] = open;
    f[w + 4] = high;
    f[w + 5] = low;
    f[w + 6] = close;
    f[w + 7] = volume;
    f[w + 8] = notional;
    f[w + 9] = count;
    f[w + 10] = volumeRest;
    f[w + 11] = notionalRest;
    this.ring.commitLazy();
  }

  /** The top `depth` levels of a book, as it stands at its current sequence. */
  book(s: SymbolState, depth: number, time: number): void {
    const book = s.book;
    const bids = Math.min(depth, book.levelCount(BID));
    const asks = Math.min(depth, book.levelCount(ASK));
    const w = this.claim(PERSIST_BOOK, PERSIST_BOOK_HEADER_WORDS + 2 * (bids + asks));
    const f = this.ring.f64;
    f[w] = s.instrument.index;
    f[w + 1] = s.sequence;
    f[w + 2] = time;
    f[w + 3] = s.checksum();
    f[w + 4] = bids;
    f[w + 5] = asks;
    let at = w + PERSIST_BOOK_HEADER_WORDS;
    for (let i = 0; i < bids; i++, at += 2) {
      f[at] = book.levelPrice(BID, i);
      f[at + 1] = book.levelSize(BID, i);
    }
    for (let i = 0; i < asks; i++, at += 2) {
      f[at] = book.levelPrice(ASK, i);
      f[at + 1] = book.levelSize(ASK, i);
    }
    this.ring.commitLazy();
  }

  publish(): void {
    this.ring.publish();
  }
}
