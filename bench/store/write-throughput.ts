import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { runMigrations } from '../../src/store/migrations';
import { openStore } from '../../src/store/open-store';
import { connectPostgres, postgresClient } from '../../src/store/postgres-store';
import { MIGRATIONS } from '../../src/store/schema';
import { SqlStore } from '../../src/store/sql-store';
import { Store, TradeRecord } from '../../src/store/store';
import { round } from '../system';
import { runStandalone } from '../standalone';
import { BenchDatabase, benchDatabase, CpuProbe } from './bench-postgres';

/**
 * WriteThroughput: trades/s persisted through Store.writeTrades in batches of 10k rows (binary
 * COPY, one statement per batch, durable at return: synchronous_commit stays on) into the
 * local PostgreSQL and into PGlite; then the same batches written again, which takes the
 * idempotent path (COPY into a staging table, INSERT … ON CONFLICT DO NOTHING); and, as the
 * reference peer, row-by-row INSERT (one statement and one commit per trade, prepared).
 *
 * Two PostgreSQL measurements explain the product's choices (schema.ts, README "Storage"):
 * - symbolFirstKey: the same COPY into a schema stopped at migration 1, whose trades key is
 *   (symbol, time, trade_id): every row descends the B-tree to one of 100 right edges.
 * - asyncCommit: the product's schema with synchronous_commit = off in the writing session, as a
 *   reference only: the product keeps it on (a commit it acknowledged must survive a crash of the
 *   database, and nothing re-sends rows the database lost).
 *
 * PostgreSQL's own CPU is read from /proc: the backends serving this benchmark's database, and
 * the whole server (postmaster and all its children: WAL writer, checkpointer, other
 * sessions), as deltas over each measurement. PGlite runs inside this process, so its CPU is
 * the process's.
 *
 * Budget: `seconds` is shared: 25% PostgreSQL COPY, 10% its re-write, 15% the symbol-first key,
 * 10% asynchronous commit, 10% row-by-row INSERT, 20% PGlite COPY, 10% its re-write. PostgreSQL
 * from BOOKCAST_BENCH_POSTGRES (bench-postgres.ts): fresh databases, dropped afterwards.
 */

const BATCH = 10_000;
const SYMBOLS = Array.from({ length: 100 }, (_, i) => `SYM-${String(i).padStart(3, '0')}`);

/** Trade batches filled in place: one preallocated array of records reused for every batch. */
class TradeFlow {
  readonly batch: TradeRecord[];
  private next = 1;
  private time = Date.now() * 1000;

  constructor(size: number) {
    this.batch = Array.from({ length: size }, () => ({ symbol: '', sequence: 0, tradeId: 0, price: 0, size: 0, side: 0, makerOrderId: 0, time: 0 }));
  }

  fill(): TradeRecord[] {
    for (const r of this.batch) {
      const id = this.next++;
      r.symbol = SYMBOLS[id % SYMBOLS.length];
      r.sequence = id * 3;
      r.tradeId = id;
      r.price = 100_000_000_000 + ((id * 7919) % 1_000_000);
      r.size = 1 + (id % 5000) * 1_000_000;
      r.side = id & 1;
      r.makerOrderId = id * 2 + 1;
      r.time = this.time += 2;
    }
    return this.batch;
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
}

/** Calls write() until `seconds` pass; rows/s, batch latency and CPU deltas. */
export async function measure(seconds: number, rowsPerCall: number, write: () => Promise<void>, probe: CpuProbe | null): Promise<object> {
  await write(); // warm-up: connections, prepared statements, partitions
  await probe?.refresh();
  const cpu0 = probe?.read();
  const client0 = process.cpuUsage();
  const latencies: number[] = [];
  const start = performance.now();
  const end = start + seconds * 1000;
  let rows = 0;
  while (performance.now() < end) {
    const t = performance.now();
    await write();
    latencies.push(performance.now() - t);
    rows += rowsPerCall;
  }
  const elapsed = (performance.now() - start) / 1000;
  const client = process.cpuUsage(client0);
  const cpu1 = probe?.read();
  latencies.sort((a, b) => a - b);
  const delta = (a: number | null | undefined, b: number | null | undefined): number | null => (a == null || b == null ? null : round(b - a, 2));
  const dbOwn = delta(cpu0?.own, cpu1?.own);
  return {
    rows,
    seconds: round(elapsed, 2),
    rowsPerSecond: Math.round(rows / elapsed),
    callLatencyMs: { p50: round(percentile(latencies, 50), 2), p99: round(percentile(latencies, 99), 2), max: round(latencies[latencies.length - 1] ?? 0, 2) },
    clientCpuSeconds: round((client.user + client.system) / 1e6, 2),
    databaseBackendCpuSeconds: dbOwn,
    databaseServerCpuSeconds: delta(cpu0?.server, cpu1?.server),
    rowsPerBackendCpuSecond: dbOwn ? Math.round(rows / dbOwn) : null,
  };
}

/** Writes for `seconds`, then re-writes the batches already written (the idempotent path). */
async function copyAndRewrite(store: Store, copySeconds: number, rewriteSeconds: number, probe: CpuProbe | null): Promise<object> {
  const flow = new TradeFlow(BATCH);
  const copy = await measure(copySeconds, BATCH, () => store.writeTrades(flow.fill()), probe);
  // The last batch filled is stored: writing it again conflicts on every row.
  const rewrite = await measure(rewriteSeconds, BATCH, () => store.writeTrades(flow.batch), probe);
  return { copy, rewrite };
}

interface PostgresBudget {
  copy: number;
  rewrite: number;
  symbolFirstKey: number;
  asyncCommit: number;
  insert: number;
}

/** Runs `measure` against a fresh database; the result, or why PostgreSQL was skipped. */
async function withDatabase(suffix: string, measure: (db: BenchDatabase) => Promise<object>): Promise<object> {
  const db = await benchDatabase(suffix);
  if ('skipped' in db) return db;
  try {
    return await measure(db);
  } finally {
    await db.drop();
  }
}

/** A store over one connection of its own, migrated up to `version` only. */
async function storeAt(url: string, version: number, session = ''): Promise<SqlStore> {
  const client = postgresClient(connectPostgres(url, { max: 1 }));
  if (session) await client.exec(session);
  await runMigrations(client, 'partitioned', MIGRATIONS.filter((m) => m.version <= version));
  // Not store.migrate(): it would apply the later migrations too. Partitions come with the first write.
  return new SqlStore(client, 'postgres', 'partitioned');
}

async function postgresScenarios(budget: PostgresBudget): Promise<object> {
  const product = await withDatabase('copy', async (db) => {
    const store = await openStore({ databaseUrl: db.url, dataDir: '' });
    const { copy, rewrite } = (await copyAndRewrite(store, budget.copy, budget.rewrite, db.probe)) as { copy: object; rewrite: object };
    await store.close();

    const sql = connectPostgres(db.url, { max: 1 });
    const flow = new TradeFlow(1);
    const insert = await measure(
      budget.insert,
      1,
      async () => {
        const r = flow.fill()[0];
        await sql.unsafe(
          `insert into trades (symbol, sequence, trade_id, price, size, side, maker_order_id, time)
           values ($1, $2, $3, $4, $5, $6, $7, timestamptz 'epoch' + $8::bigint * interval '1 microsecond')`,
          [r.symbol, r.sequence, r.tradeId + 1e12, r.price, r.size, r.side, r.makerOrderId, r.time],
          { prepare: true },
        );
      },
      db.probe,
    );
    await sql.end({ timeout: 5 });
    return { server: db.server, kind: store.kind, copyBatches: copy, rewriteBatches: rewrite, rowByRowInsert: insert };
  });
  if ('skipped' in product) return product;
  const variant = (suffix: string, version: number, session: string, seconds: number) =>
    withDatabase(suffix, async (db) => {
      const store = await storeAt(db.url, version, session);
      const flow = new TradeFlow(BATCH);
      const result = await measure(seconds, BATCH, () => store.writeTrades(flow.fill()), db.probe);
      await store.close();
      return result;
    });
  const latest = MIGRATIONS[MIGRATIONS.length - 1].version;
  return {
    ...product,
    symbolFirstKey: await variant('symbol_first', 1, '', budget.symbolFirstKey),
    asyncCommit: await variant('async_commit', latest, 'set synchronous_commit = off', budget.asyncCommit),
  };
}

async function pgliteScenarios(copySeconds: number, rewriteSeconds: number): Promise<object> {
  const dataDir = mkdtempSync(join(tmpdir(), 'bookcast-bench-pglite-'));
  try {
    const store = await openStore({ dataDir });
    const { copy, rewrite } = (await copyAndRewrite(store, copySeconds, rewriteSeconds, null)) as { copy: object; rewrite: object };
    await store.close();
    return { copyBatches: copy, rewriteBatches: rewrite, note: 'PGlite runs in this process: clientCpuSeconds includes the database' };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function run(opts: { seconds: number; full: boolean }): Promise<object> {
  const s = opts.seconds;
  return {
    name: 'WriteThroughput',
    batchRows: BATCH,
    symbols: SYMBOLS.length,
    postgres: await postgresScenarios({ copy: s * 0.25, rewrite: s * 0.1, symbolFirstKey: s * 0.15, asyncCommit: s * 0.1, insert: s * 0.1 }),
    pglite: await pgliteScenarios(s * 0.2, s * 0.1),
  };
}

if (require.main === module) runStandalone(run, 20);
