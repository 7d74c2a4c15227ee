import { SIDE_NAMES } from '../model/book-types';
import { EV_ADD, EV_TRADE, EVENT_KIND_NAMES } from '../model/events';
import type { Instrument } from '../model/instruments';
import { formatUnits } from '../util/decimal';
import { formatTimestampMicros } from '../wire/timestamp';
import type { OrderEventRecord } from './store';

/**
 * A page of stored input events as GET /api/v1/market/{symbol}/events answers it, in the words of
 * an /ingest JSON batch (kind and side names, decimal strings), so a page can be read like the
 * stream a publisher sends. Fields the kind does not carry are null: a 0 in the journal, and the
 * side of every kind but add and trade (the others act on an order whose side the book knows;
 * a publisher leaves it out, a simulator fills it in). `rows` may hold one row more than
 * `limit`: it only says that more follow.
 */
export function renderOrderEvents(rows: readonly OrderEventRecord[], instrument: Instrument, limit: number): string {
  const n = Math.min(rows.length, limit);
  const p = instrument.priceDecimals;
  const s = instrument.sizeDecimals;
  const events = new Array<object>(n);
  for (let i = 0; i < n; i++) {
    const e = rows[i];
    events[i] = {
      time: formatTimestampMicros(e.time),
      sequence: e.sequence,
      kind: EVENT_KIND_NAMES[e.kind] ?? null,
      side: e.kind === EV_ADD || e.kind === EV_TRADE ? SIDE_NAMES[e.side] ?? null : null,
      order_id: e.orderId === 0 ? null : e.orderId,
      price: e.price === 0 ? null : formatUnits(e.price, p),
      size: e.size === 0 ? null : formatUnits(e.size, s),
      new_order_id: e.newOrderId === 0 ? null : e.newOrderId,
    };
  }
  return JSON.stringify({ symbol: instrument.symbol, events, has_more: rows.length > limit });
}
