import * as flatbuffers from 'flatbuffers';
import { BookcastError, ErrorCode } from '../errors';
import { ASK, BID, SIDE_NAMES } from '../model/book-types';
import {
  EVENT_KIND_NAMES,
  EVENT_WORDS,
  W_KIND,
  W_NEW_ORDER_ID,
  W_ORDER_ID,
  W_PRICE,
  W_SIDE,
  W_SIZE,
  W_SYMBOL,
  W_TIMESTAMP,
} from '../model/events';
import type { Instrument } from '../model/instruments';
import { parseUnits } from '../util/decimal';
import { IngestBatch } from './generated/bookcast/wire/ingest-batch';
import { IngestEvent } from './generated/bookcast/wire/ingest-event';
import { INGEST_FILE_IDENTIFIER, verifyIngestBatch } from './frame-verifier';

/**
 * The batches publishers send to /ingest, in both encodings (IngestBatch in fbs/bookcast.fbs,
 * and its JSON twin described in the README), turned into input-event words (events.ts) ready
 * to be copied into a ring. A batch is checked whole before anything of it is used: one bad
 * event refuses the batch, so a refused batch changes nothing.
 *
 * The checks here are the ones a publisher can be told about at once: shape, kinds, sides,
 * whole non-negative units, known symbols. What only the book knows (an unknown order id, a
 * price off the tick) is decided by the owning worker and counted in /health, as for every source.
 */

/**
 * The event times a batch may carry. Every figure that depends on time (the rolling 24-hour
 * window, candles, `orderbook?at=`) follows the largest event time its symbol has seen and never
 * moves back, so one event stamped in 2099 would pin the symbol's window there for good, and one
 * stamped before 2000 is a unit mistake (ms or ns for µs). An event time must be at or after
 * 2000-01-01T00:00:00Z and at most MAX_AHEAD_US past the server's clock when the batch arrives
 * (room for clock skew between the publisher's host and this one). Late events are not refused:
 * the statistics book them at the symbol's clock, and a recorded flow replayed beside events
 * stamped on arrival (timestamp 0) is late by design. A resent duplicate always passes again,
 * since the clock only moves on.
 */
export const EARLIEST_EVENT_US = Date.UTC(2000, 0, 1) * 1000;
export const MAX_AHEAD_US = 60_000_000;

const KIND_BY_NAME = new Map<string, number>(EVENT_KIND_NAMES.map((name, kind) => [name, kind]).filter(([name]) => name !== '') as [string, number][]);
const SIDE_BY_NAME = new Map<string, number>(SIDE_NAMES.map((name, side) => [name, side]));

/** A refused batch: the code says why, `eventIndex` which event (-1: the batch itself). */
export class IngestBatchError extends BookcastError {
  constructor(code: ErrorCode, message: string, readonly eventIndex = -1) {
    super(code, eventIndex < 0 ? message : `event ${eventIndex}: ${message}`);
    this.name = 'IngestBatchError';
  }
}

/** Finds an instrument by name; the gateway's SymbolLookup in the server. */
export interface InstrumentFinder {
  find(name: string): Instrument | undefined;
}

/** Which fields each kind needs (beyond kind and symbol). */
const NEEDS_SIDE = 1;
const NEEDS_ORDER = 2;
const NEEDS_NEW_ORDER = 4;
const NEEDS_PRICE = 8;
const NEEDS_SIZE = 16;
const NEEDS: readonly number[] = [
  0,
  NEEDS_SIDE | NEEDS_ORDER | NEEDS_PRICE | NEEDS_SIZE, // add
  NEEDS_ORDER | NEEDS_SIZE, // modify: the new size
  NEEDS_ORDER | NEEDS_NEW_ORDER | NEEDS_PRICE | NEEDS_SIZE, // replace
  NEEDS_ORDER | NEEDS_SIZE, // cancel: the size removed
  NEEDS_ORDER, // delete
  NEEDS_ORDER | NEEDS_SIZE, // execute: the size filled
  NEEDS_SIDE | NEEDS_PRICE | NEEDS_SIZE, // trade: side is the aggressor's
  0, // clear
];

function positive(value: number): boolean {
  return Number.isSafeInteger(value) && value > 0;
}

export class IngestBatchDecoder {
  /** The publisher's sequence of the batch's first event. */
  firstSequence = 0;
  /** Events decoded into `words`. */
  count = 0;
  /** count × EVENT_WORDS words, laid out as events.ts's ring records. */
  readonly words: Float64Array;
  private readonly event = new IngestEvent();

  constructor(
    private readonly instruments: InstrumentFinder,
    readonly maxEvents: number,
  ) {
    this.words = new Float64Array(maxEvents * EVENT_WORDS);
  }

  /** Decodes a binary IngestBatch frame; throws IngestBatchError (BAD_FRAME, BAD_BATCH, UNKNOWN_SYMBOL, TIMESTAMP_OUT_OF_RANGE). */
  decodeBinary(bytes: Uint8Array, nowUs: number): void {
    try {
      verifyIngestBatch(bytes);
    } catch (err) {
      throw new IngestBatchError('BAD_FRAME', (err as Error).message);
    }
    const batch = IngestBatch.getRootAsIngestBatch(new flatbuffers.ByteBuffer(bytes));
    const count = batch.eventsLength();
    this.begin(batch.firstSequence(), count);
    const symbols: number[] = [];
    for (let i = 0; i < batch.symbolsLength(); i++) symbols.push(this.instrument(batch.symbols(i), -1).index);
    const e = this.event;
    for (let i = 0; i < count; i++) {
      batch.events(i, e);
      const symbol = e.symbol();
      if (symbol >= symbols.length) throw new IngestBatchError('BAD_BATCH', `symbol ${symbol} is not an index into the batch's ${symbols.length} symbols`, i);
      this.store(i, e.kind(), symbols[symbol], e.side(), e.orderId(), e.newOrderId(), e.price(), e.size(), e.timestamp(), nowUs);
    }
    this.count = count;
  }

  /**
   * Decodes a JSON batch: {"first_sequence": n, "events": [{"kind": "add", "symbol": "BTC/USD",
   * "side": "buy", "order_id": 1, "price": "67000.5", "size": "0.25", "timestamp": µs}, …]}.
   * Prices and sizes are decimal strings in the symbol's precision; ids and timestamps integers.
   */
  decodeJson(text: string, nowUs: number): void {
    let batch: unknown;
    try {
      batch = JSON.parse(text);
    } catch {
      throw new IngestBatchError('INVALID_JSON', 'a JSON batch must be valid JSON');
    }
    if (typeof batch !== 'object' || batch === null || Array.isArray(batch)) throw new IngestBatchError('BAD_BATCH', 'a batch is an object');
    const { first_sequence: first, events, ...rest } = batch as Record<string, unknown>;
    const unknown = Object.keys(rest);
    if (unknown.length > 0) throw new IngestBatchError('BAD_BATCH', `unknown field "${unknown[0]}"`);
    if (!Array.isArray(events)) throw new IngestBatchError('BAD_BATCH', 'events must be an array');
    this.begin(typeof first === 'number' ? first : NaN, events.length);
    for (let i = 0; i < events.length; i++) this.jsonEvent(i, events[i], nowUs);
    this.count = events.length;
  }

  private begin(firstSequence: number, count: number): void {
    this.count = 0;
    if (!positive(firstSequence)) throw new IngestBatchError('BAD_BATCH', 'first_sequence must be a positive integer');
    if (count === 0) throw new IngestBatchError('BAD_BATCH', 'a batch carries at least one event');
    if (count > this.maxEvents) throw new IngestBatchError('BAD_BATCH', `a batch carries at most ${this.maxEvents} events, got ${count}`);
    if (!Number.isSafeInteger(firstSequence + count)) throw new IngestBatchError('BAD_BATCH', 'sequences must stay below 2^53');
    this.firstSequence = firstSequence;
  }

  private instrument(name: unknown, eventIndex: number): Instrument {
    const instrument = typeof name === 'string' ? this.instruments.find(name) : undefined;
    if (instrument === undefined) throw new IngestBatchError('UNKNOWN_SYMBOL', `unknown symbol ${JSON.stringify(name)}`, eventIndex);
    return instrument;
  }

  private jsonEvent(i: number, value: unknown, nowUs: number): void {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new IngestBatchError('BAD_BATCH', 'an event is an object', i);
    const { kind: kindName, symbol: symbolName, side: sideName, order_id, new_order_id, price, size, timestamp, ...rest } = value as Record<string, unknown>;
    const unknown = Object.keys(rest);
    if (unknown.length > 0) throw new IngestBatchError('BAD_BATCH', `unknown field "${unknown[0]}"`, i);
    const kind = typeof kindName === 'string' ? KIND_BY_NAME.get(kindName) : undefined;
    if (kind === undefined) throw new IngestBatchError('BAD_BATCH', `kind must be one of ${EVENT_KIND_NAMES.slice(1).join(', ')}`, i);
    const instrument = this.instrument(symbolName, i);
    const needs = NEEDS[kind];
    const side = (needs & NEEDS_SIDE) === 0 ? BID : typeof sideName === 'string' ? SIDE_BY_NAME.get(sideName) ?? -1 : -1;
    if (side < 0) throw new IngestBatchError('BAD_BATCH', 'side must be "buy" or "sell"', i);
    const units = (text: unknown, decimals: number, needed: number, field: string): number => {
      if ((needs & needed) === 0) return 0;
      const n = typeof text === 'string' ? parseUnits(text, decimals) : NaN;
      if (!(n > 0)) throw new IngestBatchError('BAD_BATCH', `${field} must be a positive decimal string with at most ${decimals} decimals`, i);
      return n;
    };
    const id = (raw: unknown, needed: number, field: string): number => {
      if ((needs & needed) === 0) return 0;
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : NaN;
      if (!positive(n)) throw new IngestBatchError('BAD_BATCH', `${field} must be a positive integer`, i);
      return n;
    };
    const at = timestamp === undefined ? 0 : typeof timestamp === 'number' ? timestamp : NaN;
    this.store(
      i,
      kind,
      instrument.index,
      side,
      id(order_id, NEEDS_ORDER, 'order_id'),
      id(new_order_id, NEEDS_NEW_ORDER, 'new_order_id'),
      units(price, instrument.priceDecimals, NEEDS_PRICE, 'price'),
      units(size, instrument.sizeDecimals, NEEDS_SIZE, 'size'),
      at,
      nowUs,
    );
  }

  /** Checks one event's fields for its kind and writes its words; fields a kind does not use are stored as 0. */
  private store(i: number, kind: number, symbol: number, side: number, orderId: number, newOrderId: number, price: number, size: number, timestamp: number, nowUs: number): void {
    const needs = kind >= 1 && kind < NEEDS.length ? NEEDS[kind] : -1;
    if (needs < 0) throw new IngestBatchError('BAD_BATCH', `kind ${kind} is not an event kind (1..8)`, i);
    if ((needs & NEEDS_SIDE) !== 0 && side !== BID && side !== ASK) throw new IngestBatchError('BAD_BATCH', `side ${side} is neither buy (0) nor sell (1)`, i);
    if ((needs & NEEDS_ORDER) !== 0 && !positive(orderId)) throw new IngestBatchError('BAD_BATCH', 'order_id must be a positive integer', i);
    if ((needs & NEEDS_NEW_ORDER) !== 0 && !positive(newOrderId)) throw new IngestBatchError('BAD_BATCH', 'new_order_id must be a positive integer', i);
    if ((needs & NEEDS_PRICE) !== 0 && !positive(price)) throw new IngestBatchError('BAD_BATCH', 'price must be a positive integer number of units', i);
    if ((needs & NEEDS_SIZE) !== 0 && !positive(size)) throw new IngestBatchError('BAD_BATCH', 'size must be a positive integer number of units', i);
    if (!Number.isSafeInteger(timestamp) || timestamp < 0) throw new IngestBatchError('BAD_BATCH', 'timestamp must be whole microseconds since the epoch, or 0', i);
    if (timestamp !== 0 && timestamp < EARLIEST_EVENT_US) {
      throw new IngestBatchError('TIMESTAMP_OUT_OF_RANGE', `timestamp ${timestamp} is before 2000-01-01 (${EARLIEST_EVENT_US} µs); timestamps are µs since the epoch`, i);
    }
    if (timestamp > nowUs + MAX_AHEAD_US) {
      throw new IngestBatchError('TIMESTAMP_OUT_OF_RANGE', `timestamp ${timestamp} µs is ${Math.round((timestamp - nowUs) / 1e6)} s ahead of the server's clock; at most ${MAX_AHEAD_US / 1e6} s are allowed`, i);
    }
    const w = this.words;
    const o = i * EVENT_WORDS;
    w[o + W_KIND] = kind;
    w[o + W_SYMBOL] = symbol;
    w[o + W_SIDE] = (needs & NEEDS_SIDE) !== 0 ? side : BID;
    w[o + W_ORDER_ID] = (needs & NEEDS_ORDER) !== 0 ? orderId : 0;
    w[o + W_PRICE] = (needs & NEEDS_PRICE) !== 0 ? price : 0;
    w[o + W_SIZE] = (needs & NEEDS_SIZE) !== 0 ? size : 0;
    w[o + W_NEW_ORDER_ID] = (needs & NEEDS_NEW_ORDER) !== 0 ? newOrderId : 0;
    w[o + W_TIMESTAMP] = timestamp === 0 ? nowUs : timestamp;
  }
}

/** One event as a publisher builds it: units as in the binary format, symbol an index into the batch's symbols. */
export interface IngestEventFields {
  kind: number;
  symbol: number;
  side: number;
  orderId: number;
  newOrderId: number;
  price: number;
  size: number;
  timestamp: number;
}

/** Builds a binary IngestBatch frame (for publishers: the example publisher, tests, benchmarks). */
export function buildIngestBatch(builder: flatbuffers.Builder, firstSequence: number, symbols: readonly string[], events: readonly IngestEventFields[]): Uint8Array {
  builder.clear();
  const names = symbols.map((s) => builder.createString(s));
  const symbolVector = IngestBatch.createSymbolsVector(builder, names);
  IngestBatch.startEventsVector(builder, events.length);
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i];
    IngestEvent.createIngestEvent(builder, e.orderId, e.newOrderId, e.price, e.size, e.timestamp, e.symbol, e.kind, e.side);
  }
  const eventVector = builder.endVector();
  const root = IngestBatch.createIngestBatch(builder, firstSequence, symbolVector, eventVector);
  builder.finish(root, INGEST_FILE_IDENTIFIER);
  return builder.asUint8Array();
}
