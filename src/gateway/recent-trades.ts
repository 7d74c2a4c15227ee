/**
 * The last N trades of every instrument, for REST pulls, kept as numeric columns in one circular
 * buffer per instrument so recording a trade allocates nothing.
 */
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

export class RecentTrades {
  private readonly rows: Float64Array[];
  private readonly written: Float64Array;

  constructor(instruments: number) {
    this.rows = Array.from({ length: instruments }, () => new Float64Array(TRADE_HISTORY * T_WORDS));
    this.written = new Float64Array(instruments);
  }

  record(symbol: number, tradeId: number, price: number, size: number, side: number, makerOrderId: number, timestamp: number, sequence: number): void {
    const f = this.rows[symbol];
    const w = (this.written[symbol]++ % TRADE_HISTORY) * T_WORDS;
    f[w + T_ID] = tradeId;
    f[w + T_PRICE] = price;
    f[w + T_SIZE] = size;
    f[w + T_SIDE] = side;
    f[w + T_MAKER] = makerOrderId;
    f[w + T_TIMESTAMP] = timestamp;
    f[w + T_SEQUENCE] = sequence;
  }

  /** Newest first, at most `limit`. */
  latest(symbol: number, limit: number): TradeRow[] {
    const f = this.rows[symbol];
    const total = this.written[symbol];
    const n = Math.min(limit, total, TRADE_HISTORY);
    const out: TradeRow[] = [];
    for (let k = 1; k <= n; k++) {
      const w = ((total - k) % TRADE_HISTORY) * T_WORDS;
      out.push({
        tradeId: f[w + T_ID],
        price: f[w + T_PRICE],
        size: f[w + T_SIZE],
        side: f[w + T_SIDE],
        makerOrderId: f[w + T_MAKER],
        timestamp: f[w + T_TIMESTAMP],
        sequence: f[w + T_SEQUENCE],
      });
    }
    return out;
  }
}
