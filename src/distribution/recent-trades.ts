import { MSG_TRADE } from '../model/out-records';
import type { OutMessage, RecordTap } from './consumer';
import { readerOf } from './record-reader';
import { RowHistory } from './row-history';

/** The last TRADE_HISTORY trades of every instrument, for REST pulls. */
export const TRADE_HISTORY = 1000;

const T_ID = 0;
const T_PRICE = 1;
const T_SIZE = 2;
const T_SIDE = 3;
const T_MAKER = 4;
const T_TIMESTAMP = 5;
const T_SEQUENCE = 6;
const T_WORDS = 7;

export interface TradeRow {
  tradeId: number;
  price: number;
  size: number;
  side: number;
  makerOrderId: number;
  timestamp: number;
  sequence: number;
}

/**
 * The tape: the last TRADE_HISTORY trades of every instrument, recorded as they leave the owners
 * (trades always flow, followed or not). REST answers from it, and a slow consumer's resync
 * sends from it the trades printed while the connection was parked.
 */
export class RecentTrades implements RecordTap {
  private readonly history: RowHistory;

  constructor(instruments: number) {
    this.history = new RowHistory(instruments, T_WORDS, TRADE_HISTORY);
  }

  record(symbol: number, tradeId: number, price: number, size: number, side: number, makerOrderId: number, timestamp: number, sequence: number): void {
    const w = this.history.append(symbol);
    const f = this.history.columns(symbol);
    f[w + T_ID] = tradeId;
    f[w + T_PRICE] = price;
    f[w + T_SIZE] = size;
    f[w + T_SIDE] = side;
    f[w + T_MAKER] = makerOrderId;
    f[w + T_TIMESTAMP] = timestamp;
    f[w + T_SEQUENCE] = sequence;
  }

  onRecord(m: OutMessage): void {
    if (m.kind !== MSG_TRADE) return;
    readerOf(m).readTrade(m.symbol, m.start, this);
  }

  /** The id of the newest trade of `symbol` (0 before the first): what its followers were sent last. */
  lastId(symbol: number): number {
    const newest = this.history.newest(symbol, 1);
    return newest.length === 0 ? 0 : this.history.columns(symbol)[newest[0] + T_ID];
  }

  /**
   * The trades after trade id `afterId`, oldest first; null when the tape no longer reaches back
   * to it. Ids, not sequences: one event can print several trades under one sequence, and a
   * symbol's ids are consecutive, so a hole is seen exactly.
   */
  after(symbol: number, afterId: number): TradeRow[] | null {
    const rows = this.latest(symbol, TRADE_HISTORY);
    let n = 0;
    while (n < rows.length && rows[n].tradeId > afterId) n++;
    if (n > 0 && rows[n - 1].tradeId > afterId + 1) return null;
    return rows.slice(0, n).reverse();
  }

  /** Newest first, at most `limit`. */
  latest(symbol: number, limit: number): TradeRow[] {
    const f = this.history.columns(symbol);
    return this.history.newest(symbol, limit).map((w) => ({
      tradeId: f[w + T_ID],
      price: f[w + T_PRICE],
      size: f[w + T_SIZE],
      side: f[w + T_SIDE],
      makerOrderId: f[w + T_MAKER],
      timestamp: f[w + T_TIMESTAMP],
      sequence: f[w + T_SEQUENCE],
    }));
  }
}
