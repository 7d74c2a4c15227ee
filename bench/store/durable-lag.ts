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
 * With --store-events (points marked `events`), the persistence worker also follows the input
 * journal into order_events, one row per input event: order events/s stored, how far the tail
 * is behind the journal at the end, and the backend CPU per row of either table; the backend CPU
 * the events add, per event, is the difference with the point at the same rate without them.
 *
 * EventBackfill: the ceiling of the events path alone (journal read, encode, COPY into
 * order_events). A server records `seconds` of the simulator at 200k arrivals/s without
 * --store-events; a second one, `--source none --store-events true` on the same data directory
 * (no feed, the books idle), stores that journal as fast as it can: order events/s and backend
 * CPU per row, from its first answer to the moment it has caught up (rows stored before it
 * answers, while the books load, are left out).
 *
 * Budget: `seconds` measured per point, after ~2 s of start-up and 2 s of warm-up. Quick: 20k
 * and 100k arrivals/s with the default --batch-ms 100, 100k with --batch-ms 20 (a row waits
 * in its batch up to that long), and 100k with --store-events; full: also 50k and 200k, and
 * 200k with --store-events.
 */

const SYMBOLS = 100;
const WARM_UP_MS = 2000;
const BACKFILL_LIMIT_MS = 120_000;

interface Persistence {
  trades: number;
  failed_writes: number;
  spool_rows: number;
  durable_lag_ms: { p50: number | null; p99: number | null; max: number | null; rows: number };
  order_events: { stored: number; behind: number; skipped: number } | null;
}

type FullHealth = Health & { persistence: Persistence };

interface Point {
  rate: number;
  batchMs: number;
  storeEvents: boolean;
}

async function atRate({ rate, batchMs, storeEvents }: Point, seconds: number): Promise<Record<string, unknown>> {
  const db = await benchDatabase(`lag_${rate}_${batchMs}${storeEvents ? '_events' : ''}`);
  if ('skipped' in db) return { rate, batchMs, storeEvents, ...db };
  const dataDir = new DataDir();
  let server: ServerProcess | null = null;
  const release = guardChildren(() => {
    server?.killNow();
    dataDir.remove();
  });
  try {
    server = await ServerProcess.start(
      [
        '--port', '0', '--symbols', '', '--symbol-count', String(SYMBOLS), '--rate', String(rate), '--batch-ms', String(batchMs), '--database-url', db.url,
        '--store-events', String(storeEvents), ...dataDir.args,
      ],
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
    const events = storeEvents ? h1.persistence.order_events!.stored - h0.persistence.order_events!.stored : 0;
    const delta = (a: number | null, b: number | null): number | null => (a === null || b === null ? null : round(b - a, 2));
    const backend = delta(db0.own, db1.own);
    return {
      rate,
      batchMs,
      storeEvents,
      seconds: round(elapsed, 2),
      eventsPerSecond: Math.round((acceptedEvents(h1) - acceptedEvents(h0)) / elapsed),
      tradesPerSecond: Math.round(trades / elapsed),
      durableLagMs: h1.persistence.durable_lag_ms,
      spoolRowsAtEnd: h1.persistence.spool_rows,
      failedWrites: h1.persistence.failed_writes,
      databaseBackendCpuSeconds: backend,
      databaseServerCpuSeconds: delta(db0.server, db1.server),
      backendMicrosPerTrade: backend === null || trades === 0 ? null : round((backend / trades) * 1e6, 2),
      orderEventsPerSecond: storeEvents ? Math.round(events / elapsed) : null,
      orderEventsBehindAtEnd: h1.persistence.order_events?.behind ?? null,
      orderEventsSkipped: h1.persistence.order_events?.skipped ?? null,
      backendMicrosPerRow: backend === null || trades + events === 0 ? null : round((backend / (trades + events)) * 1e6, 2),
      backendCpuPerSecond: backend === null ? null : round(backend / elapsed, 3),
      serverCpuCores: cpu0 === null || cpu1 === null ? null : round((cpu1 - cpu0) / elapsed, 2),
      loadAverage: loadAverage(),
    };
  } catch (error) {
    return { rate, batchMs, storeEvents, error: String((error as Error).message ?? error) + (server ? `\n${server.recentOutput}` : '') };
  } finally {
    await server?.stop();
    release();
    dataDir.remove();
    await db.drop();
  }
}

async function backfill(seconds: number): Promise<Record<string, unknown>> {
  const db = await benchDatabase('backfill');
  if ('skipped' in db) return db;
  const dataDir = new DataDir();
  let server: ServerProcess | null = null;
  const release = guardChildren(() => {
    server?.killNow();
    dataDir.remove();
  });
  const common = ['--port', '0', '--symbols', '', '--symbol-count', String(SYMBOLS), '--database-url', db.url, ...dataDir.args];
  try {
    server = await ServerProcess.start([...common, '--rate', '200000'], 60_000);
    await delay(seconds * 1000);
    await server.stop();
    server = await ServerProcess.start([...common, '--source', 'none', '--store-events', 'true'], 120_000);
    const events = async () => ((await server!.health()) as FullHealth).persistence.order_events!;
    await db.probe.refresh();
    const e0 = await events();
    const db0 = db.probe.read();
    const t0 = performance.now();
    let e1 = e0;
    while (e1.behind > 0) {
      if (performance.now() - t0 > BACKFILL_LIMIT_MS) throw new Error(`still ${e1.behind} events behind after ${BACKFILL_LIMIT_MS} ms`);
      await delay(20);
      e1 = await events();
    }
    const elapsed = (performance.now() - t0) / 1000;
    const db1 = db.probe.read();
    const rows = e1.stored - e0.stored;
    const backend = db0.own === null || db1.own === null ? null : db1.own - db0.own;
    return {
      journalEvents: e1.stored,
      storedBeforeFirstAnswer: e0.stored,
      seconds: round(elapsed, 2),
      orderEventsPerSecond: Math.round(rows / elapsed),
      backendMicrosPerRow: backend === null || rows === 0 ? null : round((backend / rows) * 1e6, 2),
      backendCpuCores: backend === null ? null : round(backend / elapsed, 2),
      loadAverage: loadAverage(),
    };
  } catch (error) {
    return { error: String((error as Error).message ?? error) + (server ? `\n${server.recentOutput}` : '') };
  } finally {
    await server?.stop();
    release();
    dataDir.remove();
    await db.drop();
  }
}

export async function run(opts: { seconds: number; full: boolean }): Promise<object> {
  // The default batching at rising rates, then shorter batches, then order events as well.
  const point = (rate: number, batchMs: number, storeEvents = false): Point => ({ rate, batchMs, storeEvents });
  const points = opts.full
    ? [point(20_000, 100), point(50_000, 100), point(100_000, 100), point(200_000, 100), point(100_000, 20), point(100_000, 100, true), point(200_000, 100, true)]
    : [point(20_000, 100), point(100_000, 100), point(100_000, 20), point(100_000, 100, true)];
  const results: Record<string, unknown>[] = [];
  for (const p of points) results.push(await atRate(p, opts.seconds));
  // What the events cost the database: backend CPU beyond the same rate's point without them, per event.
  for (const r of results) {
    const base = results.find((b) => b.rate === r.rate && b.batchMs === r.batchMs && b.storeEvents === false);
    if (r.storeEvents !== true || typeof r.backendCpuPerSecond !== 'number' || typeof base?.backendCpuPerSecond !== 'number' || !r.orderEventsPerSecond) continue;
    r.extraBackendMicrosPerEvent = round(((r.backendCpuPerSecond - base.backendCpuPerSecond) / (r.orderEventsPerSecond as number)) * 1e6, 2);
  }
  return { name: 'DurableLag', symbols: SYMBOLS, results, eventBackfill: await backfill(opts.seconds) };
}

if (require.main === module) runStandalone(run, 8);
