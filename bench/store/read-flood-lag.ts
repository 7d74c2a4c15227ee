import { performance } from 'node:perf_hooks';
import { guardChildren } from '../gateway/exit-guard';
import { DataDir } from '../gateway/data-dir';
import { delay, ServerProcess } from '../gateway/server-process';
import { runStandalone } from '../standalone';
import { loadAverage, round } from '../system';
import { benchDatabase } from './bench-postgres';

/**
 * ReadFloodLag: the storage lag (event → committed, the server's persistence.durable_lag_ms) while
 * clients flood the history API, against the same run without them. One server per point (the
 * lag window is the server's last minute, so a point gets its own): the simulator at `rate`,
 * --batch-ms 20, embedded PGlite or the local PostgreSQL; `clients` loops each keep one
 * `trades?start=&end=&limit=1000` in flight (up to 10 000 stored rows read per request), plus as
 * many bulk `as_of` requests. Reported: lag p50/p99/max, trades stored per second, reads answered
 * and refused (BUSY) per second. Before reads went behind writes, 64 such clients raised the lag
 * from ~0.1 s to ~2 s.
 */

interface Persistence {
  trades: number;
  durable_lag_ms: { p50: number | null; p99: number | null; max: number | null; rows: number };
  reads?: { pending: number; refused: number };
}

const RATE = 2000;
const WARM_UP_MS = 3000;

async function point(store: 'pglite' | 'postgres', clients: number, seconds: number): Promise<Record<string, unknown>> {
  const db = store === 'postgres' ? await benchDatabase(`read_flood_${clients}`) : null;
  if (db !== null && 'skipped' in db) return { store, clients, ...db };
  const dataDir = new DataDir();
  let server: ServerProcess | null = null;
  let stop = false;
  const release = guardChildren(() => {
    server?.killNow();
    dataDir.remove();
  });
  try {
    server = await ServerProcess.start(
      ['--port', '0', '--symbols', 'BTC/USD,ETH/USD', '--rate', String(RATE), '--batch-ms', '20', ...dataDir.args, ...(db === null ? [] : ['--database-url', db.url])],
      180_000,
    );
    await delay(WARM_UP_MS);
    const base = `http://${server.host}:${server.port}`;
    // A longer wait than ServerProcess.health's: the front answers it between flooding requests.
    const health = async () => (((await (await fetch(`${base}/api/v1/health`, { signal: AbortSignal.timeout(30_000) })).json()) as { persistence: Persistence }).persistence);
    let answered = 0;
    let refused = 0;
    let failed = 0;
    const trades = `${base}/api/v1/market/BTC-USD/trades?start=2000-01-01T00:00:00Z&end=2199-01-01T00:00:00Z&limit=1000`;
    const asOf = JSON.stringify({ symbols: ['BTC/USD', 'ETH/USD'], as_of: Date.now() - 2000 });
    const loop = async (bulk: boolean) => {
      while (!stop) {
        try {
          const res = bulk ? await fetch(`${base}/api/v1/market-data/bulk`, { method: 'POST', body: asOf }) : await fetch(trades);
          await res.arrayBuffer();
          if (res.status === 503) refused++;
          else answered++;
        } catch {
          // A kept-alive connection the server closed meanwhile: counted, and the loop goes on.
          failed++;
        }
      }
    };
    const h0 = await health();
    const t0 = performance.now();
    const loops = Array.from({ length: clients * 2 }, (_, i) => loop(i % 2 === 1));
    await delay(seconds * 1000);
    const h1 = await health();
    const elapsed = (performance.now() - t0) / 1000;
    stop = true;
    await Promise.all(loops);
    return {
      store,
      clients,
      seconds: round(elapsed, 2),
      durableLagMs: h1.durable_lag_ms,
      tradesStoredPerSecond: Math.round((h1.trades - h0.trades) / elapsed),
      readsAnsweredPerSecond: Math.round(answered / elapsed),
      readsRefusedPerSecond: Math.round(refused / elapsed),
      requestsFailed: failed,
      loadAverage: loadAverage(),
    };
  } catch (error) {
    return { store, clients, error: String((error as Error).message ?? error) + (server ? `\n${server.recentOutput}` : '') };
  } finally {
    stop = true;
    await server?.stop();
    release();
    dataDir.remove();
    if (db !== null && !('skipped' in db)) await db.drop();
  }
}

export async function run(opts: { seconds: number; full: boolean }): Promise<object> {
  const results: Record<string, unknown>[] = [];
  for (const store of ['pglite', 'postgres'] as const) {
    for (const clients of opts.full ? [0, 16, 64, 256] : [0, 64]) results.push(await point(store, clients, opts.seconds));
  }
  return { name: 'ReadFloodLag', rate: RATE, results };
}

if (require.main === module) runStandalone(run, 15);
