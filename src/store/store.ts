import type { SqlClient } from './sql-client';
import type { TimescaleJobs } from './timescale-jobs';

/**
 * The storage interface the persistence worker and the history APIs use; one schema and one SQL
 * layer behind it serve PGlite (embedded default), plain PostgreSQL (native time partitioning)
 * and PostgreSQL with TimescaleDB (hypertables). Prices and sizes are integer units (BIGINT in
 * SQL), times are microseconds since the Unix epoch (TIMESTAMPTZ in SQL), as everywhere else.
 */

export interface TradeRecord {
  symbol: string;
  /** The symbol's sequence of the event that printed the trade. */
  sequence: number;
  tradeId: number;
  price: number;
  size: number;
  /** Aggressor: 0 buy, 1 sell. */
  side: number;
  makerOrderId: number;
  /** µs since the epoch. */
  time: number;
}

export interface CandleRecord {
  symbol: string;
  /** Interval name: 1m, 5m, 15m, 1h, 4h, 1d. */
  interval: string;
  /** µs since the epoch. */
  start: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  /** Exact volume = volume + volumeRest (0 below 2^53; util/exact-sum.ts). */
  volumeRest: number;
  /** Sum of price × size, for VWAP. */
  notional: number;
  notionalRest: number;
  count: number;
}

export interface BookSnapshotRecord {
  symbol: string;
  sequence: number;
  /** µs since the epoch. */
  time: number;
  checksum: number;
  /** Best first: [price, size] pairs in integer units. */
  bids: [number, number][];
  asks: [number, number][];
}

/** One input event as the journal holds it (src/engine/events.ts), for order_events (schema.ts). */
export interface OrderEventRecord {
  /** The journal sequence: the event's place in the input stream of every symbol. */
  sequence: number;
  symbol: string;
  /** EV_* (1 add … 8 clear). */
  kind: number;
  /** 0 bid (buy), 1 ask (sell); a trade's is the aggressor's. */
  side: number;
  orderId: number;
  price: number;
  size: number;
  newOrderId: number;
  /** µs since the epoch, as the source stamped it. */
  time: number;
}

/** One answered REST request (usage accounting, api_usage). */
export interface UsageRecord {
  /** µs since the epoch, when the answer was sent. */
  time: number;
  responseTimeMs: number;
  requestBytes: number;
  responseBytes: number;
  /** HTTP status; 499 when the client went away before the answer. */
  status: number;
  /** What limits count against: the client id, or `ip:<address>` for anonymous callers. */
  subject: string;
  clientId: string | null;
  keyId: string | null;
  /** The route pattern (`/api/v1/market/:symbol/orderbook`), not the URL: few distinct values. */
  endpoint: string;
  method: string;
  userAgent: string;
  /** The client address, or its network part with --anonymize-ip. */
  ip: string;
}

/**
 * What the rate limiter decided for one subject and bucket within one UTC minute (limits/rate-rollup.ts),
 * with the budget then in force: one row per minute, however many requests. The store adds it
 * into rate_limit_buckets' minute, hour and day windows.
 */
export interface RateBucketRecord {
  /** The client id, or `ip:<address>` for anonymous callers: whom the limiter counted. */
  subject: string;
  clientId: string | null;
  /** `rest` (REST requests). */
  bucket: string;
  /** µs since the epoch, the minute's start. */
  minute: number;
  allowed: number;
  refused: number;
  /** The quotas in force (0: the window is off). */
  perMinute: number;
  perHour: number;
  perDay: number;
}

/** One window of a subject's rate_limit_buckets. */
export interface RateBucketRow {
  bucket: string;
  window: 'minute' | 'hour' | 'day';
  /** µs since the epoch. */
  start: number;
  limit: number;
  allowed: number;
  refused: number;
}

/** Requests summed: how many, their response times (ms) and their bytes each way. */
export interface UsageTotals {
  requests: number;
  totalMs: number;
  requestBytes: number;
  responseBytes: number;
}

/** A caller's usage per endpoint, method and status. */
export interface UsageSummaryRow extends UsageTotals {
  endpoint: string;
  method: string;
  status: number;
  /** µs since the epoch of the latest request counted. */
  last: number;
}

export type StoreKind = 'pglite' | 'postgres' | 'timescale';

export interface Store {
  readonly kind: StoreKind;
  /** The store's connection, for access control's tables (clients, keys, tokens, audit log), which live here too. */
  readonly sql: SqlClient;
  /** Applies pending versioned migrations (idempotent; run at start-up). */
  migrate(): Promise<void>;
  /** Batch writes (COPY where the driver allows). Idempotent: rows already stored are skipped. */
  writeTrades(rows: readonly TradeRecord[]): Promise<void>;
  /** Closed candles; a candle already stored for (symbol, interval, start) is replaced. */
  writeCandles(rows: readonly CandleRecord[]): Promise<void>;
  writeBookSnapshots(rows: readonly BookSnapshotRecord[]): Promise<void>;
  /**
   * Input events and, in the same transaction, the resume point: the highest journal sequence
   * among them (orderEventsStoredThrough). Not idempotent: the writer resumes after the resume
   * point, so a row stored twice is a fault (23505, unique violation).
   */
  writeOrderEvents(rows: readonly OrderEventRecord[]): Promise<void>;
  /** The journal sequence through which input events are stored (0: none yet). */
  orderEventsStoredThrough(): Promise<number>;
  /**
   * A symbol's input events with from <= time < to, in (time, journal sequence) order, those at
   * time `from` only after journal sequence `afterSequence` (keyset paging); at most `limit`.
   */
  orderEvents(symbol: string, from: number, to: number, afterSequence: number, limit: number): Promise<OrderEventRecord[]>;
  /** Trades with from <= time < to, oldest first. */
  trades(symbol: string, from: number, to: number, limit: number, offset: number): Promise<TradeRecord[]>;
  /** Candles with from <= start < to, oldest first. */
  candles(symbol: string, interval: string, from: number, to: number, limit: number, offset: number): Promise<CandleRecord[]>;
  /** The latest snapshot at or before `time`, or null. */
  bookSnapshotAt(symbol: string, time: number): Promise<BookSnapshotRecord | null>;
  /** Usage rows, stored and rolled up (api_metrics_ts, client_usage_analytics), and the limiter's counts added into rate_limit_buckets, in one transaction. */
  writeUsage(rows: readonly UsageRecord[], buckets: readonly RateBucketRecord[]): Promise<void>;
  /** `subject`'s usage with from <= time < to. */
  usageSummary(subject: string, from: number, to: number): Promise<UsageSummaryRow[]>;
  /** `subject`'s hour and day windows in rate_limit_buckets that overlap from <= time < to, oldest first. */
  rateBuckets(subject: string, from: number, to: number): Promise<RateBucketRow[]>;
  /** TimescaleDB's background jobs, failing ones listed (timescale-jobs.ts); null on the other flavors. */
  backgroundJobs(): Promise<TimescaleJobs | null>;
  close(): Promise<void>;
}
