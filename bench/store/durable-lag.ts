import { guardChildren } from '../gateway/exit-guard';
import { DataDir } from '../gateway/data-dir';
import { acceptedEvents, delay, Health, ServerProcess } from '../gateway/server-process';
import { runStandalone } from '../standalone';
import { loadAverage, processCpuSeconds, round } from '../system';
import { benchDatabase } from './bench-postgres';

/**
 * DurableLag: the whole product writing to the local PostgreSQL. A bookcast server (100
 * generated symbols, the simulator at a high --rate, batches of 10k rows or --batch-ms) runs
 * its book workers and its persistence worker against a fresh database; per rate:
 * - trades/s made durable, from the server's own counters (/api/v1/health persistence.trades);
 * - the event → durable lag per trade as the server reports it (persistence.durable_lag_ms:
 *   p50/p99/max over its last minute, which here covers the whole run, warm-up included, since
 *   a run is shorter than that window);
 * - CPU: the database backends serving the server (and the whole PostgreSQL server), and the
 *   bookcast process, as deltas over the measured seconds.
 *
 * The simulator stamps each event with its scheduled arrival time (open loop), so the lag
 * includes any queueing in front of the books as well as the batching and the COPY + commit.
 *
 * Budget: `seconds` measured per point, after ~2 s of start-up and 2 s of warm-up. Quick: 20k
 * and 100k arrivals/s with the default --batch-ms 100, and 100k with --batch-ms 20 (a row waits
 * in its batch up to that long); full: also 50k and 200k.
 */

const SYMBOLS = 100;
const WARM_UP_MS = 2000;

interface Persistence {
  trades: number;
  failed_writes: number;
  spool_rows: number;
  durable_lag_ms: { p50: number | null; p99: number | null; max: number | null; rows: number };
}

type FullHealth = Health & { persistence: Persistence };

async function atRate(rate: number, batchMs: number, seconds: number): Promise<object> {
  const db = await benchDatabase(`lag_${rate}_${batchMs}`);
  if ('skipped' in db) return { rate, batchMs, ...db };
  const dataDir = new DataDir();
  let server: ServerProcess | null = null;
  const release = guardChildren(() => {
    server?.killNow();
    dataDir.remove();
  });
  try {
    server = await ServerProcess.start(
      ['--port', '0', '--symbols', '', '--symbol-count', String(SYMBOLS), '--rate', String(rate), '--batch-ms', String(batchMs), '--database-url', db.url, ...dataDir.args],
      60_000,
    );
    await delay(WARM_UP_MS);
    const health = async () => (await server!.health()) as FullHealth;
    await db.probe.refresh();
    const h0 = await health();
    const db0 = db.probe.read();
    const cpu0 = processCpuSeconds(server.pid);
    const t0 = performance.now();
    await delay(seconds * 1000);
    const h1 = await health();
    const elapsed = (performance.now() - t0) / 1000;
    const db1 = db.probe.read();
    const cpu1 = processCpuSeconds(server.pid);
    const trades = h1.persistence.trades - h0.persistence.trades;
    const delta = (a: number | null, b: number | null): number | null => (a === null || b === null ? null : round(b - a, 2));
    const backend = delta(db0.own, db1.own);
    return {
      rate,
      batchMs,
      seconds: round(elapsed, 2),
      eventsPerSecond: Math.round((acceptedEvents(h1) - acceptedEvents(h0)) / elapsed),
      tradesPerSecond: Math.round(trades / elapsed),
      durableLagMs: h1.persistence.durable_lag_ms,
      spoolRowsAtEnd: h1.persistence.spool_rows,
      failedWrites: h1.persistence.failed_writes,
      databaseBackendCpuSeconds: backend,
      databaseServerCpuSeconds: delta(db0.server, db1.server),
      backendMicrosPerTrade: backend === null || trades === 0 ? null : round((backend / trades) * 1e6, 2),
      serverCpuCores: cpu0 === null || cpu1 === null ? null : round((cpu1 - cpu0) / elapsed, 2),
      loadAverage: loadAverage(),
    };
  } catch (error) {
    return { rate, batchMs, error: String((error as Error).message ?? error) + (server ? `\n${server.recentOutput}` : '') };
  } finally {
    await server?.stop();
    release();
    dataDir.remove();
    await db.drop();
  }
}

export async function run(opts: { seconds: number; full: boolean }): Promise<object> {
  // [arrivals/s, --batch-ms]: the default batching at rising rates, then shorter batches.
  const points = opts.full
    ? [[20_000, 100], [50_000, 100], [100_000, 100], [200_000, 100], [100_000, 20]]
    : [[20_000, 100], [100_000, 100], [100_000, 20]];
  const results: object[] = [];
  for (const [rate, batchMs] of points) results.push(await atRate(rate, batchMs, opts.seconds));
  return { name: 'DurableLag', symbols: SYMBOLS, results };
}

if (require.main === module) runStandalone(run, 8);
