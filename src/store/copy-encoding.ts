import { formatUnitPair } from '../util/decimal';
import { BookSnapshotRecord, CandleRecord, OrderEventRecord, TradeRecord, UsageRecord } from './store';

/**
 * COPY payloads. Trades and order events, the high-volume tables, go in PostgreSQL's binary COPY
 * format: the backend then copies fixed-width integers instead of parsing decimal text and
 * timestamps, which is most of its cost per row. Candles and snapshots are a few rows per second and go as
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

/**
 * Distinct strings whose UTF-8 an encoder keeps, emptied when full (a bound, not an eviction
 * policy), and the longest kept: a longer one (a client's own user agent, say) is encoded in
 * place, so the kept bytes stay under ~3 MB whatever clients send.
 */
const KEPT_TEXTS = 4096;
const KEPT_TEXT_UNITS = 256;

/**
 * Binary COPY into one reusable buffer (grown, never shrunk). The returned view is valid until
 * the next encode: callers hand it to the driver and await the COPY first.
 *
 * Text fields repeat (a batch's symbols, a usage batch's callers, routes and user agents, shared
 * string objects whose hashes V8 keeps): each string's UTF-8 is kept and copied, a builtin's
 * memmove, where encoding it again was a native call per field.
 */
abstract class BinaryCopyEncoder<R> {
  private buffer: Buffer = Buffer.allocUnsafe(1 << 20);
  private readonly texts = new Map<string, Buffer>();

  /** `tupleBytes`: one tuple without its text fields' bytes (field count, lengths, fixed-width values). */
  constructor(private readonly tupleBytes: number) {}

  encode(rows: readonly R[]): Buffer {
    let textBytes = 0;
    for (let i = 0; i < rows.length; i++) textBytes += this.textUnits(rows[i]) * 3;
    this.reserve(HEADER_BYTES + TRAILER_BYTES + rows.length * this.tupleBytes + textBytes);
    const b = this.buffer;
    let at = b.write(SIGNATURE, 0, 'latin1');
    b.writeInt32BE(0, at);
    b.writeInt32BE(0, at + 4);
    at += 8;
    for (let i = 0; i < rows.length; i++) at = this.tuple(b, at, rows[i]);
    b.writeInt16BE(-1, at);
    return b.subarray(0, at + 2);
  }

  /** A length-prefixed UTF-8 text field (the caller reserved 3 bytes per UTF-16 unit). */
  protected text(b: Buffer, at: number, value: string): number {
    if (value.length > KEPT_TEXT_UNITS) {
      const length = b.write(value, at + 4, 'utf8');
      b.writeInt32BE(length, at);
      return at + 4 + length;
    }
    let bytes = this.texts.get(value);
    if (bytes === undefined) {
      if (this.texts.size >= KEPT_TEXTS) this.texts.clear();
      this.texts.set(value, (bytes = Buffer.from(value, 'utf8')));
    }
    b.writeInt32BE(bytes.length, at);
    b.set(bytes, at + 4);
    return at + 4 + bytes.length;
  }

  /** A text field or, for null, the length -1 that stands for NULL. */
  protected nullableText(b: Buffer, at: number, value: string | null): number {
    if (value !== null) return this.text(b, at, value);
    b.writeInt32BE(-1, at);
    return at + 4;
  }

  /** The UTF-16 units of a row's text fields (at most 3 bytes each in UTF-8). */
  protected abstract textUnits(row: R): number;

  /** Writes one tuple at `at`; returns where the next one starts. */
  protected abstract tuple(b: Buffer, at: number, row: R): number;

  private reserve(bytes: number): void {
    if (bytes > this.buffer.length) this.buffer = Buffer.allocUnsafe(Math.max(bytes, this.buffer.length * 2));
  }
}

/** Trade columns in COPY order; the encoder below writes exactly these types. */
export const TRADE_COLUMNS = 'symbol, sequence, trade_id, price, size, side, maker_order_id, time';
const TRADE_FIELDS = 8;

export class TradeCopyEncoder extends BinaryCopyEncoder<TradeRecord> {
  constructor() {
    // count, 8 lengths, six int8, one int2
    super(2 + TRADE_FIELDS * 4 + 6 * 8 + 2);
  }

  protected textUnits(r: TradeRecord): number {
    return r.symbol.length;
  }

  protected tuple(b: Buffer, at: number, r: TradeRecord): number {
    b.writeInt16BE(TRADE_FIELDS, at);
    at = this.text(b, at + 2, r.symbol);
    at = int8(b, at, r.sequence);
    at = int8(b, at, r.tradeId);
    at = int8(b, at, r.price);
    at = int8(b, at, r.size);
    at = int2(b, at, r.side);
    at = int8(b, at, r.makerOrderId);
    return int8(b, at, r.time - PG_EPOCH_MICROS);
  }
}

/** order_events columns in COPY order (their order in the table, schema.ts). */
export const ORDER_EVENT_COLUMNS = 'time, journal_sequence, order_id, price, size, new_order_id, kind, side, symbol';
const ORDER_EVENT_FIELDS = 9;

export class OrderEventCopyEncoder extends BinaryCopyEncoder<OrderEventRecord> {
  constructor() {
    // count, 9 lengths, six int8, two int2
    super(2 + ORDER_EVENT_FIELDS * 4 + 6 * 8 + 2 * 2);
  }

  protected textUnits(r: OrderEventRecord): number {
    return r.symbol.length;
  }

  protected tuple(b: Buffer, at: number, r: OrderEventRecord): number {
    b.writeInt16BE(ORDER_EVENT_FIELDS, at);
    at = int8(b, at + 2, r.time - PG_EPOCH_MICROS);
    at = int8(b, at, r.sequence);
    at = int8(b, at, r.orderId);
    at = int8(b, at, r.price);
    at = int8(b, at, r.size);
    at = int8(b, at, r.newOrderId);
    at = int2(b, at, r.kind);
    at = int2(b, at, r.side);
    return this.text(b, at, r.symbol);
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

function float4(b: Buffer, at: number, value: number): number {
  b.writeInt32BE(4, at);
  b.writeFloatBE(value, at + 4);
  return at + 8;
}

function int2(b: Buffer, at: number, value: number): number {
  b.writeInt32BE(2, at);
  b.writeInt16BE(value, at + 4);
  return at + 6;
}

const TEXT_SPECIALS = /[\\\t\n\r]/;

/** A value for COPY text format: backslash, tab and line breaks escaped. */
function copyText(value: string): string {
  return TEXT_SPECIALS.test(value) ? value.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r') : value;
}

/** Candle staging columns; ord keeps the batch order so the last row for a key wins. */
export const CANDLE_STAGE_COLUMNS = 'ord, symbol, "interval", start_us, open, high, low, close, volume, notional, count';

/**
 * An exact sum (util/exact-sum.ts) as COPY text. Past 2^53 a double's own text is its shortest
 * round-trip digits, not its value, and from 1e21 exponent form, so the digits come from BigInt.
 * A batch a spool kept from before the rests existed has none (undefined): its sums were plain.
 */
function sumText(hi: number, rest: number | undefined): string {
  return !rest && Math.abs(hi) <= Number.MAX_SAFE_INTEGER ? String(hi) : formatUnitPair(hi, rest ?? 0, 0);
}

export function encodeCandles(rows: readonly CandleRecord[]): Buffer {
  let text = '';
  for (let i = 0; i < rows.length; i++) {
    const c = rows[i];
    const volume = sumText(c.volume, c.volumeRest);
    const notional = sumText(c.notional, c.notionalRest);
    text += `${i}\t${copyText(c.symbol)}\t${copyText(c.interval)}\t${c.start}\t${c.open}\t${c.high}\t${c.low}\t${c.close}\t${volume}\t${notional}\t${c.count}\n`;
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

/** api_usage columns in COPY order (their order in the table, usage-schema.ts). */
export const USAGE_COLUMNS = 'time, response_time_ms, request_bytes, response_bytes, status_code, subject, client_id, key_id, endpoint, method, user_agent, ip_address';
const USAGE_FIELDS = 12;

/**
 * Usage rows straight into api_usage, one per REST answer: binary, so the backend neither parses
 * a timestamp nor any number (a text COPY through a staging table cost about twice as much per
 * row in PGlite).
 */
export class UsageCopyEncoder extends BinaryCopyEncoder<UsageRecord> {
  constructor() {
    // count, 12 lengths, three int8, one float4, one int2
    super(2 + USAGE_FIELDS * 4 + 3 * 8 + 4 + 2);
  }

  protected textUnits(r: UsageRecord): number {
    return r.subject.length + (r.clientId?.length ?? 0) + (r.keyId?.length ?? 0) + r.endpoint.length + r.method.length + r.userAgent.length + r.ip.length;
  }

  protected tuple(b: Buffer, at: number, r: UsageRecord): number {
    b.writeInt16BE(USAGE_FIELDS, at);
    at = int8(b, at + 2, r.time - PG_EPOCH_MICROS);
    at = float4(b, at, r.responseTimeMs);
    at = int8(b, at, r.requestBytes);
    at = int8(b, at, r.responseBytes);
    at = int2(b, at, r.status);
    at = this.text(b, at, r.subject);
    at = this.nullableText(b, at, r.clientId);
    at = this.nullableText(b, at, r.keyId);
    at = this.text(b, at, r.endpoint);
    at = this.text(b, at, r.method);
    at = this.text(b, at, r.userAgent);
    return this.text(b, at, r.ip);
  }
}
