/**
 * The versioned schema. Each migration has one SQL text per flavor: `partitioned` (PGlite and
 * plain PostgreSQL, native RANGE partitioning by time) and `timescale` (PostgreSQL with the
 * TimescaleDB extension: hypertables and compression). A database keeps the
 * flavor it was created with (recorded in schema_migrations), so installing TimescaleDB later
 * does not switch an existing partitioned schema under running code.
 *
 * Column choices:
 * - Prices, sizes, ids and sequences are BIGINT integer units, as in memory; times TIMESTAMPTZ
 *   (microsecond resolution, the engine's unit), converted exactly in SQL, never through floats.
 * - Each table carries one index, its primary key, which serves both idempotency and the range
 *   reads (symbol = $1 and time between). A unique key on a partitioned table must include the
 *   partition key, hence time in every key. Candles and snapshots lead with (symbol, time).
 * - trades leads with time instead: (time, symbol, trade_id), since migration 2. Trades are the
 *   volume (hundreds of thousands of rows per second) and the key's B-tree is most of a COPY's
 *   cost. Led by symbol, every row lands at one of as many right edges as there are symbols, and
 *   each insert descends the tree from the root, comparing text on the way (2.0 µs of backend
 *   CPU per row, ~300k rows/s). Led by time, rows written in time order all append to the
 *   rightmost leaf, which PostgreSQL reaches without a descent (the B-tree's "fastpath" for
 *   rightmost inserts) and splits 90/10 (1.05 µs per row, ~660k rows/s; the writer sorts each
 *   batch by time). The price is on reads: one symbol's trades in a window are found by
 *   scanning the window's entries of every symbol, filtered on symbol inside the index (no
 *   heap visits for the others); with 100 symbols, 1,000 trades of one read ~1,500 buffers
 *   instead of ~1,000, since fetching the rows themselves dominates either way.
 * - candles.notional is NUMERIC: price × size summed over a busy minute passes 2^53 in integer
 *   units, and NUMERIC keeps SQL-side sums exact (re-aggregation of 1m into 1h); candle rows
 *   are few, so its cost (wider, slower arithmetic) does not matter.
 * - symbol is COLLATE "C": byte order, the same on every server whatever its locale, and the
 *   cheapest comparison for the primary-key B-trees, which are most of a COPY's cost (binary
 *   COPY into trades without its key: ~1.5M rows per backend CPU second; with it: ~0.45M).
 * - Book sides are flat BIGINT[] [price0, size0, price1, size1, …], best first: 8 bytes per
 *   number (jsonb stores each as a numeric plus keys), parsed natively by both drivers, and
 *   still addressable in SQL (bids[1] is the best bid price).
 */

export type Flavor = 'partitioned' | 'timescale';

export interface Migration {
  version: number;
  name: string;
  sql: Record<Flavor, string>;
}

const TABLES = `
create table trades (
  symbol text collate "C" not null,
  sequence bigint not null,
  trade_id bigint not null,
  price bigint not null,
  size bigint not null,
  side smallint not null,
  maker_order_id bigint not null,
  time timestamptz not null,
  primary key (symbol, time, trade_id)
)%PARTITION_TIME%;

create table candles (
  symbol text collate "C" not null,
  "interval" text not null,
  start timestamptz not null,
  open bigint not null,
  high bigint not null,
  low bigint not null,
  close bigint not null,
  volume bigint not null,
  notional numeric not null,
  count bigint not null,
  primary key (symbol, "interval", start)
)%PARTITION_START%;

create table book_snapshots (
  symbol text collate "C" not null,
  sequence bigint not null,
  time timestamptz not null,
  checksum bigint not null,
  bids bigint[] not null,
  asks bigint[] not null,
  primary key (symbol, time, sequence)
)%PARTITION_TIME%;
`;

/**
 * Partitions are created on demand by the writer (bookcast_ensure_partitions, before each COPY
 * that reaches a day it has not seen) and ahead at start-up. The default partitions are a
 * safety net for rows of a day nobody prepared; when that day's partition is created later,
 * its rows move out of the default partition first (attaching would otherwise fail).
 * Widths: a day for trades and snapshots (drop a day at a time), a month for candles (few rows).
 */
const PARTITIONED = `
${TABLES.replace(/%PARTITION_TIME%/g, ' partition by range (time)').replace('%PARTITION_START%', ' partition by range (start)')}
create table trades_default partition of trades default;
create table candles_default partition of candles default;
create table book_snapshots_default partition of book_snapshots default;

create table bookcast_partitioning (
  parent text primary key,
  time_column text not null,
  width text not null check (width in ('day', 'month'))
);
insert into bookcast_partitioning values
  ('trades', 'time', 'day'),
  ('candles', 'start', 'month'),
  ('book_snapshots', 'time', 'day');

-- days: UTC day numbers (days since 1970-01-01) holding rows about to be written.
create function bookcast_ensure_partitions(parent_table text, days integer[]) returns integer
language plpgsql as $$
declare
  cfg record;
  lo timestamp;
  lo_text text;
  hi_text text;
  part text;
  fallback text := parent_table || '_default';
  created integer := 0;
begin
  select time_column, width into strict cfg from bookcast_partitioning where parent = parent_table;
  -- Serialises concurrent writers creating the same partition.
  perform pg_advisory_xact_lock(hashtext('bookcast_ensure_partitions'));
  for lo in
    select distinct date_trunc(cfg.width, timestamp '1970-01-01' + d * interval '1 day') from unnest(days) d
  loop
    part := parent_table || '_' || to_char(lo, 'YYYYMMDD');
    continue when to_regclass(part) is not null;
    -- Bounds as UTC literals, independent of the session's TimeZone and DateStyle.
    lo_text := to_char(lo, 'YYYY-MM-DD HH24:MI:SS') || '+00';
    hi_text := to_char(lo + ('1 ' || cfg.width)::interval, 'YYYY-MM-DD HH24:MI:SS') || '+00';
    execute format('create table %I (like %I)', part, parent_table);
    execute format('with moved as (delete from %I where %I >= %L and %I < %L returning *) insert into %I select * from moved',
      fallback, cfg.time_column, lo_text, cfg.time_column, hi_text, part);
    execute format('alter table %I attach partition %I for values from (%L) to (%L)', parent_table, part, lo_text, hi_text);
    created := created + 1;
  end loop;
  return created;
end $$;
`;

/**
 * Not exercised here (Debian has no TimescaleDB package); chosen only when the extension is
 * available and preloaded. Chunks match the partition widths above; compression segments by
 * symbol, the column every read filters on. (Databases made before migration 4 also got a
 * continuous aggregate, trades_candles_1m, which migration 4 drops: see there.)
 */
const TIMESCALE = `
create extension if not exists timescaledb;
${TABLES.replace(/%PARTITION_TIME%/g, '').replace('%PARTITION_START%', '')}
select create_hypertable('trades', 'time', chunk_time_interval => interval '1 day');
select create_hypertable('candles', 'start', chunk_time_interval => interval '30 days');
select create_hypertable('book_snapshots', 'time', chunk_time_interval => interval '1 day');

alter table trades set (timescaledb.compress, timescaledb.compress_segmentby = 'symbol', timescaledb.compress_orderby = 'time, trade_id');
alter table candles set (timescaledb.compress, timescaledb.compress_segmentby = 'symbol, "interval"', timescaledb.compress_orderby = 'start');
alter table book_snapshots set (timescaledb.compress, timescaledb.compress_segmentby = 'symbol', timescaledb.compress_orderby = 'time, sequence');
select add_compression_policy('trades', interval '7 days');
select add_compression_policy('candles', interval '90 days');
select add_compression_policy('book_snapshots', interval '7 days');
`;

/**
 * Migration 2: trades keyed by (time, symbol, trade_id) (see the top of this file). Rebuilds the
 * key's index on every existing partition or chunk, under an exclusive lock: a long step on a
 * large history, done once. On TimescaleDB the default (time desc) index is dropped too: the key
 * now serves time ranges, and a second index would cost as much per row as the first.
 */
const TRADES_KEY_BY_TIME = `
alter table trades drop constraint trades_pkey;
alter table trades add primary key (time, symbol, trade_id);
`;

/**
 * Migration 3: order_events, the journal's input events (--store-events), one row per journal
 * record, rejected events included: they are the input stream as the sources sent it.
 *
 * - Keyed (time, symbol, journal_sequence), as trades are and for the same reason: the events
 *   are written in time order (the journal's order, for every source whose timestamps do not go
 *   back), so each row appends at the key's right edge, and a symbol's events in a time window
 *   are one range of the key with the symbol filtered inside the index. journal_sequence alone
 *   would identify a row, and also append at the right edge, but would leave the reads by
 *   symbol and time without an index; a second index would double the cost per row.
 * - Columns widest first (the bigints, then the smallints, then the text), so no row carries
 *   alignment padding: this is the largest table, one row per input event.
 * - kind is the event kind's number (src/engine/events.ts: 1 add, 2 modify, 3 replace, 4 cancel,
 *   5 delete, 6 execute, 7 trade, 8 clear), side 0 buy/bid, 1 sell/ask; 0 in a field means the
 *   kind does not carry it. Prices and sizes in the symbol's units, as in trades.
 * - order_events_progress is the resume point: the highest journal sequence whose events are
 *   stored (or were gone from the journal when their turn came), updated in the same transaction
 *   as each batch. max(journal_sequence) would say the same, but with time leading the key it
 *   is a scan of the whole table; and dropping old partitions must not make the writer store
 *   their events again.
 */
const ORDER_EVENTS_TABLE = `
create table order_events (
  time timestamptz not null,
  journal_sequence bigint not null,
  order_id bigint not null,
  price bigint not null,
  size bigint not null,
  new_order_id bigint not null,
  kind smallint not null,
  side smallint not null,
  symbol text collate "C" not null,
  primary key (time, symbol, journal_sequence)
)%PARTITION_TIME%;

create table order_events_progress (
  singleton boolean primary key default true check (singleton),
  stored_through bigint not null
);
insert into order_events_progress (stored_through) values (0);
`;

const ORDER_EVENTS_PARTITIONED = `${ORDER_EVENTS_TABLE.replace('%PARTITION_TIME%', ' partition by range (time)')}
create table order_events_default partition of order_events default;
insert into bookcast_partitioning values ('order_events', 'time', 'day');
`;

/** No default (time desc) index: the key serves time ranges, and a second index doubles the cost per row. */
const ORDER_EVENTS_TIMESCALE = `${ORDER_EVENTS_TABLE.replace('%PARTITION_TIME%', '')}
select create_hypertable('order_events', 'time', chunk_time_interval => interval '1 day', create_default_indexes => false);
alter table order_events set (timescaledb.compress, timescaledb.compress_segmentby = 'symbol', timescaledb.compress_orderby = 'time, journal_sequence');
select add_compression_policy('order_events', interval '7 days');
`;

/**
 * Migration 4: drops trades_candles_1m, the continuous aggregate migration 1 used to create on
 * TimescaleDB. Nothing read it, and it could not agree with the candles bookcast stores: its
 * first(price, time) and last(price, time) pick any one of the trades that share a timestamp
 * (common: one aggressive order fills several makers at one time), where the engine's candles
 * open and close on the first and last trade in sequence. Its refresh policy was one more
 * background job to fail. The candles table, written by the same code as the live candles, is
 * the one source of stored candles (README, "Storage design"). Dropping the view drops its
 * policy and materialized hypertable with it. Native partitioning never had it.
 */
const DROP_TRADES_CANDLES_1M = `drop materialized view if exists trades_candles_1m;
`;

export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'trades, candles, book snapshots', sql: { partitioned: PARTITIONED, timescale: TIMESCALE } },
  { version: 2, name: 'trades keyed by time first', sql: { partitioned: TRADES_KEY_BY_TIME, timescale: `${TRADES_KEY_BY_TIME}drop index if exists trades_time_idx;
` } },
  { version: 3, name: 'order events', sql: { partitioned: ORDER_EVENTS_PARTITIONED, timescale: ORDER_EVENTS_TIMESCALE } },
  { version: 4, name: 'no continuous aggregate of trades', sql: { partitioned: 'select 1', timescale: DROP_TRADES_CANDLES_1M } },
];

/** The tables the writer creates partitions for (partitioned flavor), named as in bookcast_partitioning. */
export type PartitionedTable = 'trades' | 'candles' | 'book_snapshots' | 'order_events' | 'api_usage' | 'api_metrics_ts' | 'client_usage_analytics' | 'subject_usage_minutes';
