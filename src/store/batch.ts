import type { BookSnapshotRecord, CandleRecord, TradeRecord } from './store';

/** Rows gathered from the persist rings, written to the store together. */
export interface Batch {
  trades: TradeRecord[];
  candles: CandleRecord[];
  books: BookSnapshotRecord[];
}

export function emptyBatch(): Batch {
  return { trades: [], candles: [], books: [] };
}

export function batchRows(b: Batch): number {
  return b.trades.length + b.candles.length + b.books.length;
}
