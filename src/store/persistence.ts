import { log } from '../util/log';
import * as path from 'node:path';
import { MessageChannel, MessagePort, Worker } from 'node:worker_threads';
import type { Instrument } from '../model/instruments';
import { BookcastError } from '../errors';
import { SeqlockTable } from '../ring/seqlock-table';
import type { SqlClient } from './sql-client';
import { sqlRelayClient } from './sql-relay';
import type { TimescaleJobs } from './timescale-jobs';
import {
  DURABLE_LAG_SLOT,
  HistoryQuery,
  L_MAX_US,
  L_P50_US,
  L_P99_US,
  L_ROWS,
  L_WORDS,
  P_BATCHES,
  P_CANDLES,
  P_EVENTS,
  P_EVENTS_SKIPPED,
  P_EVENTS_THROUGH,
  P_FAILURES,
  P_LAG_US,
  P_BOOKS,
  P_SPILLED,
  P_STATS_WORDS,
  P_TRADES,
  P_SPOOL,
  P_REJECTED,
  P_READS_PENDING,
  P_READS_REFUSED,
  P_USAGE_DROPPED,
  P_USAGE_WAITING,
  OrderEventSource,
  PersistenceReport,
  PersistenceWorkerData,
} from './persistence-protocol';
import { SRC_DURABLE } from '../model/source-words';
import type { RateBucketRecord } from './store';
import type { PackedUsage } from './usage-pack';

export interface PersistenceOptions {
  databaseUrl: string | undefined;
  dataDir: string;
  batchRows: number;
  batchMs: number;
  /** Store every input event from this journal (--store-events); null: off. */
  events: OrderEventSource | null;
}

/**
 * The main thread's handle on the persistence worker: starts it (migrations run there before
 * `ready`), forwards history queries to it, and reads its counters for the health endpoint.
 */
export class Persistence {
  private readonly worker: Worker;
  private readonly stats: Float64Array;
  private readonly durableLag: SeqlockTable;
  private readonly lag = new Float64Array(L_WORDS);
  /** The source's stats, for the journal's durable sequence; null without --store-events. */
  private readonly sourceStats: Float64Array | null;
  /** The front's end of the SQL relay, until sqlRelay() hands it out. */
  private relayPort: MessagePort | null;
  private readonly waiting = new Map<number, { resolve: (rows: unknown) => void; reject: (err: Error) => void }>();
  private nextId = 1;
  store = '';
  lastError: string | null = null;
  /** TimescaleDB's jobs as last checked; null on the other flavors (and before the first check). */
  timescaleJobs: TimescaleJobs | null = null;

  constructor(rings: SharedArrayBuffer[], doorbell: SharedArrayBuffer, instruments: readonly Instrument[], options: PersistenceOptions) {
    const stats = new SharedArrayBuffer(P_STATS_WORDS * 8);
    this.stats = new Float64Array(stats);
    const durableLag = new SharedArrayBuffer(SeqlockTable.byteLength(1, L_WORDS));
    this.durableLag = new SeqlockTable(durableLag, 1, L_WORDS);
    this.sourceStats = options.events === null ? null : new Float64Array(options.events.sourceStats);
    const relay = new MessageChannel();
    this.relayPort = relay.port1;
    const data: PersistenceWorkerData = { rings, doorbell, instruments: [...instruments], ...options, stats, durableLag, sqlRelay: relay.port2 };
    this.worker = new Worker(path.join(__dirname, 'persistence-worker.js'), { workerData: data, transferList: [relay.port2] });
  }

  /** Resolves once the store is open and migrated; `onFailure` hears if the worker dies later. */
  start(onFailure: (err: BookcastError) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      let ready = false;
      this.worker.on('message', (r: PersistenceReport) => {
        if (r.type === 'ready') {
          ready = true;
          this.store = r.store;
          resolve();
        } else if (r.type === 'jobs') {
          this.timescaleJobs = r.jobs;
        } else if (r.type === 'result') {
          this.waiting.get(r.id)?.resolve(r.rows);
          this.waiting.delete(r.id);
        } else if (r.id !== null && r.code === 'BUSY') {
          this.waiting.get(r.id)?.reject(new BookcastError('BUSY', r.message));
          this.waiting.delete(r.id);
        } else if (r.id !== null) {
          // The database's own text names tables, types and values: it goes to the operator's
          // log and health, never to the client (who gets the code and the catalog's message).
          this.lastError = `${r.code}: ${r.message}`;
          log.error({ code: r.code, query: r.id }, `a history read failed: ${r.message}`);
          this.waiting.get(r.id)?.reject(new BookcastError('STORE_UNAVAILABLE'));
          this.waiting.delete(r.id);
        } else {
          this.lastError = `${r.code}: ${r.message}`;
          log.error({ code: r.code }, `store: ${r.message}`);
          if (!ready) reject(new BookcastError('STORE_UNAVAILABLE', r.message));
        }
      });
      this.worker.on('error', (err) => {
        const e = new BookcastError('WORKER_FAILED', `persistence worker: ${err.message}`);
        if (!ready) reject(e);
        else onFailure(e);
      });
      this.worker.on('exit', (code) => {
        if (code !== 0 && ready) onFailure(new BookcastError('WORKER_FAILED', `persistence worker exited with code ${code}`));
        else if (!ready) reject(new BookcastError('STORE_UNAVAILABLE', this.lastError ?? `persistence worker exited with code ${code}`));
      });
    });
  }

  /** Whether input events are stored (GET /api/v1/market/{symbol}/events answers). */
  get storesEvents(): boolean {
    return this.sourceStats !== null;
  }

  query<T>(query: HistoryQuery): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (rows: unknown) => void, reject });
      this.worker.postMessage({ type: 'query', id, query });
    });
  }

  /**
   * A SqlClient on the store this worker owns, for access control on the embedded store (one
   * owner per PGlite directory): its statements run in the worker, ahead of history reads
   * (sql-relay-server.ts). One per server.
   */
  sqlRelay(): SqlClient {
    const port = this.relayPort;
    if (port === null) throw new BookcastError('INTERNAL', 'the SQL relay is handed out once');
    this.relayPort = null;
    return sqlRelayClient(port);
  }

  /** Hands a batch of usage rows to the worker, which COPYs them (off the front thread); the batch's buffer moves with it. */
  recordUsage(batch: PackedUsage, buckets: RateBucketRecord[]): void {
    this.worker.postMessage({ type: 'usage', batch, buckets }, [batch.numbers]);
  }

  health(): object {
    const s = this.stats;
    const lag = this.lag;
    this.durableLag.read(DURABLE_LAG_SLOT, lag, L_WORDS);
    return {
      store: this.store,
      trades: s[P_TRADES],
      candles: s[P_CANDLES],
      snapshots: s[P_BOOKS],
      batches: s[P_BATCHES],
      spool_rows: s[P_SPOOL],
      spilled_to_disk_rows: s[P_SPILLED],
      rejected_rows: s[P_REJECTED],
      failed_writes: s[P_FAILURES],
      // History reads wait behind writes (read-gate.ts); past the queue's bound they are refused.
      reads: { pending: s[P_READS_PENDING], refused: s[P_READS_REFUSED] },
      // Usage rows waiting for the store; past a bound new batches are dropped (usage-queue.ts).
      usage_rows: { waiting: s[P_USAGE_WAITING], dropped: s[P_USAGE_DROPPED] },
      last_batch_lag_ms: millis(s[P_LAG_US]),
      // Event → committed, per stored trade, over the last minute (durable-lag.ts).
      durable_lag_ms:
        lag[L_ROWS] === 0
          ? { p50: null, p99: null, max: null, rows: 0 }
          : { p50: millis(lag[L_P50_US]), p99: millis(lag[L_P99_US]), max: millis(lag[L_MAX_US]), rows: lag[L_ROWS] },
      order_events:
        this.sourceStats === null
          ? null
          : {
              stored: s[P_EVENTS],
              stored_through: s[P_EVENTS_THROUGH],
              journal_durable: this.sourceStats[SRC_DURABLE],
              behind: Math.max(0, this.sourceStats[SRC_DURABLE] - s[P_EVENTS_THROUGH]),
              skipped: s[P_EVENTS_SKIPPED],
            },
      last_error: this.lastError,
      timescale_jobs: this.timescaleJobs,
    };
  }

  /**
   * Asks the worker to drain, write what is pending (what the database refuses stays in the disk
   * spool for the next start) and exit; terminates it if it has not within `timeoutMs`.
   */
  async stop(timeoutMs = 10_000): Promise<void> {
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.postMessage({ type: 'stop' });
    const timer = setTimeout(() => void this.worker.terminate(), timeoutMs);
    await exited;
    clearTimeout(timer);
  }
}

/** µs as ms with one decimal. */
function millis(micros: number): number {
  return Math.round(micros / 100) / 10;
}
