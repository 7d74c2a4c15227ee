import * as flatbuffers from 'flatbuffers';
import { ORDER_CHANGE_NAMES, SIDE_NAMES } from '../model/book-types';
import { INTERVALS } from '../model/intervals';
import { formatUnitPair, formatUnits } from '../util/decimal';
import { NO_LAST_SIDE, tickerMembers } from './ticker-json';
// Straight from each generated module: the bookcast_generated.ts barrel compiles to getter
// re-exports, a function call on every hot-path access; the modules' exports are plain.
import { Body } from './generated/bookcast/wire/body';
import { Candle } from './generated/bookcast/wire/candle';
import { Envelope } from './generated/bookcast/wire/envelope';
import { Error as ErrorBody } from './generated/bookcast/wire/error';
import { Heartbeat } from './generated/bookcast/wire/heartbeat';
import { L2Snapshot } from './generated/bookcast/wire/l2snapshot';
import { L2Update } from './generated/bookcast/wire/l2update';
import { L3Snapshot } from './generated/bookcast/wire/l3snapshot';
import { L3Update } from './generated/bookcast/wire/l3update';
import { Level } from './generated/bookcast/wire/level';
import { Order } from './generated/bookcast/wire/order';
import { OrderChange } from './generated/bookcast/wire/order-change';
import { Subscribed } from './generated/bookcast/wire/subscribed';
import { SubscriptionState } from './generated/bookcast/wire/subscription-state';
import { Ticker } from './generated/bookcast/wire/ticker';
import { Trade } from './generated/bookcast/wire/trade';
import { BadFrameError } from './frame-verifier';
import { byteBufferOf, dataViewOfLastFrame } from './frame-readers';
import { vwapUnits } from '../util/market-math';
import { formatTimestampMicros } from './timestamp';
import { appendLevel, appendRaw, startText, takeText } from './json-text';

/** How the message's symbol writes its integer prices and sizes as decimals. */
export interface JsonFormat {
  priceDecimals: number;
  sizeDecimals: number;
}

// One accessor per table and struct, re-pointed at each message, so reading allocates nothing
// but the strings that make up the output.
const envelope = new Envelope();
const l2Snapshot = new L2Snapshot();
const l2Update = new L2Update();
const l3Snapshot = new L3Snapshot();
const l3Update = new L3Update();
const trade = new Trade();
const ticker = new Ticker();
const candle = new Candle();
const heartbeat = new Heartbeat();
const subscribed = new Subscribed();
const errorBody = new ErrorBody();
const level = new Level();
const LEVEL_BYTES = Level.sizeOf();
const ORDER_BYTES = Order.sizeOf();
const ORDER_CHANGE_BYTES = OrderChange.sizeOf();
/** Where an OrderChange struct keeps its event, after its three doubles. */
const ORDER_EVENT_AT = 24;
const order = new Order();
const orderChange = new OrderChange();
const subscription = new SubscriptionState();

// As JSON strings, made once: the renderer concatenates them.
const ORDER_EVENTS: readonly string[] = ORDER_CHANGE_NAMES.map((n) => JSON.stringify(n));
const SIDES: readonly string[] = SIDE_NAMES.map((n) => JSON.stringify(n));
/** Candle intervals as JSON strings, by their index in INTERVALS. */
const INTERVAL_NAMES: readonly string[] = INTERVALS.map((i) => JSON.stringify(i.name));

// The symbol, JSON-escaped and quoted, cached by the hash of its UTF-8 bytes, so a message
// costs a hash of a few bytes instead of a UTF-8 decode and an escape. Symbols come from the
// configured instruments; the bound only guards against a runaway caller.
interface SymbolEntry {
  utf8: Uint8Array;
  json: string;
}
const SYMBOL_CACHE_LIMIT = 65536;
const symbolCache = new Map<number, SymbolEntry>();
const utf8Decoder = new TextDecoder();

function symbolJson(bb: flatbuffers.ByteBuffer): string {
  const field = bb.__offset(envelope.bb_pos, 4); // Envelope.symbol's vtable entry
  if (field === 0) return '""';
  const start = bb.__indirect(envelope.bb_pos + field) + 4;
  const end = start + bb.readInt32(start - 4);
  const bytes = bb.bytes();
  // FNV-1a, 32 bits.
  let hash = 0x811c9dc5;
  for (let i = start; i < end; i++) hash = Math.imul(hash ^ bytes[i], 0x01000193);
  const cached = symbolCache.get(hash);
  if (cached !== undefined && sameBytes(cached.utf8, bytes, start, end)) return cached.json;
  const utf8 = bytes.slice(start, end);
  const json = asciiJson(utf8Decoder.decode(utf8));
  if (cached === undefined) {
    if (symbolCache.size >= SYMBOL_CACHE_LIMIT) symbolCache.clear();
    symbolCache.set(hash, { utf8, json });
  }
  return json;
}

/** JSON.stringify's text with every character past printable ASCII escaped (`\u00dc`), so it can go into a json-text. */
function asciiJson(text: string): string {
  return JSON.stringify(text).replace(/[\u007f-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

function sameBytes(a: Uint8Array, b: Uint8Array, start: number, end: number): boolean {
  if (a.length !== end - start) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[start + i]) return false;
  return true;
}

/** The opening every symbol message shares: `{"type":…,"symbol":…,"timestamp":…,"sequence":…`. */
function symbolHeader(type: string, bb: flatbuffers.ByteBuffer): string {
  return (
    '{"type":"' +
    type +
    '","symbol":' +
    symbolJson(bb) +
    ',"timestamp":"' +
    formatTimestampMicros(envelope.timestamp()) +
    '","sequence":' +
    envelope.sequence()
  );
}

/** `,"bids":[…],"asks":[…]}}`, a book message's end. */
function appendLevels(body: L2Snapshot | L2Update, fmt: JsonFormat): void {
  const view = dataViewOfLastFrame();
  appendRaw(',"bids":[');
  const bids = body.bidsLength();
  if (bids > 0) appendLevelRun(view, body.bids(0, level)!.bb_pos, bids, fmt);
  appendRaw('],"asks":[');
  const asks = body.asksLength();
  if (asks > 0) appendLevelRun(view, body.asks(0, level)!.bb_pos, asks, fmt);
  appendRaw(']}}');
}

/** `count` Level structs (price, size: little-endian doubles) from `at` on. */
function appendLevelRun(view: DataView<ArrayBufferLike>, at: number, count: number, fmt: JsonFormat): void {
  for (let i = 0; i < count; i++, at += LEVEL_BYTES) {
    appendLevel(view.getFloat64(at, true), view.getFloat64(at + 8, true), fmt.priceDecimals, fmt.sizeDecimals, i === 0);
  }
}

/**
 * An L3 list, `[{…},…]`: `count` orders from `at` on, `stride` bytes apart, read through the
 * DataView. Order structs hold id, price and size (doubles); OrderChange structs the same, then
 * the event's byte (with `events`). Concatenated: an order is written from several texts, which
 * V8 joins cheaper than JavaScript copies their characters into the json-text.
 */
function ordersJson(at: number, count: number, stride: number, events: boolean, fmt: JsonFormat): string {
  const view = dataViewOfLastFrame();
  let out = '[';
  for (let i = 0; i < count; i++, at += stride) {
    if (i > 0) out += ',';
    out += '{';
    if (events) {
      const event = ORDER_EVENTS[view.getUint8(at + ORDER_EVENT_AT)];
      if (event === undefined) throw new BadFrameError(`bad frame: unknown order event ${view.getUint8(at + ORDER_EVENT_AT)}`);
      out += '"event":' + event + ',';
    }
    out +=
      '"order_id":' +
      view.getFloat64(at, true) +
      ',"price":"' +
      formatUnits(view.getFloat64(at + 8, true), fmt.priceDecimals) +
      '","size":"' +
      formatUnits(view.getFloat64(at + 16, true), fmt.sizeDecimals) +
      '"}';
  }
  return out + ']';
}

function vwapJson(notional: number, notionalRest: number, volume: number, volumeRest: number, decimals: number): string {
  const units = vwapUnits(notional, notionalRest, volume, volumeRest);
  return units === null ? 'null' : '"' + formatUnits(units, decimals) + '"';
}

/** A candle's OHLC and VWAP: null for an empty candle (no trade, every price 0). */
function candleJson(fmt: JsonFormat): string {
  const name = INTERVAL_NAMES[candle.interval()];
  if (name === undefined) throw new BadFrameError(`bad frame: unknown candle interval ${candle.interval()}`);
  const count = candle.count();
  const p = fmt.priceDecimals;
  const prices =
    count === 0
      ? ',"open":null,"high":null,"low":null,"close":null,"volume":"' + formatUnitPair(candle.volume(), candle.volumeRest(), fmt.sizeDecimals) + '","vwap":null'
      : ',"open":"' +
        formatUnits(candle.open(), p) +
        '","high":"' +
        formatUnits(candle.high(), p) +
        '","low":"' +
        formatUnits(candle.low(), p) +
        '","close":"' +
        formatUnits(candle.close(), p) +
        '","volume":"' +
        formatUnitPair(candle.volume(), candle.volumeRest(), fmt.sizeDecimals) +
        '","vwap":' +
        vwapJson(candle.notional(), candle.notionalRest(), candle.volume(), candle.volumeRest(), p);
  return (
    '{"interval":' +
    name +
    ',"start":"' +
    formatTimestampMicros(candle.start()) +
    '"' +
    prices +
    ',"trades":' +
    count +
    ',"final":' +
    candle.final() +
    '}'
  );
}

function stringsJson(count: number, at: (i: number) => string): string {
  let out = '[';
  for (let i = 0; i < count; i++) out += (i > 0 ? ',' : '') + JSON.stringify(at(i));
  return out + ']';
}

/**
 * Renders the Data Feed spec's JSON for one frame, read straight from the FlatBuffers bytes
 * (once per message, on the front thread, and only when JSON subscribers exist). Prices and sizes
 * become exact decimal strings in `fmt`'s scale, ids and sequences JSON numbers. The bytes are
 * trusted: they come from MessageEncoder; untrusted bytes go through decodeMessage.
 */
export function renderJson(bytes: Uint8Array, fmt: JsonFormat): string {
  const bb = byteBufferOf(bytes);
  Envelope.getRootAsEnvelope(bb, envelope);
  switch (envelope.bodyType()) {
    case Body.L2Snapshot:
      envelope.body(l2Snapshot);
      startText();
      appendRaw(symbolHeader('l2_snapshot', bb) + ',"checksum":' + l2Snapshot.checksum() + ',"data":{"depth":' + l2Snapshot.depth());
      appendLevels(l2Snapshot, fmt);
      return takeText();
    case Body.L2Update:
      envelope.body(l2Update);
      startText();
      appendRaw(symbolHeader('l2_update', bb) + ',"prev_sequence":' + l2Update.prevSequence() + ',"checksum":' + l2Update.checksum() + ',"data":{"depth":' + l2Update.depth());
      appendLevels(l2Update, fmt);
      return takeText();
    case Body.L3Snapshot: {
      envelope.body(l3Snapshot);
      const bids = l3Snapshot.bidsLength();
      const asks = l3Snapshot.asksLength();
      return (
        symbolHeader('l3_snapshot', bb) +
        ',"data":{"bids":' +
        ordersJson(bids > 0 ? l3Snapshot.bids(0, order)!.bb_pos : 0, bids, ORDER_BYTES, false, fmt) +
        ',"asks":' +
        ordersJson(asks > 0 ? l3Snapshot.asks(0, order)!.bb_pos : 0, asks, ORDER_BYTES, false, fmt) +
        '}}'
      );
    }
    case Body.L3Update: {
      envelope.body(l3Update);
      const bids = l3Update.bidsLength();
      const asks = l3Update.asksLength();
      return (
        symbolHeader('l3_update', bb) +
        ',"prev_sequence":' +
        l3Update.prevSequence() +
        ',"data":{"bids":' +
        ordersJson(bids > 0 ? l3Update.bids(0, orderChange)!.bb_pos : 0, bids, ORDER_CHANGE_BYTES, true, fmt) +
        ',"asks":' +
        ordersJson(asks > 0 ? l3Update.asks(0, orderChange)!.bb_pos : 0, asks, ORDER_CHANGE_BYTES, true, fmt) +
        '}}'
      );
    }
    case Body.Trade:
      envelope.body(trade);
      return (
        symbolHeader('trade', bb) +
        ',"data":{"trade_id":' +
        trade.tradeId() +
        ',"price":"' +
        formatUnits(trade.price(), fmt.priceDecimals) +
        '","size":"' +
        formatUnits(trade.size(), fmt.sizeDecimals) +
        '","side":' +
        SIDES[trade.side()] +
        ',"maker_order_id":' +
        trade.makerOrderId() +
        '}}'
      );
    case Body.Ticker:
      envelope.body(ticker);
      return (
        symbolHeader('ticker', bb) +
        ',"data":{' +
        tickerMembers(
          ticker.bid(),
          ticker.bidSize(),
          ticker.ask(),
          ticker.askSize(),
          ticker.last(),
          ticker.lastSize(),
          NO_LAST_SIDE,
          ticker.volume24h(),
          ticker.volume24hRest(),
          ticker.high24h(),
          ticker.low24h(),
          ticker.open24h(),
          fmt.priceDecimals,
          fmt.sizeDecimals,
        ) +
        '}}'
      );
    case Body.Candle:
      envelope.body(candle);
      return symbolHeader('candle', bb) + ',"data":' + candleJson(fmt) + '}';
    case Body.Heartbeat: {
      envelope.body(heartbeat);
      let subs = '[';
      for (let i = 0; i < heartbeat.subscriptionsLength(); i++) {
        heartbeat.subscriptions(i, subscription);
        subs +=
          (i > 0 ? ',' : '') +
          '{"channel":' +
          JSON.stringify(subscription.channel() ?? '') +
          ',"symbol":' +
          JSON.stringify(subscription.symbol() ?? '') +
          ',"depth":' +
          subscription.depth() +
          ',"sequence":' +
          subscription.sequence() +
          '}';
      }
      return '{"type":"heartbeat","timestamp":"' + formatTimestampMicros(envelope.timestamp()) + '","data":{"subscriptions":' + subs + ']}}';
    }
    case Body.Subscribed:
      envelope.body(subscribed);
      return (
        '{"type":"subscribed","timestamp":"' +
        formatTimestampMicros(envelope.timestamp()) +
        '","data":{"channels":' +
        stringsJson(subscribed.channelsLength(), (i) => subscribed.channels(i)) +
        ',"symbols":' +
        stringsJson(subscribed.symbolsLength(), (i) => subscribed.symbols(i)) +
        ',"depth":' +
        subscribed.depth() +
        '}}'
      );
    case Body.Error:
      envelope.body(errorBody);
      return (
        '{"type":"error","timestamp":"' +
        formatTimestampMicros(envelope.timestamp()) +
        '","data":{"code":' +
        JSON.stringify(errorBody.code() ?? '') +
        ',"message":' +
        JSON.stringify(errorBody.message() ?? '') +
        '}}'
      );
    default:
      throw new BadFrameError(`bad frame: unknown body type ${envelope.bodyType()}`);
  }
}
