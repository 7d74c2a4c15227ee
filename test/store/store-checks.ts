import { type Test } from 'tap';
import { detectFlavor, runMigrations } from '../../src/store/migrations';
import { ACCOUNTING_LEDGER, ACCOUNTING_MIGRATIONS } from '../../src/store/usage-schema';
import { Flavor, MIGRATIONS } from '../../src/store/schema';
import { SqlClient } from '../../src/store/sql-client';
import { SqlStore } from '../../src/store/sql-store';
import { BookSnapshotRecord, CandleRecord, OrderEventRecord, Store, StoreKind, TradeRecord, UsageRecord } from '../../src/store/store';

/**
 * The behaviour every Store must show, run against a real database by each driver's test:
 * `store` is migrated, `raw` reaches the same database for checks the Store API cannot make.
 * BOOKCAST_TEST_POSTGRES may name plain PostgreSQL or one with TimescaleDB: the flavor is read
 * from the database, and each check asserts what that flavor must have.
 */

const MAX = Number.MAX_SAFE_INTEGER; // 2^53 - 1
const DAY = 86_400_000_000;
/** 2026-03-01T00:00:00Z in µs. */
const T0 = Date.UTC(2026, 2, 1) * 1000;

export function trade(symbol: string, tradeId: number, time: number, price = 1_000_000 + tradeId): TradeRecord {
  return { symbol, sequence: tradeId * 10, tradeId, price, size: tradeId + 1, side: tradeId & 1, makerOrderId: tradeId * 7, time };
}

export function orderEvent(symbol: string, sequence: number, time: number): OrderEventRecord {
  return { sequence, symbol, kind: 1 + (sequence % 8), side: sequence & 1, orderId: sequence * 3, price: 1_000_000 + sequence, size: sequence + 1, newOrderId: sequence * 3 + 1, time };
}

async function count(raw: SqlClient, sql: string, params: unknown[] = []): Promise<number> {
  return Number((await raw.rows(sql, params))[0][0]);
}

/** The flavor a fresh database gets on this server (PGlite: always partitioned). */
export async function serverFlavor(raw: SqlClient, kind: StoreKind): Promise<Flavor> {
  return detectFlavor(raw, kind !== 'pglite');
}

/** Whether the TimescaleDB extension is installed in the database `raw` reaches. */
async function timescaleInstalled(raw: SqlClient): Promise<boolean> {
  return (await raw.rows(`select exists (select 1 from pg_extension where extname = 'timescaledb')`, []))[0][0] === true;
}

/** Where each row of `table` for `symbol` is stored: its partition (partitioned) or chunk (timescale). */
async function placement(raw: SqlClient, table: string, symbol: string, order: string): Promise<string[]> {
  return (await raw.rows(`select tableoid::regclass::text from ${table} where symbol = $1 order by ${order}`, [symbol])).map((r) => r[0] as string);
}

export async function storeChecks(t: Test, store: Store, raw: SqlClient): Promise<void> {
  // A migrated database records its flavor; detectFlavor reads it back from there.
  const flavor = await detectFlavor(raw, true);
  t.comment(`schema flavor: ${flavor}`);

  await t.test('migrations are recorded once and re-running them changes nothing', async (t) => {
    t.equal(await runMigrations(raw, flavor), 0, 'nothing left to apply');
    await store.migrate();
    const rows = await raw.rows('select version, flavor from schema_migrations order by version', []);
    t.same(rows.map((r) => [Number(r[0]), r[1]]), MIGRATIONS.map((m) => [m.version, flavor]));
    t.equal(flavor === 'timescale', await timescaleInstalled(raw), 'the timescale flavor exactly where the extension is installed');
    const key = async (table: string) =>
      (
        await raw.rows(
          `select a.attname::text from pg_index i join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any(i.indkey)
           where i.indrelid = $1::regclass and i.indisprimary order by array_position(i.indkey::int2[], a.attnum)`,
          [table],
        )
      ).map((r) => r[0]);
    t.same(await key('trades'), ['time', 'symbol', 'trade_id'], 'trades keyed time first: inserts append at the right edge');
    t.same(await key('order_events'), ['time', 'symbol', 'journal_sequence'], 'order events too');
    t.same(await raw.rows(`select count(*)::int from pg_index where indrelid = 'order_events'::regclass`, []), [[1]], 'and no other index');
    t.same(await raw.rows(`select to_regclass('trades_candles_1m')::text`, []), [[null]], 'no continuous aggregate of trades (migration 4)');
    t.same(await raw.rows(`select count(*)::int from pg_index where indrelid = 'api_usage'::regclass`, []), [[0]], 'api_usage has no index: a row costs its COPY alone');
    if (flavor === 'timescale') {
      t.same(
        (await raw.rows(`select hypertable_name::text from timescaledb_information.hypertables where hypertable_schema = current_schema() order by 1`, [])).map((r) => r[0]),
        ['api_metrics_ts', 'api_usage', 'book_snapshots', 'candles', 'client_usage_analytics', 'order_events', 'subject_usage_minutes', 'trades'],
        'every table a hypertable (usage accounting\'s too)',
      );
      t.same(
        (await raw.rows(`select hypertable_name::text from timescaledb_information.jobs where proc_name = 'policy_compression' order by 1`, [])).map((r) => r[0]),
        ['book_snapshots', 'candles', 'order_events', 'trades'],
        'each with a compression policy',
      );
      t.same(await raw.rows(`select count(*)::int from timescaledb_information.continuous_aggregates`, []), [[0]], 'no continuous aggregate at all');
      t.not(await store.backgroundJobs(), null, 'its background jobs are watched');
    } else {
      t.same(
        (await raw.rows(`select parent, width from bookcast_partitioning order by parent`, [])).map((r) => [r[0], r[1]]),
        [['api_metrics_ts', 'day'], ['api_usage', 'day'], ['book_snapshots', 'day'], ['candles', 'month'], ['client_usage_analytics', 'month'], ['order_events', 'day'], ['subject_usage_minutes', 'day'], ['trades', 'day']],
        'every table range-partitioned by time (usage accounting\'s too)',
      );
      t.equal(await store.backgroundJobs(), null, 'no background jobs to watch');
    }
  });

  await t.test('order events round-trip exactly; each batch commits its resume point with it', async (t) => {
    t.equal(await store.orderEventsStoredThrough(), 0, 'nothing stored yet');
    const edge: OrderEventRecord = { sequence: 3, symbol: 'EV-1', kind: 8, side: 1, orderId: MAX, price: MAX - 1, size: MAX - 2, newOrderId: 2 ** 32, time: T0 + 123_457 };
    const zero: OrderEventRecord = { sequence: 4, symbol: 'EV-1', kind: 5, side: 0, orderId: 7, price: 0, size: 0, newOrderId: 0, time: T0 + 123_457 };
    // Out of time order, as a publisher's timestamps may be: stored in time order, read back so.
    const batch = [orderEvent('EV-1', 1, T0 + 200_000), orderEvent('EV-2', 2, T0 + 1), edge, zero];
    await store.writeOrderEvents(batch);
    t.equal(await store.orderEventsStoredThrough(), 4);
    t.same(await store.orderEvents('EV-1', 0, MAX, 0, 10), [edge, zero, batch[0]], 'time order, journal sequence breaking ties');
    t.same(await store.orderEvents('EV-2', 0, MAX, 0, 10), [batch[1]], 'one symbol only');
    await store.writeOrderEvents([orderEvent('EV-1', 9, T0 + 300_000)]);
    t.equal(await store.orderEventsStoredThrough(), 9, 'a gap (records retention deleted) is passed over');
  });

  await t.test('an order event batch written again is refused whole, and the resume point stays', async (t) => {
    const batch = Array.from({ length: 20 }, (_, i) => orderEvent('EV-3', 100 + i, T0 + 400_000 + i));
    await store.writeOrderEvents(batch);
    const error = await store.writeOrderEvents([orderEvent('EV-3', 120, T0 + 400_020), batch[5]]).then(
      () => null,
      (e: { code?: string }) => e,
    );
    t.equal(error?.code, '23505', 'unique violation');
    t.equal(await store.orderEventsStoredThrough(), 119, 'the resume point did not move');
    t.equal((await store.orderEvents('EV-3', 0, MAX, 0, 100)).length, 20, 'the new row of the refused batch is not stored either');
  });

  await t.test('order events page by time, then journal sequence after the last one seen', async (t) => {
    const events: OrderEventRecord[] = [];
    for (let i = 0; i < 30; i++) events.push(orderEvent('EV-4', 200 + i, T0 + 500_000 + Math.floor(i / 4)));
    await store.writeOrderEvents(events);
    t.same(await store.orderEvents('EV-4', T0 + 500_002, T0 + 500_004, 0, 100), events.slice(8, 16), '[from, to)');
    const pages: number[][] = [];
    let from = 0;
    let after = 0;
    for (;;) {
      const page = await store.orderEvents('EV-4', from, MAX, after, 7);
      if (page.length === 0) break;
      pages.push(page.map((e) => e.sequence));
      from = page[page.length - 1].time;
      after = page[page.length - 1].sequence;
    }
    t.same(pages.flat(), events.map((e) => e.sequence), 'every event once, across pages that split a timestamp');
    t.equal(pages.length, 5);
  });

  await t.test('trades round-trip exactly, including values at the edge of 2^53 and negative times', async (t) => {
    const edge: TradeRecord = { symbol: 'EDGE-1', sequence: MAX, tradeId: MAX - 1, price: MAX - 2, size: MAX, side: 1, makerOrderId: -MAX, time: T0 + 123_457 };
    const early: TradeRecord = { ...edge, tradeId: 1, price: -5, makerOrderId: 2 ** 32, time: -1 };
    const late: TradeRecord = { ...edge, tradeId: 2, price: 2 ** 32 - 1, makerOrderId: 0, time: MAX - 1 };
    await store.writeTrades([edge, early, late]);
    t.same(await store.trades('EDGE-1', -DAY, MAX, 10, 0), [early, edge, late]);
    t.same(await store.trades('EDGE-1', -1, MAX - 1, 10, 0), [early, edge], 'from is inclusive, to exclusive');
  });

  await t.test('candles round-trip, exact sums beyond 2^53 included', async (t) => {
    const candle: CandleRecord = {
      symbol: 'EDGE-1', interval: '1m', start: T0, open: MAX, high: MAX, low: 1, close: MAX - 1, volume: MAX, volumeRest: 0,
      notional: 1.2345678901234567e21, notionalRest: 0, count: MAX,
    };
    const fractional: CandleRecord = { ...candle, start: T0 + 60_000_000, notional: 12345.678 };
    // volume 2^62 + 1 (bigint's range) and notional 2^80 - 3, which no double holds.
    const exact: CandleRecord = { ...candle, start: T0 + 120_000_000, volume: 2 ** 62, volumeRest: 1, notional: 2 ** 80, notionalRest: -3 };
    await store.writeCandles([candle, fractional, exact]);
    t.same(await store.candles('EDGE-1', '1m', T0, T0 + DAY, 10, 0), [candle, fractional, exact]);
    const stored = await raw.rows(`select volume::text, notional::text from candles where symbol = 'EDGE-1' and "interval" = '1m' order by start`, []);
    t.same(stored[2].map(String), [(2n ** 62n + 1n).toString(), (2n ** 80n - 3n).toString()], 'the database holds the exact digits');
    t.same(await store.candles('EDGE-1', '5m', T0, T0 + DAY, 10, 0), [], 'interval filters');
  });

  await t.test('book snapshots round-trip, empty side included', async (t) => {
    const snap: BookSnapshotRecord = {
      symbol: 'EDGE-1', sequence: MAX, time: T0 + 5, checksum: 4_294_967_295, bids: [[MAX, MAX - 1], [MAX - 2, 1]], asks: [],
    };
    await store.writeBookSnapshots([snap]);
    t.same(await store.bookSnapshotAt('EDGE-1', T0 + 5), snap);
  });

  await t.test('re-writing a trade batch adds nothing; an overlapping batch adds only the new rows', async (t) => {
    const batch = Array.from({ length: 100 }, (_, i) => trade('DUP-1', i, T0 + i * 1000));
    await store.writeTrades(batch);
    await store.writeTrades(batch);
    t.equal((await store.trades('DUP-1', T0, T0 + DAY, 1000, 0)).length, 100);
    const overlap = Array.from({ length: 100 }, (_, i) => trade('DUP-1', i + 50, T0 + (i + 50) * 1000));
    await store.writeTrades(overlap);
    const all = await store.trades('DUP-1', T0, T0 + DAY, 1000, 0);
    t.equal(all.length, 150);
    t.same(all.map((x) => x.tradeId), Array.from({ length: 150 }, (_, i) => i), 'each trade once, in order');
    const repeated = [trade('DUP-1', 500, T0 + 500_000), trade('DUP-1', 500, T0 + 500_000)];
    await store.writeTrades(repeated);
    t.equal((await store.trades('DUP-1', T0, T0 + DAY, 1000, 0)).length, 151, 'a duplicate inside one batch is stored once');
  });

  await t.test('a candle written again is replaced; within one batch the last one wins', async (t) => {
    const first: CandleRecord = { symbol: 'DUP-1', interval: '1m', start: T0, open: 10, high: 12, low: 9, close: 11, volume: 5, volumeRest: 0, notional: 55, notionalRest: 0, count: 3 };
    await store.writeCandles([first]);
    const second = { ...first, high: 13, close: 13, volume: 6, notional: 68, count: 4 };
    await store.writeCandles([second]);
    t.same(await store.candles('DUP-1', '1m', T0, T0 + 1, 10, 0), [second]);
    const third = { ...second, close: 12 };
    const fourth = { ...second, close: 10, low: 8 };
    await store.writeCandles([third, fourth]);
    t.same(await store.candles('DUP-1', '1m', T0, T0 + 1, 10, 0), [fourth]);
  });

  await t.test('a snapshot written again is stored once', async (t) => {
    const snap: BookSnapshotRecord = { symbol: 'DUP-1', sequence: 7, time: T0, checksum: 1, bids: [[100, 1]], asks: [[101, 2]] };
    await store.writeBookSnapshots([snap]);
    await store.writeBookSnapshots([snap, snap]);
    t.equal(await count(raw, 'select count(*) from book_snapshots where symbol = $1', ['DUP-1']), 1);
  });

  await t.test('writes cross day boundaries into daily partitions or chunks', async (t) => {
    const lastOfDay = T0 + 10 * DAY - 1;
    const batch = [trade('DAY-1', 1, lastOfDay), trade('DAY-1', 2, lastOfDay + 1), trade('DAY-1', 3, lastOfDay + 1 + DAY)];
    await store.writeTrades(batch);
    t.same((await store.trades('DAY-1', 0, MAX, 10, 0)).map((x) => x.tradeId), [1, 2, 3]);
    await store.writeCandles([{ symbol: 'DAY-1', interval: '1d', start: lastOfDay + 1, open: 1, high: 1, low: 1, close: 1, volume: 1, volumeRest: 0, notional: 1, notionalRest: 0, count: 1 }]);
    await store.writeBookSnapshots([{ symbol: 'DAY-1', sequence: 1, time: lastOfDay, checksum: 0, bids: [], asks: [] }]);
    await store.writeOrderEvents([orderEvent('DAY-1', 1000, lastOfDay), orderEvent('DAY-1', 1001, lastOfDay + 1)]);
    const trades = await placement(raw, 'trades', 'DAY-1', 'trade_id');
    const candles = await placement(raw, 'candles', 'DAY-1', 'start');
    const snapshots = await placement(raw, 'book_snapshots', 'DAY-1', 'sequence');
    const events = await placement(raw, 'order_events', 'DAY-1', 'journal_sequence');
    if (flavor === 'partitioned') {
      t.same(trades, ['trades_20260310', 'trades_20260311', 'trades_20260312'], 'one partition per UTC day');
      t.same(candles, ['candles_20260301'], 'candles by month');
      t.same(snapshots, ['book_snapshots_20260310']);
      t.same(events, ['order_events_20260310', 'order_events_20260311']);
      for (const table of ['trades', 'candles', 'book_snapshots', 'order_events']) {
        t.equal(await count(raw, `select count(*) from only ${table}_default`), 0, `${table}_default is empty`);
      }
    } else {
      t.equal(new Set(trades).size, 3, 'one chunk per UTC day');
      t.equal(new Set(events).size, 2, 'order events too');
      for (const chunk of [...trades, ...candles, ...snapshots, ...events]) t.match(chunk, /^_timescaledb_internal\._hyper_\d+_\d+_chunk$/, 'rows live in chunks');
      const widths = await raw.rows(
        `select hypertable_name::text, min(range_end - range_start)::text, max(range_end - range_start)::text
         from timescaledb_information.chunks where hypertable_schema = current_schema() group by 1 order by 1`,
        [],
      );
      t.same(widths, [['book_snapshots', '1 day', '1 day'], ['candles', '30 days', '30 days'], ['order_events', '1 day', '1 day'], ['trades', '1 day', '1 day']], 'chunk widths as the schema sets them');
    }
  });

  if (flavor === 'partitioned') {
    await t.test('rows that reached the default partition move into their day when it is created', async (t) => {
      const day = T0 + 40 * DAY;
      await raw.exec(`insert into trades values ('LOST-1', 1, 1, 100, 1, 0, 0, timestamptz '2026-04-10 12:00:00+00')`);
      t.equal(await count(raw, 'select count(*) from only trades_default'), 1, 'no partition for that day yet');
      await store.writeTrades([trade('LOST-1', 2, day + 1)]);
      t.equal(await count(raw, 'select count(*) from only trades_default'), 0);
      t.equal(await count(raw, "select count(*) from trades_20260410 where symbol = 'LOST-1'"), 2);
    });
  } else {
    await t.test('a row written outside bookcast lands in its day\'s chunk, which the store then shares', async (t) => {
      const day = T0 + 40 * DAY;
      await raw.exec(`insert into trades values ('LOST-1', 1, 1, 100, 1, 0, 0, timestamptz '2026-04-10 12:00:00+00')`);
      await store.writeTrades([trade('LOST-1', 2, day + 1)]);
      t.equal(new Set(await placement(raw, 'trades', 'LOST-1', 'trade_id')).size, 1, 'one chunk for the day');
      t.same((await store.trades('LOST-1', 0, MAX, 10, 0)).map((x) => x.tradeId), [1, 2]);
    });
  }

  await t.test('time ranges page with limit and offset in time order, trade id breaking ties', async (t) => {
    const batch: TradeRecord[] = [];
    for (let i = 0; i < 30; i++) batch.push(trade('PAGE-1', 100 - i, T0 + Math.floor(i / 3) * 1000));
    await store.writeTrades([...batch].reverse());
    const expected = [...batch].sort((a, b) => a.time - b.time || a.tradeId - b.tradeId);
    t.same(await store.trades('PAGE-1', T0, T0 + DAY, 10, 10), expected.slice(10, 20));
    t.same(await store.trades('PAGE-1', T0 + 2000, T0 + 4000, 100, 0), expected.slice(6, 12), '[from, to)');
    t.same(await store.trades('PAGE-1', T0, T0 + DAY, 10, 30), []);
    const candles: CandleRecord[] = Array.from({ length: 12 }, (_, i) => ({
      symbol: 'PAGE-1', interval: '5m', start: T0 + i * 300_000_000, open: i, high: i, low: i, close: i, volume: i, volumeRest: 0, notional: i, notionalRest: 0, count: i,
    }));
    await store.writeCandles([...candles].reverse());
    t.same(await store.candles('PAGE-1', '5m', T0, T0 + DAY, 5, 5), candles.slice(5, 10));
  });

  await t.test('bookSnapshotAt picks the latest snapshot at or before the time, for that symbol only', async (t) => {
    const snap = (symbol: string, sequence: number, time: number): BookSnapshotRecord => ({
      symbol, sequence, time, checksum: sequence, bids: [[1000 - sequence, sequence]], asks: [[1000 + sequence, sequence]],
    });
    const a = snap('SNAP-1', 1, T0 + 1000);
    const b = snap('SNAP-1', 2, T0 + 2000);
    const c = snap('SNAP-1', 3, T0 + 3 * DAY);
    await store.writeBookSnapshots([b, snap('SNAP-2', 9, T0 + 1500), c, a]);
    t.equal(await store.bookSnapshotAt('SNAP-1', T0 + 999), null);
    t.same(await store.bookSnapshotAt('SNAP-1', T0 + 1000), a);
    t.same(await store.bookSnapshotAt('SNAP-1', T0 + 1999), a);
    t.same(await store.bookSnapshotAt('SNAP-1', T0 + 2000), b);
    t.same(await store.bookSnapshotAt('SNAP-1', T0 + 3 * DAY - 1), b, 'across partitions');
    t.same(await store.bookSnapshotAt('SNAP-1', MAX), c);
    t.equal(await store.bookSnapshotAt('SNAP-3', MAX), null);
  });

  await t.test('usage rows round-trip exactly; their roll-ups equal sums over the stored rows', async (t) => {
    const MINUTE = 60_000_000;
    const row = (time: number, status: number, subject: string, clientId: string | null, userAgent: string, ms: number): UsageRecord => ({
      time, responseTimeMs: ms, requestBytes: 100 + status, responseBytes: 2 ** 40 + status, status, subject, clientId, keyId: clientId === null ? null : `${clientId}-key`,
      endpoint: '/api/v1/market/:symbol/orderbook', method: 'GET', userAgent, ip: '10.0.0.1',
    });
    // Across a UTC day (T0 - 1 µs is the day before) and minutes, in three batches, so the
    // roll-ups of later batches add into rows the earlier ones made.
    const batches = [
      [row(T0 - 1, 200, 'client-a', 'client-a', 'tab\there, back\\slash\nnewline', 0.1), row(T0, 200, 'ip:10.0.0.1', null, 'é✓ agent', 0.3)],
      [row(T0 + 1, 404, 'client-a', 'client-a', 'x', 1.7), row(T0 + MINUTE - 1, 429, 'ip:10.0.0.1', null, 'x', 2.5), row(T0 + MINUTE, 200, 'client-a', 'client-a', 'x', 0.1)],
      [row(T0 + 2, 200, 'client-a', 'client-a', 'x', 0.2), row(T0 + MINUTE + 5, 429, 'client-a', 'client-a', 'x', 9.9)],
    ];
    for (const batch of batches) await store.writeUsage(batch, []);
    const stored = await raw.rows(
      `select ((extract(epoch from time) * 1000000)::bigint)::text, response_time_ms::float8, request_bytes::text, response_bytes::text, status_code::int,
         subject, client_id, key_id, endpoint, method, user_agent, ip_address from api_usage order by time, subject`, []);
    const expected = batches.flat().sort((a, b) => a.time - b.time || (a.subject < b.subject ? -1 : 1));
    t.same(
      stored.map((r) => [Number(r[0]), Number(r[1]), Number(r[2]), Number(r[3]), r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11]]),
      expected.map((u) => [u.time, Math.fround(u.responseTimeMs), u.requestBytes, u.responseBytes, u.status, u.subject, u.clientId, u.keyId, u.endpoint, u.method, u.userAgent, u.ip]),
      'every column, to the µs, NULLs, escapes and UTF-8 included',
    );
    const close = (a: unknown, b: unknown): boolean => Math.abs(Number(a) - Number(b)) < 1e-9;
    const minutes = await raw.rows(
      `select m.requests::text, s.requests::text, m.total_ms, s.total_ms, m.max_ms::float8, s.max_ms, m.request_bytes::text, s.request_bytes::text, m.response_bytes::text, s.response_bytes::text
       from api_metrics_ts m full join (
         select date_trunc('minute', time) as time, endpoint, method, status_code, count(*) as requests, sum(response_time_ms::float8) as total_ms,
           max(response_time_ms)::float8 as max_ms, sum(request_bytes) as request_bytes, sum(response_bytes) as response_bytes
         from api_usage group by 1, 2, 3, 4) s using (time, endpoint, method, status_code)`, []);
    t.equal(minutes.length, 6, 'per minute and status: 6 keys');
    for (const r of minutes) {
      t.ok(r[0] === r[1] && close(r[2], r[3]) && close(r[4], r[5]) && r[6] === r[7] && r[8] === r[9], `api_metrics_ts agrees with api_usage: ${JSON.stringify(r)}`);
    }
    const days = await raw.rows(
      `select d.requests::text, s.requests::text, d.errors::text, s.errors::text, d.rate_limited::text, s.rate_limited::text, d.total_ms, s.total_ms,
         d.request_bytes::text, s.request_bytes::text, d.response_bytes::text, s.response_bytes::text, d.client_id, s.client_id
       from client_usage_analytics d full join (
         select date_trunc('day', time, 'UTC') as day, subject, max(client_id) as client_id, count(*) as requests, count(*) filter (where status_code >= 400) as errors,
           count(*) filter (where status_code = 429) as rate_limited, sum(response_time_ms::float8) as total_ms, sum(request_bytes) as request_bytes, sum(response_bytes) as response_bytes
         from api_usage group by 1, 2) s using (day, subject)`, []);
    t.equal(days.length, 3, 'per UTC day and subject: 3 keys');
    for (const r of days) {
      t.ok(r[0] === r[1] && r[2] === r[3] && r[4] === r[5] && close(r[6], r[7]) && r[8] === r[9] && r[10] === r[11] && r[12] === r[13], `client_usage_analytics agrees with api_usage: ${JSON.stringify(r)}`);
    }
    const subjects = await raw.rows(
      `select m.requests::text, s.requests::text, m.total_ms, s.total_ms, m.request_bytes::text, s.request_bytes::text, m.response_bytes::text, s.response_bytes::text,
         (extract(epoch from m.last_time) * 1000000)::bigint::text, (extract(epoch from s.last_time) * 1000000)::bigint::text
       from subject_usage_minutes m full join (
         select date_trunc('minute', time) as time, subject, endpoint, method, status_code, count(*) as requests, sum(response_time_ms::float8) as total_ms,
           sum(request_bytes) as request_bytes, sum(response_bytes) as response_bytes, max(time) as last_time
         from api_usage group by 1, 2, 3, 4, 5) s using (time, subject, endpoint, method, status_code)`, []);
    t.equal(subjects.length, 7, 'per subject, minute and status: 7 keys');
    for (const r of subjects) {
      t.ok(r[0] === r[1] && close(r[2], r[3]) && r[4] === r[5] && r[6] === r[7] && r[8] === r[9], `subject_usage_minutes agrees with api_usage: ${JSON.stringify(r)}`);
    }
    const summary = (subject: string, from: number, to: number) => store.usageSummary(subject, from, to).then((rows) => rows.map((r) => [r.status, r.requests, r.last]));
    t.same(await summary('client-a', T0 - DAY, T0 + DAY), [[200, 3, T0 + MINUTE], [404, 1, T0 + 1], [429, 1, T0 + MINUTE + 5]], 'a subject\'s summary: its rows only, the newest time to the µs');
    t.same(await summary('client-a', T0 + 3, T0 + MINUTE), [[200, 1, T0 + 2], [404, 1, T0 + 1]], 'to the minute: the minute holding the start counts whole, the one starting at the end does not');
    t.same(await summary('client-a', T0 - 1, T0), [[200, 1, T0 - 1]], 'the day before is its own minute');
    t.same(await summary('ip:10.0.0.1', T0, T0 + MINUTE), [[200, 1, T0], [429, 1, T0 + MINUTE - 1]], 'another subject');
    t.same(await summary('client-b', T0 - DAY, T0 + DAY), [], 'a subject with no rows: none');
  });

  await t.test('concurrent writes are applied in call order', async (t) => {
    const first = { symbol: 'ORDER-1', interval: '1m', start: T0, open: 1, high: 1, low: 1, close: 1, volume: 1, volumeRest: 0, notional: 1, notionalRest: 0, count: 1 };
    const second = { ...first, close: 2 };
    await Promise.all([store.writeCandles([first]), store.writeTrades([trade('ORDER-1', 1, T0)]), store.writeCandles([second])]);
    t.equal((await store.candles('ORDER-1', '1m', T0, T0 + 1, 1, 0))[0].close, 2);
  });
}

/**
 * A database made by migration 1 alone (trades keyed symbol first) upgrades in place: `raw` is
 * an empty database; the rows written before the upgrade stay, and writing them again after it
 * adds nothing.
 */
export async function upgradeChecks(t: Test, raw: SqlClient, kind: StoreKind): Promise<void> {
  const flavor = await serverFlavor(raw, kind);
  t.comment(`schema flavor: ${flavor}`);
  t.equal(await runMigrations(raw, flavor, MIGRATIONS.slice(0, 1)), 1);
  // Migration 1 used to create this continuous aggregate on TimescaleDB; migration 4 drops it.
  if (flavor === 'timescale') await raw.exec(OLD_TRADES_CANDLES_1M);
  const before = new SqlStore(raw, kind, flavor);
  const batch = Array.from({ length: 50 }, (_, i) => trade('UP-1', i + 1, T0 + i * 1000));
  await before.writeTrades(batch);
  t.equal(await runMigrations(raw, flavor), MIGRATIONS.length - 1, 'the later migrations run');
  t.same(await raw.rows(`select to_regclass('trades_candles_1m')::text`, []), [[null]], 'no continuous aggregate left');
  if (flavor === 'timescale') {
    t.same(await raw.rows(`select count(*)::int from timescaledb_information.jobs where proc_name = 'policy_refresh_continuous_aggregate'`, []), [[0]], 'nor its refresh policy');
  }
  const after = new SqlStore(raw, kind, flavor);
  await after.writeTrades([...batch, trade('UP-1', 51, T0 + 50_000)]);
  t.same((await after.trades('UP-1', T0, T0 + DAY, 100, 0)).map((x) => x.tradeId), Array.from({ length: 51 }, (_, i) => i + 1), 'kept, and not stored twice');

  // Usage accounting before migration 4: api_usage's rows are summed into subject_usage_minutes.
  t.equal(await runMigrations(raw, flavor, ACCOUNTING_MIGRATIONS.slice(0, 3), ACCOUNTING_LEDGER), 3);
  await raw.rows(
    `insert into api_usage (time, response_time_ms, request_bytes, response_bytes, status_code, subject, client_id, key_id, endpoint, method, user_agent, ip_address)
     select timestamptz 'epoch' + t * interval '1 microsecond', 0.5, 10, 1000, 200, 'client-up', 'client-up', null, '/api/v1/time', 'GET', 'x', '10.0.0.1'
     from unnest($1::bigint[]) t`,
    [`{${T0 - 1},${T0},${T0 + 5},${T0 + 60_000_000}}`],
  );
  t.equal(await runMigrations(raw, flavor, ACCOUNTING_MIGRATIONS, ACCOUNTING_LEDGER), 1, 'accounting migration 4 runs');
  t.same(await raw.rows(`select count(*)::int from pg_index where indrelid = 'api_usage'::regclass`, []), [[0]], 'api_usage\'s index is gone');
  const summary = () => after.usageSummary('client-up', T0 - DAY, T0 + DAY).then((rows) => rows.map((r) => [r.endpoint, r.requests, r.totalMs, r.responseBytes, r.last]));
  t.same(await summary(), [['/api/v1/time', 4, 2, 4000, T0 + 60_000_000]], 'the rows before it are in the caller\'s summary');
  t.same(await after.usageSummary('client-up', T0, T0 + 1).then((rows) => rows.map((r) => r.requests)), [2], 'per minute, as they were stored');
  if (flavor === 'partitioned') {
    t.same(await raw.rows(`select count(*)::int from subject_usage_minutes_default`, []), [[0]], 'backfilled into daily partitions, not the default one');
  }
  await after.writeUsage([{ time: T0 + 6, responseTimeMs: 0.5, requestBytes: 10, responseBytes: 1000, status: 200, subject: 'client-up', clientId: 'client-up', keyId: null, endpoint: '/api/v1/time', method: 'GET', userAgent: 'x', ip: '10.0.0.1' }], []);
  t.same(await summary(), [['/api/v1/time', 5, 2.5, 5000, T0 + 60_000_000]], 'and a batch after it adds into them');
}

/** The continuous aggregate as migration 1 created it on TimescaleDB before migration 4 existed. */
const OLD_TRADES_CANDLES_1M = `
create materialized view trades_candles_1m with (timescaledb.continuous) as
select symbol, time_bucket(interval '1 minute', time) as start,
       first(price, time) as open, max(price) as high, min(price) as low, last(price, time) as close,
       sum(size) as volume, sum(price::numeric * size) as notional, count(*) as count
from trades
group by symbol, time_bucket(interval '1 minute', time)
with no data;
select add_continuous_aggregate_policy('trades_candles_1m',
  start_offset => interval '1 day', end_offset => interval '1 minute', schedule_interval => interval '1 minute');
`;
