import { Body } from './generated/bookcast/wire/body';
import { FILE_IDENTIFIER } from './frame-verifier';

/**
 * The hot messages (l2Update, l3Update, trade, ticker, candle) written straight into a caller's byte
 * array, byte for byte what MessageEncoder's flatbuffers.Builder makes of the same arguments,
 * with arithmetic and no allocation.
 *
 * The Builder writes back to front and aligns every item relative to the END of the buffer, so
 * this code walks the same steps in the same order with `o`, the number of bytes written so
 * far counted from the end, and puts each item at `end - o`. Which steps happen depends only on
 * the symbol's length, the vector counts and which scalars are non-zero (the Builder leaves out
 * fields equal to their default, 0, which changes the vtables and the padding), so the exact
 * length is known before a byte is written: the caller claims that much ring space, then writes,
 * handing the writer that length back rather than have it walk the layout a second time.
 * Every padding byte is written as 0, as the Builder's pad() does, since the target (a ring)
 * holds old data: one 8-byte zero store just below the current position covers any padding (1
 * to 7 bytes), and what it covers beyond the padding is written over by the items that follow,
 * which sit lower (the writes go back to front, like the Builder's). Most pads are empty (a
 * double after a double, say), and those skip the store: under callgrind a DataView store is
 * about a dozen instructions, the branch two.
 *
 * The finished length is a multiple of the largest alignment used (8 whenever a double is
 * present), so "8-aligned from the end" is "8-aligned from the start": the message is valid at
 * any offset, and its doubles are naturally aligned when it starts 8-aligned in its buffer.
 *
 * l2Update, lowest address first ([..] present only when non-zero, pads are zeros):
 *
 *   root uoffset u32 | "BKCT" | pad to 8 | envelope vtable u16 x7
 *   envelope: soffset | pad 3 | body_type u8 | body uoffset | symbol uoffset | pad to 4 | [timestamp f64] [sequence f64] | pad to 8
 *   L2Update vtable u16 x7
 *   L2Update: soffset | [depth u16, pad 2] | [checksum u32] | asks uoffset | bids uoffset | [prev_sequence f64 | pad to 8]
 *   asks: count u32 | {price f64, size f64} x count | pad to 8
 *   bids: count u32 | {price f64, size f64} x count | pad to 8
 *   symbol: length u32 | bytes | NUL | pad to 4
 *
 * The others differ only in the body table (and l3Update's 32-byte OrderChange elements). Candle's,
 * for one, is soffset | pad to 4 | [final u8] [interval u8] | [count] [notional] … [start] (f64s,
 * each with its pad to 8), the doubles first as MessageEncoder adds them, largest first.
 *
 * The Builder also shares a vtable with an identical earlier one. That never happens here: the
 * body's vtable is the first, and the envelope's (always 5 slots, body_type at table offset 7,
 * body at 8, symbol at 12) can equal none of the bodies': L3Update has 3 slots; a 5-slot Ticker
 * holds only doubles, which never sit at an odd offset, nor does a 5-slot Candle's slot 3 (high);
 * L2Update's slot 0 is depth at offset 6 or absent; a Trade with side (slot 3) at 7 has its
 * doubles at multiples of 8, never at 12.
 *
 * Writes go through one DataView per target buffer, cached (see bind). Inputs are trusted as in
 * MessageEncoder (counts within the arrays, target large enough): this is the hot path.
 *
 * Shaped for TurboFan, as measured with the bench and --print-opt-code: every DataView store is
 * inlined (see entry() for what prevents it), padding costs at most one store, and the
 * small helpers inline into each writer; writeEnvelope stays a call (too big to inline).
 */

const L2_UPDATE = Body.L2Update;
const L3_UPDATE = Body.L3Update;
const TRADE = Body.Trade;
const TICKER = Body.Ticker;
const CANDLE = Body.Candle;

/** A ticker's numbers in one array, as TickerTemplate and tickerLayout take them: the envelope's two, then the body's in field order. */
export const TICKER_SEQUENCE = 0;
export const TICKER_TIMESTAMP = 1;
export const TICKER_BID = 2;
export const TICKER_BID_SIZE = 3;
export const TICKER_ASK = 4;
export const TICKER_ASK_SIZE = 5;
export const TICKER_LAST = 6;
export const TICKER_LAST_SIZE = 7;
export const TICKER_VOLUME = 8;
export const TICKER_HIGH = 9;
export const TICKER_LOW = 10;
export const TICKER_OPEN = 11;
export const TICKER_VOLUME_REST = 12;
export const TICKER_VALUES = 13;

/** The numbers before TICKER_LAST (the envelope's and the best bid and ask) as presence bits. */
const QUOTE_BITS = (1 << TICKER_LAST) - 1;

/**
 * One symbol's last ticker, kept as bytes to make the next one from. A message's layout depends
 * only on its symbol and which of its numbers are non-zero (see above), and from one ticker of a
 * symbol to the next that rarely changes: the best bid and ask move, and once a trade happened the
 * last trade and the 24 h figures stay non-zero. So the next ticker is these bytes with its
 * numbers stored over the old ones where they sit, then copied out, instead of the writer's walk
 * through the layout, 13 doubles' padding, 11 vtable entries and the envelope. Between trades only
 * the sequence, the time and the best bid and ask change, and only those are read and stored
 * (FastEncoder.tickerQuote). FastEncoder lays the bytes out anew whenever the symbol or the set of
 * non-zero numbers differs from the last ticker's.
 *
 * A book worker with tickers on spent ~27% of its instructions on them on a LOBSTER sample whose
 * every event moves the best price (worker-instructions: 11,097 per event, 8,120 without ticker
 * updates); with templates 10,108. wire/encode: 116 ns a ticker written, 47 from the quote alone.
 */
export class TickerTemplate {
  /** Bit k set: number k is non-zero; -1 before the first ticker. */
  presence = -1;
  symbol: Uint8Array | null = null;
  /** The caller's stamp of the numbers from TICKER_LAST on, as of the last ticker (see tickerQuote). */
  stamp = -1;
  /** The last ticker's bytes, exactly its length. */
  bytes = new Uint8Array(0);
  view = new DataView(this.bytes.buffer);
  /** Where number k sits from the message start; -1 when it is left out. */
  readonly offsets = new Int32Array(TICKER_VALUES);
}

/** Stores numbers from..to-1 of `values` into the template's bytes, where they sit. */
function storeTickerNumbers(template: TickerTemplate, values: Float64Array, from: number, to: number): void {
  const view = template.view;
  const offsets = template.offsets;
  for (let k = from; k < to; k++) {
    const offset = offsets[k];
    if (offset >= 0) view.setFloat64(offset, values[k], true);
  }
}

/** The file identifier as the little-endian u32 its four bytes make. */
const IDENTIFIER =
  (FILE_IDENTIFIER.charCodeAt(0) |
    (FILE_IDENTIFIER.charCodeAt(1) << 8) |
    (FILE_IDENTIFIER.charCodeAt(2) << 16) |
    (FILE_IDENTIFIER.charCodeAt(3) << 24)) >>> 0;

const LEVEL_SIZE = 16;
/** order_id, price, size (f64), event (u8), 7 bytes of struct padding. */
const ORDER_CHANGE_SIZE = 32;
/** 5-slot vtables (Envelope, L2Update): length and object size, then one u16 per slot. */
const VTABLE_5 = 14;
/** L3Update's 3 slots. */
const VTABLE_3 = 10;

// Layout: where things end, counted back from the message end. The length functions are made of
// these, and the writers repeat the same steps while storing.

/** A length-prefixed string: u32 length, the bytes, a NUL, zeros to a multiple of 4. */
function stringEnd(byteLength: number): number {
  return 4 + ((byteLength + 4) & ~3);
}

/** One double field after `o`: padding to 8, then the 8 bytes. */
function doubleEnd(o: number): number {
  return o + ((-o) & 7) + 8;
}

/** A vector of 8-aligned structs after `o`: padding to 8, the elements, the u32 count. */
function vectorEnd(o: number, elementSize: number, count: number): number {
  return o + ((-o) & 7) + elementSize * count + 4;
}

/**
 * The envelope table and its vtable after the body ends at `o`, then finish(): padding to
 * `align` (the largest alignment used: 8 once a double was written anywhere, else 4), the file
 * identifier and the root offset. The result is the message length.
 */
function envelopeEnd(o: number, sequence: number, timestamp: number, align: number): number {
  if (sequence !== 0) o = doubleEnd(o);
  if (timestamp !== 0) o = doubleEnd(o);
  // symbol and body uoffsets, body_type u8, 3 bytes to re-align, the soffset, then the vtable
  o += ((-o) & 3) + 16 + VTABLE_5;
  const mask = sequence !== 0 || timestamp !== 0 ? 7 : align - 1;
  return o + ((-(o + 8)) & mask) + 8;
}

/** Highest slot present + 1: the Builder trims absent slots off the end of a vtable. */
function slotsOf(a: number, b: number, c: number, d: number, e: number, f: number): number {
  return f !== 0 ? 6 : e !== 0 ? 5 : d !== 0 ? 4 : c !== 0 ? 3 : b !== 0 ? 2 : a !== 0 ? 1 : 0;
}

/** slotsOf for the tables of up to 12 fields (Ticker's 11, Candle's 12). */
function slotsOf12(a: number, b: number, c: number, d: number, e: number, f: number, g: number, h: number, i: number, j: number, k: number, l: number): number {
  return l !== 0 ? 12 : k !== 0 ? 11 : j !== 0 ? 10 : i !== 0 ? 9 : h !== 0 ? 8 : g !== 0 ? 7 : slotsOf(a, b, c, d, e, f);
}

function l2UpdateEnd(
  symbolLength: number,
  sequence: number,
  timestamp: number,
  depth: number,
  prevSequence: number,
  checksum: number,
  bidCount: number,
  askCount: number,
): number {
  let o = vectorEnd(vectorEnd(stringEnd(symbolLength), LEVEL_SIZE, bidCount), LEVEL_SIZE, askCount);
  if (prevSequence !== 0) o = doubleEnd(o);
  o += 8; // bids and asks uoffsets
  if (checksum !== 0) o += 4;
  if (depth !== 0) o += 4; // u16 and 2 bytes to re-align the soffset
  return envelopeEnd(o + 4 + VTABLE_5, sequence, timestamp, 8);
}

function l3UpdateEnd(symbolLength: number, sequence: number, timestamp: number, prevSequence: number, bidCount: number, askCount: number): number {
  let o = vectorEnd(vectorEnd(stringEnd(symbolLength), ORDER_CHANGE_SIZE, bidCount), ORDER_CHANGE_SIZE, askCount);
  if (prevSequence !== 0) o = doubleEnd(o);
  return envelopeEnd(o + 8 + 4 + VTABLE_3, sequence, timestamp, 8);
}

function tradeEnd(
  symbolLength: number,
  sequence: number,
  timestamp: number,
  tradeId: number,
  price: number,
  size: number,
  side: number,
  makerOrderId: number,
): number {
  let o = stringEnd(symbolLength);
  if (tradeId !== 0) o = doubleEnd(o);
  if (price !== 0) o = doubleEnd(o);
  if (size !== 0) o = doubleEnd(o);
  if (makerOrderId !== 0) o = doubleEnd(o);
  const doubles = o !== stringEnd(symbolLength);
  if (side !== 0) o += 1;
  o += ((-o) & 3) + 4 + 4 + 2 * slotsOf(tradeId, price, size, side, makerOrderId, 0);
  return envelopeEnd(o, sequence, timestamp, doubles ? 8 : 4);
}

/**
 * A ticker's length, from its numbers in TICKER_* order; `slots[k]` gets where number k ends,
 * counted back from the message end as the writers count (0: left out, being 0).
 */
function tickerLayout(symbolLength: number, values: Float64Array, slots: Int32Array): number {
  let o = stringEnd(symbolLength);
  // The Builder trims absent slots off the end of the vtable: it has as many as the last present field.
  let fields = 0;
  for (let k = TICKER_BID; k < TICKER_VALUES; k++) {
    if (values[k] === 0) {
      slots[k] = 0;
      continue;
    }
    slots[k] = o = doubleEnd(o);
    fields = k - TICKER_BID + 1;
  }
  // o is a multiple of 4 after a string or a double: no padding before the soffset
  o += 4 + 4 + 2 * fields;
  // The envelope's doubles come first after the body, as envelopeEnd places them.
  const sequence = values[TICKER_SEQUENCE];
  const timestamp = values[TICKER_TIMESTAMP];
  let e = o;
  slots[TICKER_SEQUENCE] = sequence === 0 ? 0 : (e = doubleEnd(e));
  slots[TICKER_TIMESTAMP] = timestamp === 0 ? 0 : doubleEnd(e);
  return envelopeEnd(o, sequence, timestamp, fields === 0 ? 4 : 8);
}

function candleEnd(
  symbolLength: number,
  sequence: number,
  timestamp: number,
  interval: number,
  start: number,
  open: number,
  high: number,
  low: number,
  close: number,
  volume: number,
  notional: number,
  count: number,
  final: boolean,
  volumeRest: number,
  notionalRest: number,
): number {
  let o = stringEnd(symbolLength);
  if (start !== 0) o = doubleEnd(o);
  if (open !== 0) o = doubleEnd(o);
  if (high !== 0) o = doubleEnd(o);
  if (low !== 0) o = doubleEnd(o);
  if (close !== 0) o = doubleEnd(o);
  if (volume !== 0) o = doubleEnd(o);
  if (notional !== 0) o = doubleEnd(o);
  if (count !== 0) o = doubleEnd(o);
  if (volumeRest !== 0) o = doubleEnd(o);
  if (notionalRest !== 0) o = doubleEnd(o);
  const doubles = o !== stringEnd(symbolLength);
  if (interval !== 0) o += 1;
  if (final) o += 1;
  o += ((-o) & 3) + 4 + 4 + 2 * slotsOf12(interval, start, open, high, low, close, volume, notional, count, final ? 1 : 0, volumeRest, notionalRest);
  return envelopeEnd(o, sequence, timestamp, doubles ? 8 : 4);
}

/**
 * A vtable entry: the field's offset from the table's start, or 0 when the field is absent
 * (`slot` is the field's end counted from the message end, 0 if it was left out).
 *
 * Entries are computed into locals before the stores that use them, never inside a store's
 * arguments: a branch there, between loading `v.setUint16` and calling it, makes TurboFan lose
 * the view's map and call the DataView builtin instead of inlining the store.
 */
function entry(table: number, slot: number): number {
  return slot === 0 ? 0 : table - slot;
}

export class FastEncoder {
  // Last target seen, and a view over its whole buffer with the target's offset in it. Callers
  // pass the same ring bytes over and over, so the identity check is all that runs per call.
  private target: Uint8Array | null = null;
  private view: DataView = new DataView(new ArrayBuffer(8));
  private base = 0;
  /** One view per buffer, so alternating between rings (or views of one ring) allocates nothing. */
  private readonly views = new WeakMap<ArrayBufferLike, DataView>();
  /** tickerLength's numbers and tickerLayout's slots: scratch, so neither allocates. */
  private readonly tickerValues = new Float64Array(TICKER_VALUES);
  private readonly tickerSlots = new Int32Array(TICKER_VALUES);

  /** Exact byte length of writeL2Update's message: its arguments without target, at and the arrays. */
  l2UpdateLength(
    symbol: Uint8Array,
    sequence: number,
    timestamp: number,
    depth: number,
    prevSequence: number,
    checksum: number,
    bidCount: number,
    askCount: number,
  ): number {
    return l2UpdateEnd(symbol.length, sequence, timestamp, depth, prevSequence, checksum, bidCount, askCount);
  }

  /** Same arguments as MessageEncoder.l2Update after target, at and `length`, what l2UpdateLength returned for them. */
  writeL2Update(
    target: Uint8Array,
    at: number,
    length: number,
    symbol: Uint8Array,
    sequence: number,
    timestamp: number,
    depth: number,
    prevSequence: number,
    checksum: number,
    bidPrices: Float64Array,
    bidSizes: Float64Array,
    bidCount: number,
    askPrices: Float64Array,
    askSizes: Float64Array,
    askCount: number,
  ): void {
    const v = target === this.target ? this.view : this.bind(target);
    const end = this.base + at + length;
    const symbolAt = writeString(v, end, symbol);
    const bidsAt = writeLevels(v, end, symbolAt, bidPrices, bidSizes, bidCount);
    const asksAt = writeLevels(v, end, bidsAt, askPrices, askSizes, askCount);

    let o = asksAt;
    const prevSlot = prevSequence === 0 ? 0 : (o = writeDouble(v, end, o, prevSequence));
    o += 4;
    v.setInt32(end - o, o - bidsAt, true);
    const bidsSlot = o;
    o += 4;
    v.setInt32(end - o, o - asksAt, true);
    const asksSlot = o;
    let checksumSlot = 0;
    if (checksum !== 0) {
      o += 4;
      v.setUint32(end - o, checksum, true);
      checksumSlot = o;
    }
    let depthSlot = 0;
    if (depth !== 0) {
      o += 2;
      v.setUint16(end - o, depth, true);
      depthSlot = o;
      o += 2;
      v.setUint16(end - o, 0, true);
    }
    const table = o + 4;
    v.setInt32(end - table, VTABLE_5, true);
    o = table + VTABLE_5;
    const vt = end - o;
    const depthEntry = entry(table, depthSlot);
    const prevEntry = entry(table, prevSlot);
    const checksumEntry = entry(table, checksumSlot);
    // u16 entries two at a time: [length, object size] [depth, prev_sequence] [checksum, bids] [asks]
    v.setUint32(vt, VTABLE_5 | ((table - asksAt) << 16), true);
    v.setUint32(vt + 4, depthEntry | (prevEntry << 16), true);
    v.setUint32(vt + 8, checksumEntry | ((table - bidsSlot) << 16), true);
    v.setUint16(vt + 12, table - asksSlot, true);
    writeEnvelope(v, end, o, symbolAt, table, L2_UPDATE, sequence, timestamp, 8);
  }

  /** Exact byte length of writeL3Update's message: its arguments without target, at and the arrays. */
  l3UpdateLength(
    symbol: Uint8Array,
    sequence: number,
    timestamp: number,
    prevSequence: number,
    bidCount: number,
    askCount: number,
  ): number {
    return l3UpdateEnd(symbol.length, sequence, timestamp, prevSequence, bidCount, askCount);
  }

  /** Same arguments as MessageEncoder.l3Update after target, at and `length`, what l3UpdateLength returned for them. */
  writeL3Update(
    target: Uint8Array,
    at: number,
    length: number,
    symbol: Uint8Array,
    sequence: number,
    timestamp: number,
    prevSequence: number,
    bidIds: Float64Array,
    bidPrices: Float64Array,
    bidSizes: Float64Array,
    bidEvents: Uint8Array,
    bidCount: number,
    askIds: Float64Array,
    askPrices: Float64Array,
    askSizes: Float64Array,
    askEvents: Uint8Array,
    askCount: number,
  ): void {
    const v = target === this.target ? this.view : this.bind(target);
    const end = this.base + at + length;
    const symbolAt = writeString(v, end, symbol);
    const bidsAt = writeOrderChanges(v, end, symbolAt, bidIds, bidPrices, bidSizes, bidEvents, bidCount);
    const asksAt = writeOrderChanges(v, end, bidsAt, askIds, askPrices, askSizes, askEvents, askCount);

    let o = asksAt;
    const prevSlot = prevSequence === 0 ? 0 : (o = writeDouble(v, end, o, prevSequence));
    o += 4;
    v.setInt32(end - o, o - bidsAt, true);
    const bidsSlot = o;
    o += 4;
    v.setInt32(end - o, o - asksAt, true);
    const asksSlot = o;
    const table = o + 4;
    v.setInt32(end - table, VTABLE_3, true);
    o = table + VTABLE_3;
    const vt = end - o;
    const prevEntry = entry(table, prevSlot);
    // u16 entries two at a time: [length, object size] [prev_sequence, bids] [asks]
    v.setUint32(vt, VTABLE_3 | ((table - asksAt) << 16), true);
    v.setUint32(vt + 4, prevEntry | ((table - bidsSlot) << 16), true);
    v.setUint16(vt + 8, table - asksSlot, true);
    writeEnvelope(v, end, o, symbolAt, table, L3_UPDATE, sequence, timestamp, 8);
  }

  /** Exact byte length of writeTrade's message: its arguments without target and at. */
  tradeLength(
    symbol: Uint8Array,
    sequence: number,
    timestamp: number,
    tradeId: number,
    price: number,
    size: number,
    side: number,
    makerOrderId: number,
  ): number {
    return tradeEnd(symbol.length, sequence, timestamp, tradeId, price, size, side, makerOrderId);
  }

  /** Same arguments as MessageEncoder.trade after target, at and `length`, what tradeLength returned for them. */
  writeTrade(
    target: Uint8Array,
    at: number,
    length: number,
    symbol: Uint8Array,
    sequence: number,
    timestamp: number,
    tradeId: number,
    price: number,
    size: number,
    side: number,
    makerOrderId: number,
  ): void {
    const v = target === this.target ? this.view : this.bind(target);
    const end = this.base + at + length;
    const symbolAt = writeString(v, end, symbol);
    let o = symbolAt;
    const tradeIdSlot = tradeId === 0 ? 0 : (o = writeDouble(v, end, o, tradeId));
    const priceSlot = price === 0 ? 0 : (o = writeDouble(v, end, o, price));
    const sizeSlot = size === 0 ? 0 : (o = writeDouble(v, end, o, size));
    const makerSlot = makerOrderId === 0 ? 0 : (o = writeDouble(v, end, o, makerOrderId));
    const doubles = o !== symbolAt;
    let sideSlot = 0;
    if (side !== 0) {
      o += 1;
      v.setUint8(end - o, side);
      sideSlot = o;
    }
    const table = pad(v, end, o, (-o) & 3) + 4;
    const slots = slotsOf(tradeId, price, size, side, makerOrderId, 0);
    const vtableSize = 4 + 2 * slots;
    v.setInt32(end - table, vtableSize, true);
    o = table + vtableSize;
    const vt = end - o;
    const tradeIdEntry = entry(table, tradeIdSlot);
    const priceEntry = entry(table, priceSlot);
    const sizeEntry = entry(table, sizeSlot);
    const sideEntry = entry(table, sideSlot);
    v.setUint16(vt, vtableSize, true);
    v.setUint16(vt + 2, table - symbolAt, true);
    if (slots > 0) v.setUint16(vt + 4, tradeIdEntry, true);
    if (slots > 1) v.setUint16(vt + 6, priceEntry, true);
    if (slots > 2) v.setUint16(vt + 8, sizeEntry, true);
    if (slots > 3) v.setUint16(vt + 10, sideEntry, true);
    if (slots > 4) v.setUint16(vt + 12, table - makerSlot, true);
    writeEnvelope(v, end, o, symbolAt, table, TRADE, sequence, timestamp, doubles ? 8 : 4);
  }

  /** Exact byte length of writeTicker's message: its arguments without target and at. */
  tickerLength(
    symbol: Uint8Array,
    sequence: number,
    timestamp: number,
    bid: number,
    bidSize: number,
    ask: number,
    askSize: number,
    last: number,
    lastSize: number,
    volume24h: number,
    high24h: number,
    low24h: number,
    open24h: number,
    volume24hRest: number,
  ): number {
    const v = this.tickerValues;
    v[TICKER_SEQUENCE] = sequence;
    v[TICKER_TIMESTAMP] = timestamp;
    v[TICKER_BID] = bid;
    v[TICKER_BID_SIZE] = bidSize;
    v[TICKER_ASK] = ask;
    v[TICKER_ASK_SIZE] = askSize;
    v[TICKER_LAST] = last;
    v[TICKER_LAST_SIZE] = lastSize;
    v[TICKER_VOLUME] = volume24h;
    v[TICKER_HIGH] = high24h;
    v[TICKER_LOW] = low24h;
    v[TICKER_OPEN] = open24h;
    v[TICKER_VOLUME_REST] = volume24hRest;
    return tickerLayout(symbol.length, v, this.tickerSlots);
  }

  /**
   * Makes `template` the ticker of `values` for `symbol` from the numbers before TICKER_LAST
   * alone, and returns its length: possible when the caller's `stamp` of the others (the last
   * trade and the 24 h figures) is the template's and the non-zero numbers are the same as
   * before. Otherwise returns -1 and reads nothing else: the caller fills in every number and
   * calls tickerFull.
   */
  tickerQuote(template: TickerTemplate, symbol: Uint8Array, values: Float64Array, stamp: number): number {
    if (stamp !== template.stamp || symbol !== template.symbol) return -1;
    let presence = template.presence & ~QUOTE_BITS;
    for (let k = 0; k < TICKER_LAST; k++) if (values[k] !== 0) presence |= 1 << k;
    if (presence !== template.presence) return -1;
    storeTickerNumbers(template, values, 0, TICKER_LAST);
    return template.bytes.length;
  }

  /** Makes `template` the ticker of all of `values` for `symbol`, `stamp` marking its later numbers; returns its length. */
  tickerFull(template: TickerTemplate, symbol: Uint8Array, values: Float64Array, stamp: number): number {
    let presence = 0;
    for (let k = 0; k < TICKER_VALUES; k++) if (values[k] !== 0) presence |= 1 << k;
    if (presence !== template.presence || symbol !== template.symbol) this.layOut(template, symbol, values, presence);
    else storeTickerNumbers(template, values, 0, TICKER_VALUES);
    template.stamp = stamp;
    return template.bytes.length;
  }

  /** Cold: the template's bytes and offsets for this symbol and set of non-zero numbers. */
  private layOut(template: TickerTemplate, symbol: Uint8Array, values: Float64Array, presence: number): void {
    const slots = this.tickerSlots;
    const length = tickerLayout(symbol.length, values, slots);
    const bytes = new Uint8Array(length);
    this.writeTicker(
      bytes, 0, length, symbol, values[TICKER_SEQUENCE], values[TICKER_TIMESTAMP], values[TICKER_BID], values[TICKER_BID_SIZE],
      values[TICKER_ASK], values[TICKER_ASK_SIZE], values[TICKER_LAST], values[TICKER_LAST_SIZE], values[TICKER_VOLUME],
      values[TICKER_HIGH], values[TICKER_LOW], values[TICKER_OPEN], values[TICKER_VOLUME_REST],
    );
    for (let k = 0; k < TICKER_VALUES; k++) template.offsets[k] = slots[k] === 0 ? -1 : length - slots[k];
    template.bytes = bytes;
    template.view = new DataView(bytes.buffer);
    template.symbol = symbol;
    template.presence = presence;
  }

  /** Same arguments as MessageEncoder.ticker after target, at and `length`, what tickerLength returned for them. */
  writeTicker(
    target: Uint8Array,
    at: number,
    length: number,
    symbol: Uint8Array,
    sequence: number,
    timestamp: number,
    bid: number,
    bidSize: number,
    ask: number,
    askSize: number,
    last: number,
    lastSize: number,
    volume24h: number,
    high24h: number,
    low24h: number,
    open24h: number,
    volume24hRest: number,
  ): void {
    const v = target === this.target ? this.view : this.bind(target);
    const end = this.base + at + length;
    const symbolAt = writeString(v, end, symbol);
    let o = symbolAt;
    const bidSlot = bid === 0 ? 0 : (o = writeDouble(v, end, o, bid));
    const bidSizeSlot = bidSize === 0 ? 0 : (o = writeDouble(v, end, o, bidSize));
    const askSlot = ask === 0 ? 0 : (o = writeDouble(v, end, o, ask));
    const askSizeSlot = askSize === 0 ? 0 : (o = writeDouble(v, end, o, askSize));
    const lastSlot = last === 0 ? 0 : (o = writeDouble(v, end, o, last));
    const lastSizeSlot = lastSize === 0 ? 0 : (o = writeDouble(v, end, o, lastSize));
    const volumeSlot = volume24h === 0 ? 0 : (o = writeDouble(v, end, o, volume24h));
    const highSlot = high24h === 0 ? 0 : (o = writeDouble(v, end, o, high24h));
    const lowSlot = low24h === 0 ? 0 : (o = writeDouble(v, end, o, low24h));
    const openSlot = open24h === 0 ? 0 : (o = writeDouble(v, end, o, open24h));
    const volumeRestSlot = volume24hRest === 0 ? 0 : (o = writeDouble(v, end, o, volume24hRest));
    const table = o + 4;
    const slots = slotsOf12(bid, bidSize, ask, askSize, last, lastSize, volume24h, high24h, low24h, open24h, volume24hRest, 0);
    const vtableSize = 4 + 2 * slots;
    v.setInt32(end - table, vtableSize, true);
    o = table + vtableSize;
    const vt = end - o;
    const bidEntry = entry(table, bidSlot);
    const bidSizeEntry = entry(table, bidSizeSlot);
    const askEntry = entry(table, askSlot);
    const askSizeEntry = entry(table, askSizeSlot);
    const lastEntry = entry(table, lastSlot);
    const lastSizeEntry = entry(table, lastSizeSlot);
    const volumeEntry = entry(table, volumeSlot);
    const highEntry = entry(table, highSlot);
    const lowEntry = entry(table, lowSlot);
    const openEntry = entry(table, openSlot);
    v.setUint16(vt, vtableSize, true);
    v.setUint16(vt + 2, table - symbolAt, true);
    if (slots > 0) v.setUint16(vt + 4, bidEntry, true);
    if (slots > 1) v.setUint16(vt + 6, bidSizeEntry, true);
    if (slots > 2) v.setUint16(vt + 8, askEntry, true);
    if (slots > 3) v.setUint16(vt + 10, askSizeEntry, true);
    if (slots > 4) v.setUint16(vt + 12, lastEntry, true);
    if (slots > 5) v.setUint16(vt + 14, lastSizeEntry, true);
    if (slots > 6) v.setUint16(vt + 16, volumeEntry, true);
    if (slots > 7) v.setUint16(vt + 18, highEntry, true);
    if (slots > 8) v.setUint16(vt + 20, lowEntry, true);
    if (slots > 9) v.setUint16(vt + 22, openEntry, true);
    if (slots > 10) v.setUint16(vt + 24, table - volumeRestSlot, true);
    writeEnvelope(v, end, o, symbolAt, table, TICKER, sequence, timestamp, slots === 0 ? 4 : 8);
  }

  /** Exact byte length of writeCandle's message: its arguments without target and at. */
  candleLength(
    symbol: Uint8Array,
    sequence: number,
    timestamp: number,
    interval: number,
    start: number,
    open: number,
    high: number,
    low: number,
    close: number,
    volume: number,
    notional: number,
    count: number,
    final: boolean,
    volumeRest: number,
    notionalRest: number,
  ): number {
    return candleEnd(symbol.length, sequence, timestamp, interval, start, open, high, low, close, volume, notional, count, final, volumeRest, notionalRest);
  }

  /** Same arguments as MessageEncoder.candle after target, at and `length`, what candleLength returned for them. */
  writeCandle(
    target: Uint8Array,
    at: number,
    length: number,
    symbol: Uint8Array,
    sequence: number,
    timestamp: number,
    interval: number,
    start: number,
    open: number,
    high: number,
    low: number,
    close: number,
    volume: number,
    notional: number,
    count: number,
    final: boolean,
    volumeRest: number,
    notionalRest: number,
  ): void {
    const v = target === this.target ? this.view : this.bind(target);
    const end = this.base + at + length;
    const symbolAt = writeString(v, end, symbol);
    let o = symbolAt;
    const startSlot = start === 0 ? 0 : (o = writeDouble(v, end, o, start));
    const openSlot = open === 0 ? 0 : (o = writeDouble(v, end, o, open));
    const highSlot = high === 0 ? 0 : (o = writeDouble(v, end, o, high));
    const lowSlot = low === 0 ? 0 : (o = writeDouble(v, end, o, low));
    const closeSlot = close === 0 ? 0 : (o = writeDouble(v, end, o, close));
    const volumeSlot = volume === 0 ? 0 : (o = writeDouble(v, end, o, volume));
    const notionalSlot = notional === 0 ? 0 : (o = writeDouble(v, end, o, notional));
    const countSlot = count === 0 ? 0 : (o = writeDouble(v, end, o, count));
    const volumeRestSlot = volumeRest === 0 ? 0 : (o = writeDouble(v, end, o, volumeRest));
    const notionalRestSlot = notionalRest === 0 ? 0 : (o = writeDouble(v, end, o, notionalRest));
    const doubles = o !== symbolAt;
    let intervalSlot = 0;
    if (interval !== 0) {
      o += 1;
      v.setUint8(end - o, interval);
      intervalSlot = o;
    }
    let finalSlot = 0;
    if (final) {
      o += 1;
      v.setUint8(end - o, 1);
      finalSlot = o;
    }
    const table = pad(v, end, o, (-o) & 3) + 4;
    const slots = slotsOf12(interval, start, open, high, low, close, volume, notional, count, finalSlot, volumeRest, notionalRest);
    const vtableSize = 4 + 2 * slots;
    v.setInt32(end - table, vtableSize, true);
    o = table + vtableSize;
    const vt = end - o;
    const intervalEntry = entry(table, intervalSlot);
    const startEntry = entry(table, startSlot);
    const openEntry = entry(table, openSlot);
    const highEntry = entry(table, highSlot);
    const lowEntry = entry(table, lowSlot);
    const closeEntry = entry(table, closeSlot);
    const volumeEntry = entry(table, volumeSlot);
    const notionalEntry = entry(table, notionalSlot);
    const countEntry = entry(table, countSlot);
    const finalEntry = entry(table, finalSlot);
    const volumeRestEntry = entry(table, volumeRestSlot);
    v.setUint16(vt, vtableSize, true);
    v.setUint16(vt + 2, table - symbolAt, true);
    if (slots > 0) v.setUint16(vt + 4, intervalEntry, true);
    if (slots > 1) v.setUint16(vt + 6, startEntry, true);
    if (slots > 2) v.setUint16(vt + 8, openEntry, true);
    if (slots > 3) v.setUint16(vt + 10, highEntry, true);
    if (slots > 4) v.setUint16(vt + 12, lowEntry, true);
    if (slots > 5) v.setUint16(vt + 14, closeEntry, true);
    if (slots > 6) v.setUint16(vt + 16, volumeEntry, true);
    if (slots > 7) v.setUint16(vt + 18, notionalEntry, true);
    if (slots > 8) v.setUint16(vt + 20, countEntry, true);
    if (slots > 9) v.setUint16(vt + 22, finalEntry, true);
    if (slots > 10) v.setUint16(vt + 24, volumeRestEntry, true);
    if (slots > 11) v.setUint16(vt + 26, table - notionalRestSlot, true);
    writeEnvelope(v, end, o, symbolAt, table, CANDLE, sequence, timestamp, doubles ? 8 : 4);
  }

  /**
   * Cold: a target other than the last one. Its view spans the whole buffer (this.base is the
   * target's offset in it), so all views of one buffer share a DataView, made once per buffer.
   */
  private bind(target: Uint8Array): DataView {
    const buffer = target.buffer;
    let view = this.views.get(buffer);
    if (view === undefined) {
      view = new DataView(buffer);
      this.views.set(buffer, view);
    }
    this.target = target;
    this.view = view;
    this.base = target.byteOffset;
    return view;
  }
}

// The writers below take `end`, the absolute index in the view just past the message, and `o`,
// the bytes written so far counted back from it; each returns the new `o`.

/** `count` (0 to 7) bytes of padding below `o`, with the one 8-byte zero store described above. */
function pad(v: DataView, end: number, o: number, count: number): number {
  if (count !== 0) v.setFloat64(end - o - 8, 0, true);
  return o + count;
}

/**
 * Returns the string's offset, which is also the bytes written so far: it comes first. The bytes
 * go four to a store, little-endian: a DataView store is checked and converted whatever its
 * width, and one per byte cost the book worker ~250 instructions per event (2.75 messages of a
 * 10-byte symbol). The last word holds what is left of them and then zeros, the NUL and the
 * padding, so a string whose length is a multiple of four ends with a whole zero word.
 */
function writeString(v: DataView, end: number, bytes: Uint8Array): number {
  const n = bytes.length;
  const o = stringEnd(n);
  const at = end - o + 4;
  v.setUint32(at - 4, n, true);
  let i = 0;
  for (; i + 4 <= n; i += 4) v.setInt32(at + i, bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24), true);
  let last = 0;
  for (let k = 0; i + k < n; k++) last |= bytes[i + k] << (8 * k);
  v.setInt32(at + i, last, true);
  return o;
}

function writeDouble(v: DataView, end: number, o: number, value: number): number {
  o = pad(v, end, o, (-o) & 7) + 8;
  v.setFloat64(end - o, value, true);
  return o;
}

/** Elements go best first from the vector's start; returns the vector's offset. */
function writeLevels(v: DataView, end: number, o: number, prices: Float64Array, sizes: Float64Array, count: number): number {
  o = pad(v, end, o, (-o) & 7) + LEVEL_SIZE * count + 4;
  const data = end - o + 4;
  v.setUint32(data - 4, count, true);
  for (let i = 0; i < count; i++) {
    const p = data + LEVEL_SIZE * i;
    v.setFloat64(p, prices[i], true);
    v.setFloat64(p + 8, sizes[i], true);
  }
  return o;
}

function writeOrderChanges(
  v: DataView,
  end: number,
  o: number,
  ids: Float64Array,
  prices: Float64Array,
  sizes: Float64Array,
  events: Uint8Array,
  count: number,
): number {
  o = pad(v, end, o, (-o) & 7) + ORDER_CHANGE_SIZE * count + 4;
  const data = end - o + 4;
  v.setUint32(data - 4, count, true);
  for (let i = 0; i < count; i++) {
    const p = data + ORDER_CHANGE_SIZE * i;
    v.setFloat64(p, ids[i], true);
    v.setFloat64(p + 8, prices[i], true);
    v.setFloat64(p + 16, sizes[i], true);
    v.setUint32(p + 24, events[i], true); // the event byte, then 3 of the 7 padding zeros
    v.setUint32(p + 28, 0, true);
  }
  return o;
}

/** The envelope after the body's vtable (which ends at `o`), then the identifier and root. */
function writeEnvelope(
  v: DataView,
  end: number,
  o: number,
  symbolAt: number,
  bodyAt: number,
  bodyType: number,
  sequence: number,
  timestamp: number,
  align: number,
): void {
  const start = o;
  const sequenceSlot = sequence === 0 ? 0 : (o = writeDouble(v, end, o, sequence));
  const timestampSlot = timestamp === 0 ? 0 : (o = writeDouble(v, end, o, timestamp));
  const table = pad(v, end, o, (-o) & 3) + 16;
  const sequenceEntry = entry(table, sequenceSlot);
  const timestampEntry = entry(table, timestampSlot);
  // The table, lowest address first: soffset, 3 zeros and body_type (one u32, the type in its top
  // byte), body and symbol uoffsets; its vtable below it: [length, object size] [symbol,
  // sequence] [timestamp, body_type] [body], with symbol, body_type and body at fixed offsets.
  let p = end - table;
  v.setInt32(p, VTABLE_5, true);
  v.setUint32(p + 4, bodyType * 0x1000000, true);
  v.setInt32(p + 8, table - 8 - bodyAt, true);
  v.setInt32(p + 12, table - 12 - symbolAt, true);
  p -= VTABLE_5;
  v.setUint32(p, VTABLE_5 | ((table - start) << 16), true);
  v.setUint32(p + 4, 12 | (sequenceEntry << 16), true);
  v.setUint32(p + 8, timestampEntry | (7 << 16), true);
  v.setUint16(p + 12, 8, true);
  o = table + VTABLE_5;
  const mask = sequenceSlot !== 0 || timestampSlot !== 0 ? 7 : align - 1;
  o = pad(v, end, o, (-(o + 8)) & mask) + 8;
  v.setUint32(end - o + 4, IDENTIFIER, true);
  v.setInt32(end - o, o - table, true);
}
