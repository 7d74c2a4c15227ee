import { INTERVAL_COUNT } from '../model/intervals';
import { MSG_CANDLE } from '../model/out-records';
import type { OutMessage, RecordTap } from '../distribution/consumer';
import { readerOf } from '../distribution/record-reader';
import { RowHistory } from '../distribution/row-history';
import type { CandleRecord } from '../store/store';

/** Closed candles kept per instrument and interval for REST. */
export const CANDLE_HISTORY = 1000;

const C_START = 0;
const C_OPEN = 1;
const C_HIGH = 2;
const C_LOW = 3;
const C_CLOSE = 4;
const C_VOLUME = 5;
const C_NOTIONAL = 6;
const C_COUNT = 7;
const C_VOLUME_REST = 8;
const C_NOTIONAL_REST = 9;
const C_WORDS = 10;

/** A closed candle as the store keeps it, less the key this history is indexed by. */
export type CandleRow = Omit<CandleRecord, 'symbol' | 'interval'>;

/**
 * Closed candles as they leave the owners (every closed candle is published, subscribed or not),
 * so REST answers from memory without asking a worker.
 */
export class RecentCandles implements RecordTap {
  private readonly history: RowHistory;

  constructor(instruments: number) {
    this.history = new RowHistory(instruments * INTERVAL_COUNT, C_WORDS, CANDLE_HISTORY);
  }

  onRecord(m: OutMessage): void {
    if (m.kind === MSG_CANDLE) readerOf(m).readClosedCandle(m.symbol, m.index, m.start, this);
  }

  record(
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
    const key = symbol * INTERVAL_COUNT + interval;
    const w = this.history.append(key);
    const f = this.history.columns(key);
    f[w + C_START] = start;
    f[w + C_OPEN] = open;
    f[w + C_HIGH] = high;
    f[w + C_LOW] = low;
    f[w + C_CLOSE] = close;
    f[w + C_VOLUME] = volume;
    f[w + C_NOTIONAL] = notional;
    f[w + C_COUNT] = count;
    f[w + C_VOLUME_REST] = volumeRest;
    f[w + C_NOTIONAL_REST] = notionalRest;
  }

  /** Closed candles with from <= start <= to, oldest first, the newest `limit` of them. */
  range(symbol: number, interval: number, from: number, to: number, limit: number): CandleRow[] {
    const key = symbol * INTERVAL_COUNT + interval;
    const f = this.history.columns(key);
    const rows: CandleRow[] = [];
    for (const w of this.history.newest(key, CANDLE_HISTORY)) {
      const start = f[w + C_START];
      if (start > to) continue;
      if (start < from || rows.length === limit) break;
      rows.push({
        start,
        open: f[w + C_OPEN],
        high: f[w + C_HIGH],
        low: f[w + C_LOW],
        close: f[w + C_CLOSE],
        volume: f[w + C_VOLUME],
        volumeRest: f[w + C_VOLUME_REST],
        notional: f[w + C_NOTIONAL],
        notionalRest: f[w + C_NOTIONAL_REST],
        count: f[w + C_COUNT],
      });
    }
    return rows.reverse();
  }
}
