import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import type { Instrument } from '../model/instruments';
import { BookcastError } from '../errors';
import { nowMicros } from '../util/clock';
import { formatTimestampMicros, parseTimestamp } from '../wire/timestamp';
import { Answer, intParameter, readQuery, route, routeAsync, sendError, sendJson, timeInRange, timeParameter } from './http';
import { utf8Buffer } from './uws-text';
import { INTERVALS, intervalIndex } from '../model/intervals';
import type { Persistence } from '../store/persistence';
import { HISTORY_FIELDS, HistoryField, HistoryRequest } from '../store/history-render';
import { LatestRenders } from './latest-renders';
import { historicSnapshot, MarketSnapshot, MarketSnapshots, parseFields, SnapshotField } from './market-snapshot';
import type { BookSnapshotRecord, CandleRecord } from '../store/store';
import type { SymbolLookup } from './symbol-lookup';
import type { Caller } from '../auth/caller';
import type { ClientSlots } from './client-slots';
import { historicalKey } from '../cache/history-cache';
import type { HistoryReads } from '../cache/history-reads';

/** Largest bulk request body and symbol count. */
export const MAX_BULK_BYTES = 64 * 1024;
export const MAX_BULK_SYMBOLS = 200;
/** History pages: default and largest row counts; default range is the last day. */
const DEFAULT_HISTORY_ROWS = 500;
const MAX_HISTORY_ROWS = 10_000;
const DAY_US = 86_400_000_000;
const MINUTE_US = 60_000_000;
/** An `as_of` this close to now is "now"; earlier is answered from storage. */
const AS_OF_TOLERANCE_US = 1_000_000;

function parseAsOf(value: unknown): number | null {
  if (value === undefined || value === null) return null;
  // Strings: to the µs when ISO-8601 as bookcast writes it; other forms Date.parse reads, to the ms.
  const us = typeof value === 'number' ? value * 1000 : typeof value === 'string' ? isoOr(parseTimestamp(value), Date.parse(value) * 1000) : NaN;
  return timeInRange(us, 'as_of');
}

function isoOr(us: number, fallback: number): number {
  return Number.isNaN(us) ? fallback : us;
}

/**
 * The Market Data API surface (`/api/v1/market-data/...`): latest snapshots with field selection
 * and currency conversion, the symbol list, and bulk snapshots. Everything reads the owners'
 * shared-memory mirrors; a rendered `latest` answer is kept and served again (cache_hit) while
 * the symbol's sequence and the second are unchanged.
 */
export class MarketDataRoutes {
  private readonly renders = new LatestRenders();

  constructor(
    private readonly symbols: SymbolLookup,
    private readonly snapshots: MarketSnapshots,
    private readonly exchange: string,
    private readonly source: string,
    private readonly persistence: Persistence,
    /** History pages and bulk requests hold one of the caller's heavy-request slots while they run. */
    private readonly heavy: ClientSlots,
    /** Final history pages are kept in the shared cache (cache/history-reads.ts). */
    private readonly historyReads: HistoryReads,
  ) {}

  register(app: TemplatedApp): void {
    route(app, 'get', '/api/v1/market-data/symbols', (res, req) => this.symbolList(res, req));
    route(app, 'get', '/api/v1/market-data/:symbol/latest', (res, req) => this.latest(res, req));
    route(app, 'post', '/api/v1/market-data/bulk', (res, _req, caller) => this.bulk(res, caller));
    routeAsync(app, '/api/v1/market-data/:symbol/history', (req, caller) => this.history(req, caller));
  }

  private symbolList(res: HttpResponse, req: HttpRequest): void {
    readQuery(req, []);
    let lastUpdate = 0;
    const symbols = this.symbols.instruments.map((i) => {
      const ts = this.snapshots.timestampOf(i);
      if (ts > lastUpdate) lastUpdate = ts;
      return { symbol: i.symbol, base: i.base, quote: i.quote, exchange: this.exchange, status: i.status, tick_size: i.tickSize, lot_size: i.lotSize };
    });
    sendJson(res, 200, JSON.stringify({ symbols, count: symbols.length, last_update: lastUpdate > 0 ? formatTimestampMicros(lastUpdate) : null }));
  }

  private latest(res: HttpResponse, req: HttpRequest): void {
    const text = req.getParameter(0) ?? '';
    const instrument = this.symbols.find(text);
    if (instrument === undefined) throw new BookcastError('UNKNOWN_SYMBOL', `unknown symbol "${text}"`);
    const query = readQuery(req, ['fields', 'currency']);
    const fields = parseFields(query.get('fields'));
    const currency = this.currency(query.get('currency'));
    const now = nowMicros();
    const second = Math.floor(now / 1e6);
    // Converted answers depend on other markets too, so only same-currency ones are cached.
    const cached = currency === undefined ? this.renders.get(instrument.index, fields) : undefined;
    if (cached !== undefined && cached.second === second && cached.sequence === this.snapshots.sequenceOf(instrument)) {
      // Every later hit on the same render is a copy of the same bytes.
      const hit = (cached.hit ??= utf8Buffer(cached.body + 'true}'));
      sendJson(res, 200, hit);
      return;
    }
    const { sequence, body } = this.render(instrument, fields, currency, now);
    if (currency === undefined) this.renders.set(instrument.index, fields, { sequence, second, body, hit: null });
    sendJson(res, 200, body + 'false}');
  }

  /** The answer but for the closing `cache_hit` value and brace, and the sequence it reflects. */
  private render(instrument: Instrument, fields: readonly SnapshotField[], currency: string | undefined, now: number): { sequence: number; body: string } {
    const s = this.snapshots.snapshot(instrument, fields, currency, now);
    const head = JSON.stringify({
      symbol: s.symbol,
      exchange: this.exchange,
      currency: s.currency,
      data: s.data,
      timestamp: s.timestamp,
      sequence: s.sequence,
      source: this.source,
      data_type: 'SNAPSHOT',
    });
    return { sequence: s.sequence, body: head.slice(0, -1) + ',"cache_hit":' };
  }

  /** Stored closed candles of one interval, a page at a time, as JSON or CSV. */
  private async history(req: HttpRequest, caller: Caller): Promise<Answer> {
    const text = req.getParameter(0) ?? '';
    const instrument = this.symbols.find(text);
    if (instrument === undefined) throw new BookcastError('UNKNOWN_SYMBOL', `unknown symbol "${text}"`);
    const query = readQuery(req, ['start_time', 'end_time', 'interval', 'limit', 'offset', 'fields', 'format']);
    const interval = query.get('interval') ?? '1m';
    if (intervalIndex(interval) < 0) throw new BookcastError('INVALID_INTERVAL', `interval must be one of ${INTERVALS.map((i) => i.name).join(', ')}`);
    const to = timeParameter(query, 'end_time', nowMicros());
    const from = timeParameter(query, 'start_time', to - DAY_US);
    if (from >= to) throw new BookcastError('INVALID_PARAMETER', '"start_time" must be before "end_time"');
    const format = query.get('format') ?? 'json';
    if (format !== 'json' && format !== 'csv') throw new BookcastError('INVALID_PARAMETER', '"format" is json or csv');
    const fields = (query.get('fields') ?? HISTORY_FIELDS.join(',')).split(',');
    for (const f of fields) {
      if (!(HISTORY_FIELDS as readonly string[]).includes(f)) {
        throw new BookcastError('INVALID_PARAMETER', `unknown field "${f}"; fields are ${HISTORY_FIELDS.join(', ')}`);
      }
    }
    const request: HistoryRequest = {
      symbol: instrument.symbol,
      interval,
      from,
      to,
      limit: intParameter(query, 'limit', 1, MAX_HISTORY_ROWS, DEFAULT_HISTORY_ROWS),
      offset: intParameter(query, 'offset', 0, 100_000_000, 0),
      fields: fields as HistoryField[],
      format,
      priceDecimals: instrument.priceDecimals,
      sizeDecimals: instrument.sizeDecimals,
      metadata: { exchange: this.exchange, source: this.source, store: this.persistence.store, currency: instrument.quote },
    };
    const contentType = format === 'csv' ? 'text/csv' : 'application/json';
    const key = historicalKey(instrument.symbol, interval, from, to, fields.join(','), format, request.limit, request.offset);
    // A kept page costs no store read, so it holds no heavy-request slot.
    const kept = await this.historyReads.cached(key);
    if (kept !== undefined) return { status: 200, body: kept, contentType };
    const body = await this.heavy.hold(caller.subject, caller.limits.heavyConcurrent, () =>
      this.historyReads.read(key, instrument.index, interval, to, () => this.persistence.query<string>({ kind: 'history', request })),
    );
    return { status: 200, body, contentType };
  }

  /**
   * A snapshot as it was at `asOf`, from storage: the book from the latest stored book snapshot
   * at or before it, price and 24 h figures from the stored one-minute candles of the day before
   * it (so at one-minute resolution).
   */
  private async historicSnapshot(instrument: Instrument, fields: readonly SnapshotField[], asOf: number): Promise<MarketSnapshot> {
    const symbol = instrument.index;
    const book = await this.persistence.query<BookSnapshotRecord | null>({ kind: 'book', symbol, at: asOf });
    // Minutes that had ended by asOf.
    const candles = await this.persistence.query<CandleRecord[]>({ kind: 'candles', symbol, interval: '1m', from: asOf - DAY_US, to: asOf - MINUTE_US + 1, limit: 1441, offset: 0 });
    if (book === null && candles.length === 0) {
      throw new BookcastError('HISTORY_UNAVAILABLE', `no stored history for ${instrument.symbol} at or before ${formatTimestampMicros(asOf)}`);
    }
    return historicSnapshot(instrument, fields, asOf, book, candles);
  }

  private currency(text: string | undefined): string | undefined {
    if (text === undefined) return undefined;
    const code = text.toUpperCase();
    if (!/^[A-Z0-9]{2,10}$/.test(code)) throw new BookcastError('INVALID_PARAMETER', '"currency" must be a currency code such as USD');
    return code;
  }

  private bulk(res: HttpResponse, caller: Caller): void {
    let aborted = false;
    let answered = false;
    const chunks: Uint8Array[] = [];
    let size = 0;
    res.onAborted(() => {
      aborted = true;
    });
    res.onData((chunk, isLast) => {
      if (aborted || answered) return;
      size += chunk.byteLength;
      if (size > MAX_BULK_BYTES) {
        answered = true;
        sendError(res, 'MESSAGE_TOO_LARGE', `bulk requests are limited to ${MAX_BULK_BYTES} bytes`);
        return;
      }
      // uWS reuses the chunk's memory after this callback returns: copy it.
      chunks.push(new Uint8Array(chunk).slice());
      if (!isLast) return;
      answered = true;
      const text = Buffer.concat(chunks).toString('utf8');
      this.heavy.hold(caller.subject, caller.limits.heavyConcurrent, () => this.bulkAnswer(text)).then(
        (body) => {
          if (!aborted) sendJson(res, 200, body);
        },
        (err) => {
          if (aborted) return;
          if (err instanceof BookcastError) sendError(res, err.code, err.message);
          else sendError(res, 'INTERNAL');
        },
      );
    });
  }

  private async bulkAnswer(text: string): Promise<string> {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new BookcastError('INVALID_JSON', 'the request body is not JSON');
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new BookcastError('INVALID_MESSAGE', 'the body is a JSON object {symbols, fields?, currency?, as_of?}');
    }
    const b = body as Record<string, unknown>;
    for (const key of Object.keys(b)) {
      if (!['symbols', 'fields', 'currency', 'as_of'].includes(key)) throw new BookcastError('INVALID_MESSAGE', `unknown field "${key}"`);
    }
    if (!Array.isArray(b.symbols) || b.symbols.length === 0 || !b.symbols.every((s) => typeof s === 'string')) {
      throw new BookcastError('INVALID_MESSAGE', '"symbols" must be a non-empty array of strings');
    }
    if (b.symbols.length > MAX_BULK_SYMBOLS) {
      throw new BookcastError('TOO_MANY_SYMBOLS', `a bulk request may name at most ${MAX_BULK_SYMBOLS} symbols`);
    }
    if (b.fields !== undefined && (!Array.isArray(b.fields) || !b.fields.every((f) => typeof f === 'string'))) {
      throw new BookcastError('INVALID_MESSAGE', '"fields" must be an array of field names');
    }
    if (b.currency !== undefined && typeof b.currency !== 'string') throw new BookcastError('INVALID_MESSAGE', '"currency" must be a string');
    const fields = parseFields(b.fields === undefined ? undefined : (b.fields as string[]).join(','));
    const currency = this.currency(b.currency as string | undefined);
    const now = nowMicros();
    const asOf = parseAsOf(b.as_of);
    const past = asOf !== null && asOf < now - AS_OF_TOLERANCE_US;
    if (past && currency !== undefined) {
      throw new BookcastError('INVALID_PARAMETER', '"currency" conversion is not available for past times (as_of)');
    }
    // Keyed by what the client sent: no prototype, so "__proto__" is a key like any other.
    const data: Record<string, unknown> = Object.create(null);
    const errors: Record<string, { code: string; message: string }> = Object.create(null);
    for (const name of b.symbols as string[]) {
      const instrument = this.symbols.find(name);
      try {
        if (instrument === undefined) throw new BookcastError('UNKNOWN_SYMBOL', `unknown symbol "${name}"`);
        const s = past ? await this.historicSnapshot(instrument, fields, asOf!) : this.snapshots.snapshot(instrument, fields, currency, now);
        data[instrument.symbol] = { ...s, exchange: this.exchange, source: this.source };
      } catch (err) {
        // One symbol's failure (unknown, no conversion, no history) does not fail the batch.
        if (err instanceof BookcastError) errors[name] = { code: err.code, message: err.message };
        else throw err;
      }
    }
    return JSON.stringify({ data, errors, timestamp: formatTimestampMicros(now), count: Object.keys(data).length });
  }
}
