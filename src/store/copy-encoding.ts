import { BookSnapshotRecord, CandleRecord, TradeRecord } from './store';

/**
 * COPY payloads. Trades, the high-volume table, go in PostgreSQL's binary COPY format: the
 * backend then copies fixed-width integers instead of parsing decimal text and timestamps,
 * which is most of its cost per row. Candles and snapshots are a few rows per second and go as
 * COPY text into staging tables (times as µs integers, converted in SQL).
 *
 * Binary layout (https://www.postgresql.org/docs/current/sql-copy.html, "Binary Format"):
 *
 *   header   "PGCOPY\n\xff\r\n\0" | int32 flags = 0 | int32 extension length = 0
 *   tuple    int16 field count | per field: int32 byte length, bytes (big-endian)
 *   trailer  int16 -1
 */

const SIGNATURE = 'PGCOPY\n\xff\r\n\0';
const HEADER_BYTES = SIGNATURE.length + 8;
const TRAILER_BYTES = 2;
/** PostgreSQL's timestamp epoch is 2000-01-01: 946684800 s after the Unix epoch. */
const PG_EPOCH_MICROS = 946_684_800_000_000;
const TWO_32 = 4_294_967_296;

/** Trade columns in COPY order; the encoder below writes exactly these types. */
export const TRADE_COLUMNS = 'symbol, sequence, trade_id, price, size, side, maker_order_id, time';
const TRADE_FIELDS = 8;
/** A trade tuple without its symbol's bytes: count, 8 lengths, six int8, one int2. */
const TRADE_FIXED_BYTES = 2 + TRADE_FIELDS * 4 + 6 * 8 + 2;

/**
 * Encodes trade batches into one reusable buffer (grown, never shrunk). The returned view is
 * valid until the next encode: callers hand it to the driver and await the COPY first.
 */
export class TradeCopyEncoder {
  private buffer: Buffer = Buffer.allocUnsafe(1 << 20);

  encode(rows: readonly TradeRecord[]): Buffer {
    let symbolBytes = 0;
    for (let i = 0; i < rows.length; i++) symbolBytes += rows[i].symbol.length * 3;
    this.reserve(HEADER_BYTES + TRAILER_BYTES + rows.length * TRADE_FIXED_BYTES + symbolBytes);
    const b = this.buffer;
    let at = b.write(SIGNATURE, 0, 'latin1');
    b.writeInt32BE(0, at);
    b.writeInt32BE(0, at + 4);
    at += 8;
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i];
      b.writeInt16BE(TRADE_FIELDS, at);
      const length = b.write(r.symbol, at + 6, 'utf8');
      b.writeInt32BE(length, at + 2);
      at += 6 + length;
      at = int8(b, at, r.sequence);
      at = int8(b, at, r.tradeId);
      at = int8(b, at, r.price);
      at = int8(b, at, r.size);
      b.writeInt32BE(2, at);
      b.writeInt16BE(r.side, at + 4);
      at += 6;
      at = int8(b, at, r.makerOrderId);
      at = int8(b, at, r.time - PG_EPOCH_MICROS);
    }
    b.writeInt16BE(-1, at);
    return b.subarray(0, at + 2);
  }

  private reserve(bytes: number): void {
    if (bytes > this.buffer.length) this.buffer = Buffer.allocUnsafe(Math.max(bytes, this.buffer.length * 2));
  }
}

/** A length-prefixed int8 field from a safe integer, without going through BigInt. */
function int8(b: Buffer, at: number, value: number): number {
  const high = Math.floor(value / TWO_32);
  b.writeInt32BE(8, at);
  b.writeInt32BE(high, at + 4);
  b.writeUInt32BE(value - high * TWO_32, at + 8);
  return at + 12;
}

const TEXT_SPECIALS = /[\\\t\n\r]/;

/** A value for COPY text format: backslash, tab and line breaks escaped. */
function copyText(value: string): string {
  return TEXT_SPECIALS.test(value) ? value.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r') : value;
}

/** Candle staging columns; ord keeps the batch order so the last row for a key wins. */
export const CANDLE_STAGE_COLUMNS = 'ord, symbol, "interval", start_us, open, high, low, close, volume, notional, count';

export function encodeCandles(rows: readonly CandleRecord[]): Buffer {
  let text = '';
  for (let i = 0; i < rows.length; i++) {
    const c = rows[i];
    text += `${i}\t${copyText(c.symbol)}\t${copyText(c.interval)}\t${c.start}\t${c.open}\t${c.high}\t${c.low}\t${c.close}\t${c.volume}\t${c.notional}\t${c.count}\n`;
  }
  return Buffer.from(text, 'utf8');
}

export const SNAPSHOT_STAGE_COLUMNS = 'symbol, sequence, time_us, checksum, bids, asks';

export function encodeBookSnapshots(rows: readonly BookSnapshotRecord[]): Buffer {
  let text = '';
  for (const s of rows) {
    text += `${copyText(s.symbol)}\t${s.sequence}\t${s.time}\t${s.checksum}\t${levelsArray(s.bids)}\t${levelsArray(s.asks)}\n`;
  }
  return Buffer.from(text, 'utf8');
}

/** [[p, s], …] as the flat array literal {p0,s0,p1,s1,…}. */
function levelsArray(levels: readonly [number, number][]): string {
  let text = '{';
  for (let i = 0; i < levels.length; i++) text += `${i === 0 ? '' : ','}${levels[i][0]},${levels[i][1]}`;
  return `${text}}`;
}
