import { pairOfText } from '../util/exact-sum';
import {
  CANDLE_STAGE_COLUMNS,
  encodeBookSnapshots,
  encodeCandles,
  ORDER_EVENT_COLUMNS,
  OrderEventCopyEncoder,
  SNAPSHOT_STAGE_COLUMNS,
  TRADE_COLUMNS,
  TradeCopyEncoder,
  USAGE_COLUMNS,
  UsageCopyEncoder,
} from './copy-encoding';
import { AUTH_LEDGER, AUTH_MIGRATIONS } from './auth-schema';
import { runMigrations } from './migrations';
import { Flavor, PartitionedTable } from './schema';
import { SqlClient } from './sql-client';
import { BookSnapshotRecord, CandleRecord, OrderEventRecord, RateBucketRecord, RateBucketRow, Store, StoreKind, TradeRecord, UsageRecord, UsageSummaryRow } from './store';
import { ACCOUNTING_LEDGER, ACCOUNTING_MIGRATIONS, MERGE_RATE_BUCKETS, MERGE_USAGE_ROLLUPS, RATE_BUCKETS_OF, USAGE_SUMMARY } from './usage-schema';
import { TimescaleJobs, timescaleJobs } from './timescale-jobs';
import { rollUpUsage } from './usage-rollup';

/**
 * The Store over any SqlClient: every statement is here, shared by PGlite, PostgreSQL and
 * TimescaleDB.
 *
 * Writes are serialised (one batch at a time, in call order) so batches land in the order the
 * worker produced them and the trade encoder's buffer is reused safely.
 *
 * Idempotency without paying for it in the common case: a trade batch is first COPYed straight
 * into trades (one statement, atomic). Only when that fails on the primary key (23505: the batch
 * was written before, e.g. a retry after a lost acknowledgement) is it COPYed into a staging
 * table and merged with INSERT … ON CONFLICT DO NOTHING, in one transaction. Candles (replace)
 * and snapshots are few and always take the staging path. Order events need no such fallback:
 * each batch commits with the resume point (order_events_progress), and the writer resumes
 * after it, so it never writes a batch twice.
 */

const DAY_MICROS = 86_400_000_000;
const UNIQUE_VIOLATION = '23505';

/** µs since the Unix epoch (a bigint parameter) to timestamptz, exactly (integer interval arithmetic). */
const at = (param: string): string => `timestamptz 'epoch' + ${param}::bigint * interval '1 microsecond'`;
/** timestamptz to µs since the Unix epoch, exactly (extract returns numeric). */
const micros = (column: string): string => `(extract(epoch from ${column}) * 1000000)::bigint`;

const SELECT_TRADES = `
select symbol, sequence, trade_id, price, size, side, maker_order_id, ${micros('time')}
from trades
where symbol = $1 and time >= ${at('$2')} and time < ${at('$3')}
order by time, trade_id
limit $4 offset $5`;

const SELECT_CANDLES = `
select symbol, "interval", ${micros('start')}, open, high, low, close, volume, notional, count
from candles
where symbol = $1 and "interval" = $2 and start >= ${at('$3')} and start < ${at('$4')}
order by start
limit $5 offset $6`;

const SELECT_SNAPSHOT_AT = `
select symbol, sequence, ${micros('time')}, checksum, bids, asks
from book_snapshots
where symbol = $1 and time <= ${at('$2')}
order by time desc, sequence desc
limit 1`;

const SELECT_ORDER_EVENTS = `
select journal_sequence, symbol, kind, side, order_id, price, size, new_order_id, ${micros('time')}
from order_events
where symbol = $1 and time >= ${at('$2')} and time < ${at('$3')} and (time > ${at('$2')} or journal_sequence > $4)
order by time, journal_sequence
limit $5`;

const ORDER_EVENTS_STORED_THROUGH = 'select coalesce(max(stored_through), 0) from order_events_progress';
const ADVANCE_ORDER_EVENTS = 'update order_events_progress set stored_through = greatest(stored_through, $1)';

// Temporary staging tables live per connection and empty at each commit.
const TRADES_STAGE = 'create temp table if not exists trades_stage (like trades) on commit delete rows';
const MERGE_TRADES = `insert into trades (${TRADE_COLUMNS}) select ${TRADE_COLUMNS} from trades_stage on conflict do nothing`;

const CANDLES_STAGE = `create temp table if not exists candles_stage (
  ord integer, symbol text, "interval" text, start_us bigint, open bigint, high bigint, low bigint, close bigint,
  volume bigint, notional numeric, count bigint) on commit delete rows`;
const MERGE_CANDLES = `
insert into candles (symbol, "interval", start, open, high, low, close, volume, notional, count)
select distinct on (symbol, "interval", start_us)
  symbol, "interval", ${at('start_us')}, open, high, low, close, volume, notional, count
from candles_stage
order by symbol, "interval", start_us, ord desc
on conflict (symbol, "interval", start) do update set
  open = excluded.open, high = excluded.high, low = excluded.low, close = excluded.close,
  volume = excluded.volume, notional = excluded.notional, count = excluded.count`;

const SNAPSHOTS_STAGE = `create temp table if not exists book_snapshots_stage (
  symbol text, sequence bigint, time_us bigint, checksum bigint, bids bigint[], asks bigint[]) on commit delete rows`;
const MERGE_SNAPSHOTS = `
insert into book_snapshots (symbol, sequence, time, checksum, bids, asks)
select symbol, sequence, ${at('time_us')}, checksum, bids, asks from book_snapshots_stage
on conflict do nothing`;

const ENSURE_PARTITIONS = 'select bookcast_ensure_partitions($1, $2::integer[])';

const tradeTime = (r: TradeRecord): number => r.time;
const usageTime = (r: UsageRecord): number => r.time;
/** The tables each usage batch writes: api_usage and its roll-ups. */
const USAGE_TABLES: readonly PartitionedTable[] = ['api_usage', 'api_metrics_ts', 'client_usage_analytics', 'subject_usage_minutes'];
const PARTITIONED_TABLES: readonly PartitionedTable[] = ['trades', 'candles', 'book_snapshots', 'order_events', ...USAGE_TABLES];
const candleStart = (r: CandleRecord): number => r.start;
const snapshotTime = (r: BookSnapshotRecord): number => r.time;
const eventTime = (r: OrderEventRecord): number => r.time;

export class SqlStore implements Store {
  readonly kind: StoreKind;
  private readonly client: SqlClient;
  /** The connection, for access control's tables (auth-schema.ts): the CLI's, and the SQL relay's (sql-relay-server.ts). */
  get sql(): SqlClient {
    return this.client;
  }
  private readonly flavor: Flavor;
  private readonly encoder = new TradeCopyEncoder();
  private readonly eventEncoder = new OrderEventCopyEncoder();
  private readonly usageEncoder = new UsageCopyEncoder();
  /** UTC day numbers whose partition is known to exist, per table (partitioned flavor only). */
  private readonly knownDays: Record<PartitionedTable, Set<number>> = {
    trades: new Set(),
    candles: new Set(),
    book_snapshots: new Set(),
    order_events: new Set(),
    api_usage: new Set(),
    api_metrics_ts: new Set(),
    client_usage_analytics: new Set(),
    subject_usage_minutes: new Set(),
  };
  private tail: Promise<unknown> = Promise.resolve();

  constructor(client: SqlClient, kind: StoreKind, flavor: Flavor) {
    this.client = client;
    this.kind = kind;
    this.flavor = flavor;
  }

  backgroundJobs(): Promise<TimescaleJobs | null> {
    return this.flavor === 'timescale' ? timescaleJobs(this.client) : Promise.resolve(null);
  }

  /** Migrations, then today's and tomorrow's partitions, so the first batches need no DDL. */
  async migrate(): Promise<void> {
    await runMigrations(this.client, this.flavor);
    // After the market-data schema: its migration 1 makes the partitioning function both use.
    await runMigrations(this.client, this.flavor, ACCOUNTING_MIGRATIONS, ACCOUNTING_LEDGER);
    await runMigrations(this.client, this.flavor, AUTH_MIGRATIONS, AUTH_LEDGER);
    const now = Date.now() * 1000;
    const ahead = [now, now + DAY_MICROS];
    await this.ensurePartitions(PARTITIONED_TABLES, ahead, Number);
  }

  writeUsage(rows: readonly UsageRecord[], buckets: readonly RateBucketRecord[]): Promise<void> {
    if (rows.length === 0 && buckets.length === 0) return Promise.resolve();
    return this.serial(async () => {
      await this.ensurePartitions(USAGE_TABLES, rows, usageTime);
      const bytes = rows.length === 0 ? null : this.usageEncoder.encode(rows);
      const { minutes, days, subjects } = rollUpUsage(rows);
      await this.client.transaction(async (tx) => {
        if (bytes !== null) {
          await tx.copyFrom(`api_usage (${USAGE_COLUMNS})`, 'binary', bytes);
          await tx.rows(MERGE_USAGE_ROLLUPS, [JSON.stringify(minutes), JSON.stringify(days), JSON.stringify(subjects)]);
        }
        if (buckets.length > 0) await tx.rows(MERGE_RATE_BUCKETS, [JSON.stringify(buckets)]);
      });
    });
  }

  async rateBuckets(subject: string, from: number, to: number): Promise<RateBucketRow[]> {
    const rows = await this.client.rows(RATE_BUCKETS_OF, [subject, from, to]);
    return rows.map((r) => ({
      bucket: r[0] as string,
      window: r[1] as RateBucketRow['window'],
      start: Number(r[2]),
      limit: Number(r[3]),
      allowed: Number(r[4]),
      refused: Number(r[5]),
    }));
  }

  async usageSummary(subject: string, from: number, to: number): Promise<UsageSummaryRow[]> {
    const rows = await this.client.rows(USAGE_SUMMARY, [subject, from, to]);
    return rows.map((r) => ({
      endpoint: r[0] as string,
      method: r[1] as string,
      status: Number(r[2]),
      requests: Number(r[3]),
      totalMs: Number(r[4]),
      requestBytes: Number(r[5]),
      responseBytes: Number(r[6]),
      last: Number(r[7]),
    }));
  }

  writeTrades(rows: readonly TradeRecord[]): Promise<void> {
    if (rows.length === 0) return Promise.resolve();
    return this.serial(async () => {
      await this.ensurePartitions(['trades'], rows, tradeTime);
      const bytes = this.encoder.encode(inTimeOrder(rows));
      try {
        await this.client.copyFrom(`trades (${TRADE_COLUMNS})`, 'binary', bytes);
      } catch (error) {
        if ((error as { code?: unknown }).code !== UNIQUE_VIOLATION) throw error;
        await this.client.transaction(async (tx) => {
          await tx.exec(TRADES_STAGE);
          await tx.copyFrom(`trades_stage (${TRADE_COLUMNS})`, 'binary', bytes);
          await tx.exec(MERGE_TRADES);
        });
      }
    });
  }

  writeCandles(rows: readonly CandleRecord[]): Promise<void> {
    if (rows.length === 0) return Promise.resolve();
    return this.serial(async () => {
      await this.ensurePartitions(['candles'], rows, candleStart);
      const bytes = encodeCandles(rows);
      await this.client.transaction(async (tx) => {
        await tx.exec(CANDLES_STAGE);
        await tx.copyFrom(`candles_stage (${CANDLE_STAGE_COLUMNS})`, 'text', bytes);
        await tx.exec(MERGE_CANDLES);
      });
    });
  }

  writeBookSnapshots(rows: readonly BookSnapshotRecord[]): Promise<void> {
    if (rows.length === 0) return Promise.resolve();
    return this.serial(async () => {
      await this.ensurePartitions(['book_snapshots'], rows, snapshotTime);
      const bytes = encodeBookSnapshots(rows);
      await this.client.transaction(async (tx) => {
        await tx.exec(SNAPSHOTS_STAGE);
        await tx.copyFrom(`book_snapshots_stage (${SNAPSHOT_STAGE_COLUMNS})`, 'text', bytes);
        await tx.exec(MERGE_SNAPSHOTS);
      });
    });
  }

  writeOrderEvents(rows: readonly OrderEventRecord[]): Promise<void> {
    if (rows.length === 0) return Promise.resolve();
    return this.serial(async () => {
      await this.ensurePartitions(['order_events'], rows, eventTime);
      let through = 0;
      for (let i = 0; i < rows.length; i++) if (rows[i].sequence > through) through = rows[i].sequence;
      const bytes = this.eventEncoder.encode(inTimeOrder(rows));
      await this.client.transaction(async (tx) => {
        await tx.copyFrom(`order_events (${ORDER_EVENT_COLUMNS})`, 'binary', bytes);
        await tx.rows(ADVANCE_ORDER_EVENTS, [through]);
      });
    });
  }

  async orderEventsStoredThrough(): Promise<number> {
    return Number((await this.client.rows(ORDER_EVENTS_STORED_THROUGH, []))[0][0]);
  }

  async orderEvents(symbol: string, from: number, to: number, afterSequence: number, limit: number): Promise<OrderEventRecord[]> {
    const rows = await this.client.rows(SELECT_ORDER_EVENTS, [symbol, from, to, afterSequence, limit]);
    const out: OrderEventRecord[] = new Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i];
      out[i] = {
        sequence: Number(r[0]),
        symbol: r[1] as string,
        kind: Number(r[2]),
        side: Number(r[3]),
        orderId: Number(r[4]),
        price: Number(r[5]),
        size: Number(r[6]),
        newOrderId: Number(r[7]),
        time: Number(r[8]),
      };
    }
    return out;
  }

  async trades(symbol: string, from: number, to: number, limit: number, offset: number): Promise<TradeRecord[]> {
    const rows = await this.client.rows(SELECT_TRADES, [symbol, from, to, limit, offset]);
    const out: TradeRecord[] = new Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i];
      out[i] = {
        symbol: r[0] as string,
        sequence: Number(r[1]),
        tradeId: Number(r[2]),
        price: Number(r[3]),
        size: Number(r[4]),
        side: Number(r[5]),
        makerOrderId: Number(r[6]),
        time: Number(r[7]),
      };
    }
    return out;
  }

  async candles(symbol: string, interval: string, from: number, to: number, limit: number, offset: number): Promise<CandleRecord[]> {
    const rows = await this.client.rows(SELECT_CANDLES, [symbol, interval, from, to, limit, offset]);
    const out: CandleRecord[] = new Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i];
      const volume = pairOfText(String(r[7]));
      const notional = pairOfText(String(r[8]));
      out[i] = {
        symbol: r[0] as string,
        interval: r[1] as string,
        start: Number(r[2]),
        open: Number(r[3]),
        high: Number(r[4]),
        low: Number(r[5]),
        close: Number(r[6]),
        volume: volume.hi,
        volumeRest: volume.rest,
        notional: notional.hi,
        notionalRest: notional.rest,
        count: Number(r[9]),
      };
    }
    return out;
  }

  async bookSnapshotAt(symbol: string, time: number): Promise<BookSnapshotRecord | null> {
    const rows = await this.client.rows(SELECT_SNAPSHOT_AT, [symbol, time]);
    if (rows.length === 0) return null;
    const r = rows[0];
    return {
      symbol: r[0] as string,
      sequence: Number(r[1]),
      time: Number(r[2]),
      checksum: Number(r[3]),
      bids: levels(r[4] as ArrayLike<unknown>),
      asks: levels(r[5] as ArrayLike<unknown>),
    };
  }

  async close(): Promise<void> {
    await this.tail;
    await this.client.close();
  }

  private serial<T>(write: () => Promise<T>): Promise<T> {
    const run = this.tail.then(write);
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** Creates each table's partitions for the UTC days of `rows` not seen before; one round trip per table with a new day. */
  private async ensurePartitions<R>(tables: readonly PartitionedTable[], rows: readonly R[], timeOf: (row: R) => number): Promise<void> {
    if (this.flavor !== 'partitioned') return;
    // The batch's days once (nearly always one), then each table's missing ones.
    const days: number[] = [];
    let last = NaN;
    for (let i = 0; i < rows.length; i++) {
      const day = Math.floor(timeOf(rows[i]) / DAY_MICROS);
      if (day === last) continue;
      last = day;
      if (!days.includes(day)) days.push(day);
    }
    for (const table of tables) {
      const known = this.knownDays[table];
      const missing = days.filter((day) => !known.has(day));
      if (missing.length === 0) continue;
      await this.client.rows(ENSURE_PARTITIONS, [table, `{${missing.join(',')}}`]);
      for (const day of missing) known.add(day);
    }
  }
}

/**
 * The rows in time order, so that COPY appends them all at the right edge of the trades and
 * order_events keys (schema.ts). A batch is usually in order already, or a few runs in order (one per book worker's
 * ring), which V8's merge sort joins in ~20 ns a row. Order inside one COPY is invisible to
 * readers: the statement is atomic.
 */
function inTimeOrder<R extends { time: number }>(rows: readonly R[]): readonly R[] {
  for (let i = 1; i < rows.length; i++) if (rows[i].time < rows[i - 1].time) return [...rows].sort(byTime);
  return rows;
}

const byTime = (a: { time: number }, b: { time: number }): number => a.time - b.time;

/** A flat {p0,s0,p1,s1,…} array (numbers from PGlite, strings from postgres.js) as pairs. */
function levels(flat: ArrayLike<unknown>): [number, number][] {
  const out: [number, number][] = new Array(flat.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = [Number(flat[2 * i]), Number(flat[2 * i + 1])];
  return out;
}
