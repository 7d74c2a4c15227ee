import { log } from '../util/log';
import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import {
  BookMirrorReader,
  M_ASK_COUNT,
  M_BID_COUNT,
  M_HIGH_24H,
  M_LOW_24H,
  M_OPEN_24H,
  M_VOLUME_24H,
  M_VOLUME_24H_REST,
  M_HEADER_WORDS,
  M_LAST_PRICE,
  M_LAST_SIZE,
  M_LAST_SIDE,
  M_SEQUENCE,
  M_TIMESTAMP,
} from '../engine/book-mirror';
import { SIDE_NAMES } from '../model/book-types';
import { MIRROR_DEPTH } from '../model/depths';
import type { Instrument } from '../model/instruments';
import { BookcastError } from '../errors';
import { formatUnitPair, formatUnits } from '../util/decimal';
import { vwapUnits } from '../util/market-math';
import { formatTimestampMicros } from '../wire/timestamp';
import { tickerMembers } from '../wire/ticker-json';
import { appendLevel, appendRaw, startText, takeText } from '../wire/json-text';
import { Answer, intParameter, readQuery, route, routeAsync, sendError, sendJson, timeParameter } from './http';
import { utf8Buffer } from './uws-text';
import type { BookAtAnswer, BookAtRequest } from './book-at-task';
import type { Persistence } from '../store/persistence';
import type { CandleRecord, TradeRecord } from '../store/store';
import { CANDLE_HISTORY, CandleRow, RecentCandles } from './recent-candles';
import { INTERVALS, intervalIndex } from '../model/intervals';
import { RecentTrades, TRADE_HISTORY, TradeRow } from '../distribution/recent-trades';
import type { SymbolLookup } from './symbol-lookup';
import type { Caller } from '../auth/caller';
import { requirePermission } from '../auth/admission';
import { historicalKey } from '../cache/history-cache';
import type { HistoryReads } from '../cache/history-reads';

export const DEFAULT_BOOK_DEPTH = 20;
export const DEFAULT_TRADE_LIMIT = 100;
/** Input events per page of /events: default and most. */
export const DEFAULT_EVENT_LIMIT = 1000;
export const MAX_EVENT_LIMIT = 10_000;

function optionalUnits(units: number | null, decimals: number): string | null {
  return units === null ? null : formatUnits(units, decimals);
}

function side(aggressor: number): string {
  return SIDE_NAMES[aggressor];
}

/** An order book answer kept for the next requests of the same depth at the same sequence. */
interface RenderedBook {
  sequence: number;
  body: ArrayBuffer;
}

/**
 * The Data Feed REST surface. Snapshots come from the shared-memory mirror the owners keep
 * (a seqlock read, no round trip); each answer names the sequence it reflects.
 */
export class RestRoutes {
  /**
   * Last rendered order book per symbol and depth ([instrument][depth], made at the symbol's first
   * order book: arrays, not a hash map, on every answer's path), reused while the sequence is
   * unchanged: kept as UTF-8 bytes, so a repeated answer is a copy, not a string uWS measures and
   * encodes again.
   */
  private readonly rendered: (RenderedBook | undefined)[][] = [];

  constructor(
    private readonly symbols: SymbolLookup,
    private readonly mirror: BookMirrorReader,
    private readonly trades: RecentTrades,
    private readonly candles: RecentCandles,
    private readonly persistence: Persistence,
    /** Rebuilds a past book from the journal, admitted per client (heavy-work.ts); null when the source keeps no journal. */
    private readonly bookAt: ((task: BookAtRequest, caller: Caller, signal: AbortSignal) => Promise<BookAtAnswer>) | null,
    /** The health answer for this request (health-access.ts decides how much it shows). */
    private readonly health: (res: HttpResponse, req: HttpRequest, caller: Caller) => object,
    /** The source re-publishes a recording (see isReplay); /symbols says so. */
    private readonly replay: boolean,
    /** Final candle answers are kept in the shared cache (cache/history-reads.ts). */
    private readonly historyReads: HistoryReads,
  ) {}

  register(app: TemplatedApp): void {
    route(app, 'get', '/api/v1/market/symbols', (res, req) => this.symbolList(res, req));
    route(app, 'get', '/api/v1/market/:symbol/ticker', (res, req) => this.ticker(res, req));
    route(app, 'get', '/api/v1/market/:symbol/orderbook', (res, req, caller) => this.orderbook(res, req, caller));
    routeAsync(app, '/api/v1/market/:symbol/trades', (req, caller) => this.recentTrades(req, caller));
    routeAsync(app, '/api/v1/market/:symbol/candles', (req) => this.recentCandles(req));
    routeAsync(app, '/api/v1/market/:symbol/events', (req) => this.orderEvents(req));
    route(app, 'get', '/api/v1/health', (res, req, caller) => {
      readQuery(req, []);
      sendJson(res, 200, JSON.stringify(this.health(res, req, caller)));
    });
  }

  private instrument(req: HttpRequest): Instrument {
    const text = req.getParameter(0) ?? '';
    const ins = this.symbols.find(text);
    if (ins === undefined) throw new BookcastError('UNKNOWN_SYMBOL', `unknown symbol "${text}"`);
    return ins;
  }

  private symbolList(res: HttpResponse, req: HttpRequest): void {
    readQuery(req, []);
    const symbols = this.symbols.instruments.map((i) => ({
      symbol: i.symbol,
      base: i.base,
      quote: i.quote,
      tick_size: i.tickSize,
      lot_size: i.lotSize,
      min_order_size: i.minOrderSize,
      price_decimals: i.priceDecimals,
      size_decimals: i.sizeDecimals,
      status: i.status,
    }));
    sendJson(res, 200, JSON.stringify({ symbols, count: symbols.length, replay: this.replay }));
  }

  private ticker(res: HttpResponse, req: HttpRequest): void {
    const ins = this.instrument(req);
    readQuery(req, []);
    const v = this.mirror.read(ins.index, 1);
    const p = ins.priceDecimals;
    const s = ins.sizeDecimals;
    const hasBid = v[M_BID_COUNT] > 0;
    const hasAsk = v[M_ASK_COUNT] > 0;
    const body =
      `{"symbol":${JSON.stringify(ins.symbol)},"sequence":${v[M_SEQUENCE]},"timestamp":${this.time(v[M_TIMESTAMP])},` +
      tickerMembers(
        hasBid ? v[M_HEADER_WORDS] : 0,
        hasBid ? v[M_HEADER_WORDS + 1] : 0,
        hasAsk ? v[M_HEADER_WORDS + 2] : 0,
        hasAsk ? v[M_HEADER_WORDS + 3] : 0,
        v[M_LAST_PRICE],
        v[M_LAST_SIZE],
        v[M_LAST_SIDE],
        v[M_VOLUME_24H],
        v[M_VOLUME_24H_REST],
        v[M_HIGH_24H],
        v[M_LOW_24H],
        v[M_OPEN_24H],
        p,
        s,
      ) +
      '}';
    sendJson(res, 200, body);
  }

  private orderbook(res: HttpResponse, req: HttpRequest, caller: Caller): void {
    const ins = this.instrument(req);
    const query = readQuery(req, ['depth', 'at']);
    const depth = intParameter(query, 'depth', 1, MIRROR_DEPTH, DEFAULT_BOOK_DEPTH);
    if (query.has('at')) {
      requirePermission(caller, 'book_at');
      this.orderbookAt(res, ins, depth, timeParameter(query, 'at', 0), caller);
      return;
    }
    // The same book at the same depth renders the same body: keep the last one per (symbol, depth),
    // and check it against the book's sequence alone before copying the book.
    const renders = (this.rendered[ins.index] ??= []);
    const cached = renders[depth];
    if (cached !== undefined && cached.sequence === this.mirror.sequence(ins.index)) {
      sendJson(res, 200, cached.body);
      return;
    }
    const v = this.mirror.readBook(ins.index, depth);
    const p = ins.priceDecimals;
    const s = ins.sizeDecimals;
    const bids = Math.min(depth, v[M_BID_COUNT]);
    const asks = Math.min(depth, v[M_ASK_COUNT]);
    // The levels first, as bytes (json-text); the header, which may hold a non-ASCII symbol, as a string.
    startText();
    for (let i = 0, w = M_HEADER_WORDS; i < bids; i++, w += 4) appendLevel(v[w], v[w + 1], p, s, i === 0);
    appendRaw('],"asks":[');
    for (let i = 0, w = M_HEADER_WORDS + 2; i < asks; i++, w += 4) appendLevel(v[w], v[w + 1], p, s, i === 0);
    appendRaw(']}');
    const body =
      `{"symbol":${JSON.stringify(ins.symbol)},"sequence":${v[M_SEQUENCE]},"timestamp":${this.time(v[M_TIMESTAMP])},` +
      `"checksum":${this.mirror.checksum()},"depth":${depth},"bids":[` +
      takeText();
    const bytes = utf8Buffer(body);
    renders[depth] = { sequence: v[M_SEQUENCE], body: bytes };
    sendJson(res, 200, bytes);
  }

  /** The book at a past time, rebuilt from the journal in the piscina pool (see book-at-task). */
  private orderbookAt(res: HttpResponse, ins: Instrument, depth: number, at: number, caller: Caller): void {
    const bookAt = this.bookAt;
    if (bookAt === null) throw new BookcastError('HISTORY_UNAVAILABLE', 'this source keeps no journal to rebuild past books from');
    let aborted = false;
    const abandon = new AbortController();
    res.onAborted(() => {
      aborted = true;
      // A request still waiting for the pool is dropped, not computed for no one.
      abandon.abort();
    });
    bookAt({ symbol: ins.index, tickUnits: ins.tickUnits, lotUnits: ins.lotUnits, at, depth }, caller, abandon.signal).then(
      (b) => {
        if (aborted) return;
        if ('error' in b) {
          sendError(res, b.error.code, b.error.message);
          return;
        }
        const level = ([price, size]: [number, number]) => [formatUnits(price, ins.priceDecimals), formatUnits(size, ins.sizeDecimals)];
        sendJson(res, 200, JSON.stringify({
          symbol: ins.symbol,
          sequence: b.sequence,
          timestamp: b.timestamp > 0 ? formatTimestampMicros(b.timestamp) : null,
          at: formatTimestampMicros(at),
          checksum: b.checksum,
          depth,
          bids: b.bids.map(level),
          asks: b.asks.map(level),
        }));
      },
      (err: Error) => {
        if (aborted) return;
        if (err instanceof BookcastError) {
          sendError(res, err.code, err.message);
          return;
        }
        log.error({ err }, 'orderbook?at= failed');
        sendError(res, 'INTERNAL');
      },
    );
  }

  /**
   * The newest trades from memory; with `start`/`end`, trades in that time range, from storage
   * merged with what memory holds and storage may not have yet.
   */
  private async recentTrades(req: HttpRequest, caller: Caller): Promise<Answer> {
    const ins = this.instrument(req);
    const query = readQuery(req, ['limit', 'start', 'end']);
    const limit = intParameter(query, 'limit', 1, TRADE_HISTORY, DEFAULT_TRADE_LIMIT);
    let rows = this.trades.latest(ins.index, limit);
    if (query.has('start') || query.has('end')) {
      // A time range reads stored trades: history.
      requirePermission(caller, 'history');
      const from = timeParameter(query, 'start', 0);
      const to = timeParameter(query, 'end', Number.MAX_SAFE_INTEGER);
      if (from > to) throw new BookcastError('INVALID_PARAMETER', '"start" is after "end"');
      const stored = await this.persistence.query<TradeRecord[]>({ kind: 'trades', symbol: ins.index, from, to: to + 1, limit: TRADE_HISTORY * 10, offset: 0 });
      const byId = new Map<number, TradeRow>();
      for (const t of stored) byId.set(t.tradeId, { ...t, timestamp: t.time });
      for (const t of rows) if (t.timestamp >= from && t.timestamp <= to) byId.set(t.tradeId, t);
      rows = [...byId.values()].sort((a, b) => b.tradeId - a.tradeId).slice(0, limit);
    }
    const trades = rows.map((t) => ({
      trade_id: t.tradeId,
      price: formatUnits(t.price, ins.priceDecimals),
      size: formatUnits(t.size, ins.sizeDecimals),
      side: side(t.side),
      maker_order_id: t.makerOrderId,
      timestamp: formatTimestampMicros(t.timestamp),
      sequence: t.sequence,
    }));
    return { status: 200, body: JSON.stringify({ symbol: ins.symbol, count: trades.length, trades }) };
  }

  /**
   * Closed candles, oldest first: from memory, and from storage as well when the range reaches
   * back beyond what memory holds (memory wins where both have a candle).
   */
  private async recentCandles(req: HttpRequest): Promise<Answer> {
    const ins = this.instrument(req);
    const query = readQuery(req, ['interval', 'start', 'end', 'limit']);
    const name = query.get('interval') ?? '1m';
    const interval = intervalIndex(name);
    if (interval < 0) throw new BookcastError('INVALID_INTERVAL', `interval must be one of ${INTERVALS.map((i) => i.name).join(', ')}`);
    const start = timeParameter(query, 'start', 0);
    const end = timeParameter(query, 'end', Number.MAX_SAFE_INTEGER);
    if (start > end) throw new BookcastError('INVALID_PARAMETER', '"start" is after "end"');
    const limit = intParameter(query, 'limit', 1, CANDLE_HISTORY, CANDLE_HISTORY);
    // `end` is inclusive here: the key, like the store, names the exclusive end.
    const key = historicalKey(ins.symbol, name, start, end + 1, 'candles', 'feed', limit, 0);
    const kept = await this.historyReads.cached(key);
    if (kept !== undefined) return { status: 200, body: kept };
    // Memory's part is final too once memory holds a later candle (closed candles reach it in order).
    const memoryFinal = () => this.candles.range(ins.index, interval, end + 1, Number.MAX_SAFE_INTEGER, 1).length > 0;
    const body = await this.historyReads.read(key, ins.index, name, end + 1, () => this.candleAnswer(ins, interval, name, start, end, limit), memoryFinal);
    return { status: 200, body };
  }

  /** Closed candles in [start, end], the newest `limit`, oldest first, as the Data Feed renders them. */
  private async candleAnswer(ins: Instrument, interval: number, name: string, start: number, end: number, limit: number): Promise<string> {
    let rows = this.candles.range(ins.index, interval, start, end, limit);
    if (rows.length < limit && (rows.length === 0 || rows[0].start > start)) {
      const before = rows.length === 0 ? end : rows[0].start - 1;
      const stored = await this.persistence.query<CandleRecord[]>({ kind: 'candles', symbol: ins.index, interval: name, from: start, to: before + 1, limit: CANDLE_HISTORY, offset: 0 });
      const merged = new Map<number, CandleRow>();
      for (const c of stored) merged.set(c.start, c);
      for (const c of rows) merged.set(c.start, c);
      rows = [...merged.values()].sort((a, b) => a.start - b.start).slice(-limit);
    }
    const p = ins.priceDecimals;
    const candles = rows.map((c) => ({
      start: formatTimestampMicros(c.start),
      open: formatUnits(c.open, p),
      high: formatUnits(c.high, p),
      low: formatUnits(c.low, p),
      close: formatUnits(c.close, p),
      volume: formatUnitPair(c.volume, c.volumeRest, ins.sizeDecimals),
      vwap: optionalUnits(vwapUnits(c.notional, c.notionalRest, c.volume, c.volumeRest), p),
      trades: c.count,
    }));
    return JSON.stringify({ symbol: ins.symbol, interval: name, count: candles.length, candles });
  }

  /**
   * Stored input events (--store-events) in a time range, in (time, journal sequence) order, a
   * page at a time: the next page starts at the last event's time, after its sequence. Rendered
   * by the persistence worker, off the front thread.
   */
  private async orderEvents(req: HttpRequest): Promise<Answer> {
    const ins = this.instrument(req);
    const query = readQuery(req, ['start', 'end', 'limit', 'after_sequence']);
    const from = timeParameter(query, 'start', 0);
    const to = timeParameter(query, 'end', Number.MAX_SAFE_INTEGER);
    if (from > to) throw new BookcastError('INVALID_PARAMETER', '"start" is after "end"');
    const limit = intParameter(query, 'limit', 1, MAX_EVENT_LIMIT, DEFAULT_EVENT_LIMIT);
    // Journal sequences outgrow intParameter's nine digits within hours of a busy feed.
    const afterText = query.get('after_sequence') ?? '0';
    const after = Number(afterText);
    if (!/^\d{1,16}$/.test(afterText) || !Number.isSafeInteger(after)) throw new BookcastError('INVALID_PARAMETER', '"after_sequence" must be a journal sequence (an integer below 2^53)');
    if (!this.persistence.storesEvents) throw new BookcastError('EVENTS_DISABLED');
    const body = await this.persistence.query<string>({ kind: 'events', symbol: ins.index, from, to: to + 1, after, limit });
    return { status: 200, body };
  }

  private time(us: number): string {
    return us > 0 ? `"${formatTimestampMicros(us)}"` : 'null';
  }
}
