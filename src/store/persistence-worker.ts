/**
 * The persistence worker: drains every book worker's persist ring (trades, closed candles, book
 * snapshots) into batches and writes them to the store, bounded by size and time; with
 * --store-events it also follows the input journal into order_events (order-event-feed.ts). It
 * owns the store, so it also answers the front thread's history queries (PGlite lives in one thread).
 *
 * The database may be down or slow; the feed must not notice. A batch that fails to write goes to
 * the spool (memory, then disk) and the worker keeps draining the rings; it retries with
 * exponential backoff and, once the database answers, backfills the spool oldest first before
 * new rows. Writes are idempotent (keyed by symbol and trade id / candle start / snapshot
 * sequence), so a batch written twice around a failure is stored once. Order events need no
 * spool: the journal holds them, so on a failure the worker stops reading it and, once the
 * database is back, resumes after what the database says it holds.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as path from 'node:path';
import { INTERVALS } from '../model/intervals';
import { PERSIST_BOOK, PERSIST_BOOK_HEADER_WORDS, PERSIST_CANDLE, PERSIST_TRADE } from '../model/persist-records';
import { Doorbell } from '../ring/doorbell';
import { RecordHandler, SpscRing } from '../ring/spsc-ring';
import { RingGroup } from '../ring/ring-group';
import { SeqlockTable } from '../ring/seqlock-table';
import { nowMicros } from '../util/clock';
import { nameThread } from '../util/thread-name';
import { Batch, batchRows, emptyBatch } from './batch';
import { DurableLagWindow } from './durable-lag';
import { openStore } from './open-store';
import { openPostgresStore } from './postgres-store';
import { ReadGate } from './read-gate';
import {
  HistoryQuery,
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
  PersistenceReport,
  PersistenceRequest,
  PersistenceWorkerData,
} from './persistence-protocol';
import { isDriverFault } from './driver-fault';
import { Spool } from './spool';
import { serveSqlRelay } from './sql-relay-server';
import { lockEmbeddedStore } from './store-lock';
import { renderHistory } from './history-render';
import { renderOrderEvents } from './event-render';
import { OrderEventFeed } from './order-event-feed';
import type { Store } from './store';
import { unpackUsage } from './usage-pack';
import { UsageQueue } from './usage-queue';

const READ_LIMIT = 4096;
const SPOOL_MEMORY_ROWS = 200_000;
const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 5000;
/**
 * The longest sleep with nothing pending (no open batch, nothing spooled, no order events to
 * follow in the journal): the book workers ring the doorbell when they publish and a stop rings
 * it too, so this only paces the durable-lag window's rotation (10 s slices) on an idle store.
 */
const IDLE_WAIT_MS = 1000;
/**
 * While a batch is open and not yet due, the worker sleeps up to this long without announcing it
 * on the doorbell, so the book workers' publications cost them no notify and this thread no
 * wake-up each (one per event batch of each worker, ~300 a second at 1k events/s), for rows that
 * would wait for the batch anyway. The records wait in the rings meanwhile, which were empty when
 * it went to sleep and hold 8 MiB each: ~0.8 MiB arrive in 25 ms at 32 MB/s, far past any rate
 * measured here.
 */
const COALESCE_MS = 25;
/** How long a stop goes on storing order events the journal made durable; the next start resumes the rest. */
const STOP_EVENTS_MS = 5000;
const UNIQUE_VIOLATION = '23505';
/** Usage rows that may wait for the store (20 of the front thread's fullest batches); more are dropped. */
const USAGE_WAITING_ROWS = 100_000;
/** PostgreSQL: connections for history reads, apart from the writer's, so writes never queue behind reads. */
const READ_CONNECTIONS = 3;
/** History reads that may wait for the store beyond those running; more are refused (BUSY). */
const MAX_QUEUED_READS = 64;

const data = workerData as PersistenceWorkerData;
nameThread('bookcast-store');
const symbols = data.instruments.map((i) => i.symbol);
const rings = data.rings.map((sab) => new SpscRing(sab));
const doorbell = new Doorbell(data.doorbell);
const group = new RingGroup(doorbell, rings);
const stats = new Float64Array(data.stats, 0, P_STATS_WORDS);
const spool = new Spool(path.join(data.dataDir, 'spool'), SPOOL_MEMORY_ROWS);
const durableLag = new DurableLagWindow(new SeqlockTable(data.durableLag, 1, L_WORDS), Date.now());
/** null when --store-events is off, or after the database refused order events for good. */
let events = data.events === null ? null : new OrderEventFeed(data.events.journalDir, data.events.sourceStats, symbols, data.batchRows);
/** The resume point at the last unique violation on order_events (see storeEvents). */
let conflictAt = -1;

let batch = emptyBatch();
let batchStarted = 0;
let retryAt = 0;
let retryMs = RETRY_MIN_MS;

class Drain implements RecordHandler {
  ring!: SpscRing;

  onRecord(type: number, offset: number): void {
    const f = this.ring.f64;
    const w = offset >>> 3;
    if (batchStarted === 0) batchStarted = Date.now();
    if (type === PERSIST_TRADE) {
      batch.trades.push({
        symbol: symbols[f[w]], sequence: f[w + 1], tradeId: f[w + 2], price: f[w + 3], size: f[w + 4], side: f[w + 5], makerOrderId: f[w + 6], time: f[w + 7],
      });
    } else if (type === PERSIST_CANDLE) {
      batch.candles.push({
        symbol: symbols[f[w]], interval: INTERVALS[f[w + 1]].name, start: f[w + 2], open: f[w + 3], high: f[w + 4], low: f[w + 5], close: f[w + 6], volume: f[w + 7], volumeRest: f[w + 10], notional: f[w + 8], notionalRest: f[w + 11], count: f[w + 9],
      });
    } else if (type === PERSIST_BOOK) {
      const bids = f[w + 4];
      const asks = f[w + 5];
      const levels = (from: number, n: number): [number, number][] => {
        const out: [number, number][] = [];
        for (let i = 0; i < n; i++) out.push([f[from + 2 * i], f[from + 2 * i + 1]]);
        return out;
      };
      const first = w + PERSIST_BOOK_HEADER_WORDS;
      batch.books.push({ symbol: symbols[f[w]], sequence: f[w + 1], time: f[w + 2], checksum: f[w + 3], bids: levels(first, bids), asks: levels(first + 2 * bids, asks) });
    }
  }
}

/** A write that has not settled by then is taken as failed (a connection can hang as the server dies). */
const WRITE_TIMEOUT_MS = 10_000;
/** The open store; null after a failure until the next attempt reopens it (fresh connections). */
let store: Store | null = null;
/** The open in progress: writes and queries that need a store meanwhile share it (two PGlite instances on one directory corrupt it). */
let opening: Promise<Store> | null = null;
/** PostgreSQL only: the read pool (PGlite reads share the one instance); null until needed or after a failure. */
let reader: Promise<Store> | null = null;
/** Writes first: see read-gate.ts. PGlite has one connection, so there a write waits for at most one read. */
const gate = data.databaseUrl ? new ReadGate(READ_CONNECTIONS, MAX_QUEUED_READS, false) : new ReadGate(1, MAX_QUEUED_READS, true);

function connect(): Promise<Store> {
  if (store !== null) return Promise.resolve(store);
  opening ??= openStore({ databaseUrl: data.databaseUrl, dataDir: data.dataDir }).then(
    (opened) => {
      opening = null;
      store = opened;
      return opened;
    },
    (error: unknown) => {
      opening = null;
      throw error;
    },
  );
  return opening;
}

/** The store history reads use: PostgreSQL's read pool, or the one PGlite instance. */
function connectReader(): Promise<Store> {
  if (!data.databaseUrl) return connect();
  reader ??= openPostgresStore(data.databaseUrl, { max: READ_CONNECTIONS }).catch((error: unknown) => {
    reader = null;
    throw error;
  });
  return reader;
}

/** Drops the read pool after a failed read; the next read opens a new one. */
function disconnectReader(): void {
  const failed = reader;
  reader = null;
  void failed?.then((s) => s.close()).catch(() => undefined);
}

/** Drops the connections of a store that failed; the next write or query opens new ones. */
function disconnect(): void {
  const failed = store;
  store = null;
  void failed?.close().catch(() => undefined);
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer!: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer from the database in ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

async function write(b: Batch): Promise<void> {
  const store = await connect();
  let committed = 0;
  if (b.trades.length > 0) {
    await store.writeTrades(b.trades);
    committed = nowMicros();
  }
  if (b.candles.length > 0) await store.writeCandles(b.candles);
  if (b.books.length > 0) await store.writeBookSnapshots(b.books);
  stats[P_TRADES] += b.trades.length;
  stats[P_CANDLES] += b.candles.length;
  stats[P_BOOKS] += b.books.length;
  stats[P_BATCHES]++;
  if (b.trades.length === 0) return;
  // Counted once the whole batch is written: a batch that fails later is retried, and counted then.
  stats[P_LAG_US] = committed - b.trades[0].time;
  for (let i = 0; i < b.trades.length; i++) durableLag.record(committed - b.trades[i].time);
}

/** Writes the spool (oldest first), then `b`; on failure everything unwritten is spooled again. */
async function flush(b: Batch): Promise<void> {
  const pending = spool.empty ? [b] : [...spool.takeAll(), b];
  for (let i = 0; i < pending.length; i++) {
    if (batchRows(pending[i]) === 0) continue;
    try {
      await withTimeout(gate.write(() => write(pending[i])), WRITE_TIMEOUT_MS);
    } catch (err) {
      stats[P_FAILURES]++;
      if (refusedForGood(err)) {
        // The database refused the rows themselves, not the connection: retrying would block
        // every later batch behind this one. Keep them aside on disk for an operator.
        spool.reject(pending[i]);
        stats[P_REJECTED] = spool.rejected;
        report({ type: 'error', id: null, code: 'STORE_REJECTED', message: `rows refused by the database, kept in the spool's rejected file: ${(err as Error).message}` });
        continue;
      }
      for (let j = i; j < pending.length; j++) spool.add(pending[j]);
      backOff(err, 'write failed, spooling');
      return;
    }
  }
  retryMs = RETRY_MIN_MS;
}

/** Drops the connections and holds every write back until `retryAt`, which backs off exponentially. */
function backOff(err: unknown, what: string): void {
  disconnect();
  retryAt = Date.now() + retryMs;
  retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
  report({ type: 'error', id: null, code: 'STORE_UNAVAILABLE', message: `${what} and retrying in ${retryMs} ms: ${(err as Error).message}` });
}

/**
 * Order events: (re)starts the feed after what the database holds, and writes its batch when
 * due (or whatever it holds, with `force`). Returns the rows written. On a failure the batch is
 * dropped and the feed halted: the journal keeps the events for the resume.
 *
 * A unique violation means the database holds rows of this batch already: a write that timed
 * out here can still commit (its COMMIT was on its way) after the resume point was read. The
 * feed then resumes from the database's point once more; a second violation at the same point
 * is not that, but rows from elsewhere (another journal writing into this database), refused.
 */
async function storeEvents(feed: OrderEventFeed, force: boolean): Promise<number> {
  try {
    if (!feed.following) {
      feed.resume(await withTimeout(gate.write(() => connect().then((s) => s.orderEventsStoredThrough())), WRITE_TIMEOUT_MS));
      stats[P_EVENTS_THROUGH] = feed.storedThrough;
      retryMs = RETRY_MIN_MS;
      return 0;
    }
    if (force ? feed.rows.length === 0 : !feed.due(Date.now(), data.batchMs)) return 0;
    const rows = feed.take();
    await withTimeout(gate.write(() => connect().then((s) => s.writeOrderEvents(rows))), WRITE_TIMEOUT_MS);
    feed.stored(rows);
    stats[P_EVENTS] += rows.length;
    stats[P_EVENTS_THROUGH] = feed.storedThrough;
    stats[P_EVENTS_SKIPPED] = feed.skipped;
    return rows.length;
  } catch (err) {
    feed.halt();
    stats[P_FAILURES]++;
    if ((err as { code?: unknown }).code === UNIQUE_VIOLATION && feed.storedThrough !== conflictAt) {
      conflictAt = feed.storedThrough;
      return 0;
    }
    if (refusedForGood(err)) {
      events = null;
      report({ type: 'error', id: null, code: 'STORE_REJECTED', message: `order events refused by the database, no longer stored until a restart: ${(err as Error).message}` });
      return 0;
    }
    backOff(err, 'order events: write failed, pausing the journal tail');
    return 0;
  }
}

/** At a stop: stores what the journal made durable, until caught up or `deadline`; the next start resumes the rest. */
async function drainEvents(deadline: number): Promise<void> {
  while (events !== null && events.following && Date.now() < deadline) {
    events.poll(data.batchRows);
    if (events.rows.length === 0 || (await storeEvents(events, true)) === 0) return;
  }
}

/** SQLSTATE classes 22 (data exception), 23 (integrity) and 42 (syntax/access): the rows are at fault. */
function refusedForGood(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && /^(22|23|42)[0-9A-Z]{3}$/.test(code);
}

function report(r: PersistenceReport): void {
  parentPort!.postMessage(r);
}

let stopping = false;

/**
 * Usage rows are accounting, not market data: a batch the database refuses is reported (health's
 * last_error) and dropped, never spooled ahead of trades; past USAGE_WAITING_ROWS waiting, new
 * batches are dropped and counted (usage-queue.ts).
 */
const usage = new UsageQueue(
  (rows, buckets) => connect().then((s) => s.writeUsage(rows, buckets)),
  USAGE_WAITING_ROWS,
  (err) => report({ type: 'error', id: null, code: 'STORE_UNAVAILABLE', message: `usage rows dropped: ${err.message}` }),
);

async function answer(request: PersistenceRequest): Promise<void> {
  if (request.type === 'stop') {
    stopping = true;
    // The loop may be asleep on the doorbell for up to IDLE_WAIT_MS.
    doorbell.ring();
    return;
  }
  if (request.type === 'usage') {
    usage.add(unpackUsage(request.batch), request.buckets);
    stats[P_USAGE_WAITING] = usage.rows;
    stats[P_USAGE_DROPPED] = usage.dropped;
    return;
  }
  try {
    const reading = gate.read(() => read(request.query));
    stats[P_READS_PENDING] = gate.pending;
    const rows = await reading;
    report({ type: 'result', id: request.id, rows });
  } catch (err) {
    if ((err as { code?: unknown }).code === 'BUSY') {
      report({ type: 'error', id: request.id, code: 'BUSY', message: (err as Error).message });
      return;
    }
    if (data.databaseUrl) disconnectReader();
    report({ type: 'error', id: request.id, code: 'STORE_UNAVAILABLE', message: (err as Error).message });
  } finally {
    stats[P_READS_PENDING] = gate.pending;
    stats[P_READS_REFUSED] = gate.refused;
  }
}

async function read(q: HistoryQuery): Promise<unknown> {
  const store = await connectReader();
  if (q.kind === 'trades') return store.trades(symbols[q.symbol], q.from, q.to, q.limit, q.offset);
  if (q.kind === 'candles') return store.candles(symbols[q.symbol], q.interval, q.from, q.to, q.limit, q.offset);
  if (q.kind === 'book') return store.bookSnapshotAt(symbols[q.symbol], q.at);
  if (q.kind === 'usage') return store.usageSummary(q.subject, q.from, q.to);
  if (q.kind === 'rate-buckets') return store.rateBuckets(q.subject, q.from, q.to);
  if (q.kind === 'events') return renderOrderEvents(await store.orderEvents(symbols[q.symbol], q.from, q.to, q.after, q.limit + 1), data.instruments[q.symbol], q.limit);
  const r = q.request;
  return renderHistory(await store.candles(r.symbol, r.interval, r.from, r.to, r.limit + 1, r.offset), r);
}

/** How often TimescaleDB's job stats are read for the health endpoint; its policies run hourly or less. */
const JOBS_CHECK_MS = 60_000;

/**
 * Reports TimescaleDB's background jobs now and every JOBS_CHECK_MS. Only while a store is open:
 * a check never reopens one (the write path's backoff owns that); a check that fails is left for
 * the next one, since a database that fails it fails the writes too, and those are reported.
 */
function watchBackgroundJobs(): void {
  const check = (): void => {
    void store?.backgroundJobs().then(
      (jobs) => {
        if (jobs !== null) report({ type: 'jobs', jobs });
      },
      () => undefined,
    );
  };
  check();
  setInterval(check, JOBS_CHECK_MS).unref();
}

/** The embedded store's lock, held for the worker's life (store-lock.ts); null with PostgreSQL. */
let unlock: (() => void) | null = null;

async function run(): Promise<void> {
  if (!data.databaseUrl) unlock = lockEmbeddedStore(data.dataDir);
  // The first open must succeed (it runs the migrations); later failures only spool.
  const kind = (await connect()).kind;
  serveSqlRelay(data.sqlRelay, () => connect().then((s) => s.sql));
  parentPort!.on('message', (request: PersistenceRequest) => void answer(request));
  report({ type: 'ready', store: kind });
  if (kind === 'timescale') watchBackgroundJobs();
  const drain = new Drain();
  for (;;) {
    let work = 0;
    for (const ring of rings) {
      drain.ring = ring;
      work += ring.read(drain, READ_LIMIT);
    }
    // A stop waits for the rings, not for a backlog of order events (drainEvents bounds that).
    const ringsDrained = work === 0;
    if (events !== null) work += events.poll(READ_LIMIT);
    const rows = batchRows(batch);
    if (stopping && ringsDrained) {
      await flush(batch);
      await usage.drained();
      await drainEvents(Date.now() + STOP_EVENTS_MS);
      // Whatever the database did not take stays in the spool (memory is lost: move it to disk).
      for (const b of spool.takeAll()) spool.persist(b);
      await store?.close();
      if (reader !== null) await reader.then((s) => s.close()).catch(() => undefined);
      unlock?.();
      process.exit(0);
    }
    stats[P_SPOOL] = spool.rows;
    stats[P_USAGE_WAITING] = usage.rows;
    stats[P_SPILLED] = spool.spilled;
    durableLag.tick(Date.now());
    if (events !== null && Date.now() >= retryAt) work += await storeEvents(events, false);
    const due = rows >= data.batchRows || (rows > 0 && Date.now() - batchStarted >= data.batchMs);
    if (due && Date.now() >= retryAt) {
      const full = batch;
      batch = emptyBatch();
      batchStarted = 0;
      await flush(full);
    } else if (!due && !spool.empty && Date.now() >= retryAt) {
      await flush(emptyBatch());
    } else if (due && rows >= data.batchRows) {
      // The database is down: keep draining the rings so the feed never waits on it.
      spool.add(batch);
      batch = emptyBatch();
      batchStarted = 0;
    } else if (work === 0 && rows > 0 && !due && events === null) {
      // Yields to the event loop too, so history queries are answered.
      await new Promise((resolve) => setTimeout(resolve, Math.min(COALESCE_MS, batchStarted + data.batchMs - Date.now())));
    } else if (work === 0) {
      const pending = rows > 0 || !spool.empty || events !== null;
      const wake = group.park() ? group.waitAsync(pending ? data.batchMs : IDLE_WAIT_MS) : undefined;
      // Yield to the event loop either way, so history queries are answered.
      await (wake ?? new Promise((resolve) => setImmediate(resolve)));
    }
  }
}

/**
 * postgres.js (3.4.9) can throw from its own socket or timer callbacks after it has dropped a
 * connection ("Cannot read properties of null (reading 'write')": its socket is null by then), an
 * exception no promise of ours sees. It happened when the database went away under load: this
 * worker died, and with it every later write, while the feed went on. Such an exception is the
 * store failing, not the worker: the connections are dropped and writes back off as after any
 * failed write (a write the driver left unsettled times out, and its rows are spooled). Anything
 * else still ends the worker, its stack in the report (the server stops: WORKER_FAILED).
 */
process.on('uncaughtException', (err) => {
  if (isDriverFault(err)) {
    stats[P_FAILURES]++;
    disconnectReader();
    backOff(err, 'the database driver failed after losing a connection');
    return;
  }
  unlock?.();
  report({ type: 'error', id: null, code: 'WORKER_FAILED', message: `persistence worker: ${err.stack ?? String(err)}` });
  process.exit(1);
});

run().catch((err) => {
  unlock?.();
  report({ type: 'error', id: null, code: (err as { code?: string }).code ?? 'STORE_UNAVAILABLE', message: String((err as Error).message ?? err) });
  process.exit(1);
});
