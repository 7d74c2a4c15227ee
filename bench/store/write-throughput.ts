import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import postgres from 'postgres';
import { openStore } from '../../src/store/open-store';
import { connectPostgres } from '../../src/store/postgres-store';
import { Store, TradeRecord } from '../../src/store/store';
import { processCpuSeconds, round } from '../system';
import { runStandalone } from '../standalone';

/**
 * WriteThroughput: trades/s persisted through Store.writeTrades in batches of 10k rows (binary
 * COPY, one statement per batch, durable at return: synchronous_commit stays on) into the
 * local PostgreSQL and into PGlite; then the same batches written again, which takes the
 * idempotent path (COPY into a staging table, INSERT … ON CONFLICT DO NOTHING); and, as the
 * reference peer, row-by-row INSERT (one statement and one commit per trade, prepared).
 *
 * PostgreSQL's own CPU is read from /proc: the backends serving this benchmark's database, and
 * the whole server (postmaster and all its children: WAL writer, checkpointer, other
 * sessions), as deltas over each measurement. PGlite runs inside this process, so its CPU is
 * the process's.
 *
 * Budget: `seconds` is shared: 35% PostgreSQL COPY, 15% its re-write, 15% row-by-row INSERT,
 * 25% PGlite COPY, 10% its re-write. PostgreSQL from BOOKCAST_BENCH_POSTGRES (an admin URL;
 * default postgres://postgres@127.0.0.1:5432/postgres): a fresh database, dropped afterwards.
 */

const ADMIN_URL = process.env.BOOKCAST_BENCH_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/postgres';
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

/** CPU seconds so far of this benchmark's backends (listed again by refresh) and of the whole server. */
interface CpuProbe {
  refresh(): Promise<void>;
  read(): { own: number | null; server: number | null };
}

/** utime + stime of the processes whose parent is `postmaster`, plus the postmaster. */
function serverCpu(postmaster: number): number | null {
  const own = processCpuSeconds(postmaster);
  if (own === null) return null;
  let total = own;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === postmaster) total += (Number(fields[11]) + Number(fields[12])) / 100;
    } catch {
      // The process ended between listing and reading.
    }
  }
  return total;
}

function parentPid(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return null;
  }
}

async function postgresCpuProbe(admin: postgres.Sql, database: string): Promise<CpuProbe> {
  const [{ pid }] = await admin`select pg_backend_pid() as pid`;
  const postmaster = parentPid(pid);
  let backends: number[] = [];
  return {
    read() {
      let own: number | null = 0;
      for (const b of backends) {
        const s = processCpuSeconds(b);
        if (s === null) own = null;
        else if (own !== null) own += s;
      }
      return { own, server: postmaster === null ? null : serverCpu(postmaster) };
    },
    async refresh() {
      const rows = await admin`select pid from pg_stat_activity where datname = ${database}`;
      backends = rows.map((r) => r.pid as number);
    },
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
}

/** Calls write() until `seconds` pass; rows/s, batch latency and CPU deltas. */
async function measure(seconds: number, rowsPerCall: number, write: () => Promise<void>, probe: CpuProbe | null): Promise<object> {
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

async function postgresScenarios(copySeconds: number, rewriteSeconds: number, insertSeconds: number): Promise<object> {
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => undefined, connect_timeout: 5 });
  const database = `bookcast_bench_${process.pid}`;
  try {
    await admin.unsafe(`create database ${database}`);
  } catch (error) {
    await admin.end({ timeout: 1 });
    return { skipped: `PostgreSQL unreachable at ${ADMIN_URL}: ${(error as Error).message}` };
  }
  const url = ADMIN_URL.replace(/\/[^/]*$/, `/${database}`);
  try {
    const probe = await postgresCpuProbe(admin, database);
    const [{ version }] = await admin`select current_setting('server_version') as version`;
    const store = await openStore({ databaseUrl: url, dataDir: '' });
    const { copy, rewrite } = (await copyAndRewrite(store, copySeconds, rewriteSeconds, probe)) as { copy: object; rewrite: object };
    await store.close();

    const sql = connectPostgres(url, { max: 1 });
    const flow = new TradeFlow(1);
    const insert = await measure(
      insertSeconds,
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
      probe,
    );
    await sql.end({ timeout: 5 });
    return { server: `PostgreSQL ${version}`, kind: store.kind, copyBatches: copy, rewriteBatches: rewrite, rowByRowInsert: insert };
  } finally {
    await admin.unsafe(`drop database if exists ${database} with (force)`);
    await admin.end({ timeout: 5 });
  }
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
    postgres: await postgresScenarios(s * 0.35, s * 0.15, s * 0.15),
    pglite: await pgliteScenarios(s * 0.25, s * 0.1),
  };
}

if (require.main === module) runStandalone(run, 20);
