import type { MessagePort } from 'node:worker_threads';
import type { Instrument } from '../model/instruments';
import type { HistoryRequest } from './history-render';
import type { TimescaleJobs } from './timescale-jobs';
import type { RateBucketRecord } from './store';
import type { PackedUsage } from './usage-pack';

/** What the server hands the persistence worker. */
export interface PersistenceWorkerData {
  /** One persist ring per book worker (this thread is the consumer of each). */
  rings: SharedArrayBuffer[];
  doorbell: SharedArrayBuffer;
  instruments: Instrument[];
  databaseUrl: string | undefined;
  dataDir: string;
  /** A batch is written when it holds this many rows or is this old, whichever comes first. */
  batchRows: number;
  batchMs: number;
  stats: SharedArrayBuffer;
  /** A seqlock table of one slot (DURABLE_LAG_SLOT, L_WORDS words): the durable lag summary. */
  durableLag: SharedArrayBuffer;
  /** Where to follow the input journal from, to store every input event (--store-events); null: off. */
  events: OrderEventSource | null;
  /** The worker's end of the SQL relay (sql-relay-protocol.ts): access control's statements on the embedded store. */
  sqlRelay: MessagePort;
}

/** The live source's journal, and its stats buffer, whose SRC_DURABLE word says how far it may be read. */
export interface OrderEventSource {
  journalDir: string;
  sourceStats: SharedArrayBuffer;
}

/**
 * Counters in shared memory, written by the persistence worker only.
 *   0 trades written   1 candles written   2 snapshots written   3 batches written
 *   4 rows in the spool (refused by the database, waiting for it)   5 failed writes
 *   6 lag of the last batch (µs, event to durable)   7 rows the spool has put on disk so far
 *   8 rows the database refused for good (kept in the spool's rejected file)
 *   9 order events stored   10 journal sequence through which order events are stored
 *   11 journal records retention deleted before they were stored (gaps in order_events)
 *   12 history reads running or waiting for the store   13 history reads refused (BUSY: queue full)
 *   14 usage rows waiting for the store   15 usage rows dropped (too many waiting)
 */
export const P_TRADES = 0;
export const P_CANDLES = 1;
export const P_BOOKS = 2;
export const P_BATCHES = 3;
export const P_SPOOL = 4;
export const P_FAILURES = 5;
export const P_LAG_US = 6;
export const P_SPILLED = 7;
export const P_REJECTED = 8;
export const P_EVENTS = 9;
export const P_EVENTS_THROUGH = 10;
export const P_EVENTS_SKIPPED = 11;
export const P_READS_PENDING = 12;
export const P_READS_REFUSED = 13;
export const P_USAGE_WAITING = 14;
export const P_USAGE_DROPPED = 15;
export const P_STATS_WORDS = 16;

/**
 * The durable lag over the last minute (durable-lag.ts), one seqlock slot written by the worker:
 *   0 p50 µs   1 p99 µs   2 max µs   3 rows (trades) in the window
 */
export const DURABLE_LAG_SLOT = 0;
export const L_P50_US = 0;
export const L_P99_US = 1;
export const L_MAX_US = 2;
export const L_ROWS = 3;
export const L_WORDS = 4;

/** A history read the front thread asks of the worker that owns the store. */
export type HistoryQuery =
  | { kind: 'trades'; symbol: number; from: number; to: number; limit: number; offset: number }
  | { kind: 'candles'; symbol: number; interval: string; from: number; to: number; limit: number; offset: number }
  | { kind: 'book'; symbol: number; at: number }
  /** A rendered Market Data API history page (JSON or CSV), built here, off the front thread. */
  | { kind: 'history'; request: HistoryRequest }
  /** A rendered page of stored input events (event-render.ts); `after`: keyset paging. */
  | { kind: 'events'; symbol: number; from: number; to: number; after: number; limit: number }
  /** A caller's own usage (accounting), per endpoint, method and status. */
  | { kind: 'usage'; subject: string; from: number; to: number }
  /** A caller's rate_limit_buckets, hour and day windows. */
  | { kind: 'rate-buckets'; subject: string; from: number; to: number };

/** `stop`: drain the rings, write what is pending (or leave it spooled on disk), close, exit. */
export type PersistenceRequest =
  | { type: 'query'; id: number; query: HistoryQuery }
  /** A batch of usage rows (the front batches them, accounting/usage-batcher.ts): COPYed, never an INSERT per request; with the limiter's minute counts since the last batch. */
  | { type: 'usage'; batch: PackedUsage; buckets: RateBucketRecord[] }
  | { type: 'stop' };

export type PersistenceReport =
  | { type: 'ready'; store: string }
  | { type: 'result'; id: number; rows: unknown }
  /** The latest check of TimescaleDB's background jobs (timescale flavor only, every JOBS_CHECK_MS). */
  | { type: 'jobs'; jobs: TimescaleJobs }
  | { type: 'error'; id: number | null; code: string; message: string };
