import { SeqlockTable } from '../ring/seqlock-table';
import { ASK, BID } from '../model/book-types';
import { CHECKSUM_DEPTH } from '../model/depths';
import { CHECKSUM_INIT, checksumFinish, checksumJoin, crcUnits, decimalLength } from './book-checksum';
import type { SymbolState } from './symbol-state';

/**
 * The top of every book and its 24 h statistics, mirrored by its owning worker into shared memory so the front thread
 * answers REST snapshot pulls without a round trip. One seqlock slot per instrument:
 *
 *   word  0 sequence          last event applied
 *         1 timestamp         µs, of that event
 *         2 (unused)          the checksum was here; the reader computes it (below)
 *         3 bidCount          levels mirrored on each side (<= depth)
 *         4 askCount
 *         5 lastPrice         last trade (0 = none yet)
 *         6 lastSize
 *         7 lastSide          aggressor, -1 = none
 *         8 lastTradeId
 *         9 orderCount        live orders in the whole book
 *        10 bidLevels         levels in the whole book
 *        11 askLevels
 *        12 volume24h         rolling 24 h (see rolling-24h.ts), size units
 *        13 notional24h       sum of price × size over the window (for VWAP)
 *        14 trades24h
 *        15 high24h           0 = no trade in the window
 *        16 low24h
 *        17 open24h           first trade price still in the window
 *        18 volume24hRest     what volume24h's rounding left out past 2^53 (exact = 12 + 18)
 *        19 notional24hRest   the same for notional24h
 *   20 + 4i  level i: bid price, bid size, ask price, ask size   (i < depth)
 *
 * Levels are interleaved so a reader wanting the top d copies one prefix of M_HEADER_WORDS + 4d
 * (20 + 4d) words.
 *
 * The checksum (Kraken v2 CRC32 of the top 10, book-checksum.ts) is computed by the reader that
 * wants it, from the levels it copied (the mirror holds the exact top MIRROR_DEPTH >= 10): the
 * worker refreshes a mirror after every batch that changed the book, most of which no REST pull
 * ever reads, and a checksum there cost it 5-9% of its time where no stream carried one. The writer rewrites the header every time but only the levels that changed
 * since its last write (SymbolState.mirrorFrom/mirrorTo); words past the counts may be stale.
 */
export const M_SEQUENCE = 0;
export const M_TIMESTAMP = 1;
export const M_BID_COUNT = 3;
export const M_ASK_COUNT = 4;
export const M_LAST_PRICE = 5;
export const M_LAST_SIZE = 6;
export const M_LAST_SIDE = 7;
export const M_LAST_TRADE_ID = 8;
export const M_ORDER_COUNT = 9;
export const M_BID_LEVELS = 10;
export const M_ASK_LEVELS = 11;
export const M_VOLUME_24H = 12;
export const M_NOTIONAL_24H = 13;
export const M_TRADES_24H = 14;
export const M_HIGH_24H = 15;
export const M_LOW_24H = 16;
export const M_OPEN_24H = 17;
export const M_VOLUME_24H_REST = 18;
export const M_NOTIONAL_24H_REST = 19;
export const M_HEADER_WORDS = 20;

export function mirrorWords(depth: number): number {
  return M_HEADER_WORDS + 4 * depth;
}

export function allocateMirror(slots: number, depth: number): SharedArrayBuffer {
  return new SharedArrayBuffer(SeqlockTable.byteLength(slots, mirrorWords(depth)));
}

/** Writer side, used by the owning worker only. */
export class BookMirrorWriter {
  private readonly table: SeqlockTable;

  constructor(sab: SharedArrayBuffer, slots: number, private readonly depth: number) {
    this.table = new SeqlockTable(sab, slots, mirrorWords(depth));
  }

  /** Copies the state of `s` (its book, last trade and statistics) into its slot. */
  write(s: SymbolState): void {
    const t = this.table;
    const slot = s.instrument.index;
    const book = s.book;
    const window = s.rolling24h;
    const f = t.f64;
    const base = t.base(slot);
    const bidLevels = book.levelCount(BID);
    const askLevels = book.levelCount(ASK);
    const bids = Math.min(bidLevels, this.depth);
    const asks = Math.min(askLevels, this.depth);
    t.beginWrite(slot);
    f[base + M_SEQUENCE] = s.sequence;
    f[base + M_TIMESTAMP] = s.timestamp;
    f[base + M_BID_COUNT] = bids;
    f[base + M_ASK_COUNT] = asks;
    f[base + M_LAST_PRICE] = s.lastPrice;
    f[base + M_LAST_SIZE] = s.lastSize;
    f[base + M_LAST_SIDE] = s.lastSide;
    f[base + M_LAST_TRADE_ID] = s.lastTradeId;
    f[base + M_ORDER_COUNT] = book.orderCount;
    f[base + M_BID_LEVELS] = bidLevels;
    f[base + M_ASK_LEVELS] = askLevels;
    f[base + M_VOLUME_24H] = window.volume;
    f[base + M_NOTIONAL_24H] = window.notional;
    f[base + M_TRADES_24H] = window.count;
    f[base + M_HIGH_24H] = window.high;
    f[base + M_LOW_24H] = window.low;
    f[base + M_OPEN_24H] = window.open;
    f[base + M_VOLUME_24H_REST] = window.volumeRest;
    f[base + M_NOTIONAL_24H_REST] = window.notionalRest;
    // Only the levels that changed since the last write (see SymbolState.mirrorFrom); readers
    // never look past the counts, so levels beyond them may stay stale.
    const from = s.mirrorFrom;
    const to = s.mirrorTo;
    if (from[BID] < bids) book.copyLevels(BID, from[BID], Math.min(to[BID], bids - 1), f, base + M_HEADER_WORDS + 4 * from[BID], 4);
    if (from[ASK] < asks) book.copyLevels(ASK, from[ASK], Math.min(to[ASK], asks - 1), f, base + M_HEADER_WORDS + 2 + 4 * from[ASK], 4);
    from[BID] = Infinity;
    from[ASK] = Infinity;
    to[BID] = -1;
    to[ASK] = -1;
    t.endWrite(slot);
  }
}

/** Reader side, used by the front thread: copies a consistent prefix into a private buffer. */
export class BookMirrorReader {
  private readonly table: SeqlockTable;
  /** The last copy read; valid until the next read. */
  readonly view: Float64Array;

  constructor(sab: SharedArrayBuffer, slots: number, readonly depth: number) {
    this.table = new SeqlockTable(sab, slots, mirrorWords(depth));
    this.view = new Float64Array(mirrorWords(depth));
  }

  /** Reads the header and the top `levels` levels of `slot` into `view`. */
  read(slot: number, levels: number): Float64Array {
    this.table.read(slot, this.view, mirrorWords(Math.min(levels, this.depth)));
    return this.view;
  }

  /** The sequence `slot` holds now: what a render kept from an earlier read is checked against. */
  sequence(slot: number): number {
    return this.table.readWord(slot, M_SEQUENCE);
  }

  /** As read, with at least the top ten levels copied, so that checksum() can follow. */
  readBook(slot: number, levels: number): Float64Array {
    return this.read(slot, Math.max(levels, CHECKSUM_DEPTH));
  }

  /** The checksum of the book in `view`, as the last readBook copied it. */
  checksum(): number {
    const v = this.view;
    const asks = checksumSide(v, CHECKSUM_INIT, M_HEADER_WORDS + 2, Math.min(v[M_ASK_COUNT], CHECKSUM_DEPTH));
    return checksumFinish(checksumSide(v, asks, M_HEADER_WORDS, Math.min(v[M_BID_COUNT], CHECKSUM_DEPTH)));
  }
}

/** Feeds `count` levels of one side of a copy, best first, each its price's digits then its size's. */
function checksumSide(v: Float64Array, state: number, first: number, count: number): number {
  for (let i = 0, w = first; i < count; i++, w += 4) {
    const price = v[w];
    const size = v[w + 1];
    state = checksumJoin(state, crcUnits(crcUnits(0, price), size), decimalLength(price) + decimalLength(size));
  }
  return state;
}
