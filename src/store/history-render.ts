import { formatUnitPair, formatUnits } from '../util/decimal';
import { vwapUnits } from '../util/market-math';
import { formatTimestampMicros } from '../wire/timestamp';
import type { CandleRecord } from './store';

/** Columns a history answer can hold, in this order. */
export const HISTORY_FIELDS = ['open', 'high', 'low', 'close', 'volume', 'vwap', 'trades'] as const;
export type HistoryField = (typeof HISTORY_FIELDS)[number];

export interface HistoryRequest {
  symbol: string;
  interval: string;
  from: number;
  to: number;
  limit: number;
  offset: number;
  fields: HistoryField[];
  format: 'json' | 'csv';
  priceDecimals: number;
  sizeDecimals: number;
  /** Copied into the JSON answer's metadata. */
  metadata: Record<string, string | number>;
}

function value(c: CandleRecord, field: HistoryField, r: HistoryRequest): string | number | null {
  switch (field) {
    case 'volume':
      return formatUnitPair(c.volume, c.volumeRest, r.sizeDecimals);
    case 'vwap': {
      const v = vwapUnits(c.notional, c.notionalRest, c.volume, c.volumeRest);
      return v === null ? null : formatUnits(v, r.priceDecimals);
    }
    case 'trades':
      return c.count;
    default:
      return formatUnits(c[field], r.priceDecimals);
  }
}

/**
 * Renders a page of stored candles as the Market Data API's history answer (JSON) or as CSV with
 * one header line. `rows` may hold one row more than the page: it only says that more follow.
 */
export function renderHistory(rows: readonly CandleRecord[], r: HistoryRequest): string {
  const hasMore = rows.length > r.limit;
  const page = hasMore ? rows.slice(0, r.limit) : rows;
  if (r.format === 'csv') {
    let out = 'timestamp,' + r.fields.join(',') + '\n';
    for (const c of page) {
      out += formatTimestampMicros(c.start);
      for (const f of r.fields) {
        const v = value(c, f, r);
        out += ',' + (v === null ? '' : v);
      }
      out += '\n';
    }
    return out;
  }
  const data = page.map((c) => {
    const row: Record<string, string | number | null> = { timestamp: formatTimestampMicros(c.start) };
    for (const f of r.fields) row[f] = value(c, f, r);
    return row;
  });
  return JSON.stringify({
    symbol: r.symbol,
    interval: r.interval,
    time_range: { start: formatTimestampMicros(r.from), end: formatTimestampMicros(r.to) },
    data,
    pagination: { limit: r.limit, offset: r.offset, count: data.length, has_more: hasMore },
    metadata: r.metadata,
  });
}
