import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Store, UsageRecord } from '../../src/store/store';
import { BATCH_ROWS } from '../../src/accounting/usage-batcher';
import { commandOption, runStandalone } from '../standalone';
import { loadAverage, round } from '../system';
import { benchDatabase } from './bench-postgres';
import { measure } from './write-throughput';

/**
 * UsageWrite: CPU per usage row (one per answered REST request) through Store.writeUsage, in the
 * usage batcher's full batches (BATCH_ROWS; `--batch n` for another size), into PGlite (in this process: its CPU is the process's)
 * and into the local PostgreSQL (its backend's CPU from /proc). Under wrk the persistence worker
 * spends about as much CPU on these rows as the front thread on the answers, so this is most of
 * the gap between bookcast's REST CPU per answer and bare uWS's (issue 15, goal 5).
 *
 * Rows look like a REST load's: a few subjects and endpoints, statuses mostly 200, and the clock
 * advancing ~40 µs per row, so a batch spans minutes' boundaries now and then.
 *
 * `--against <checkout>` measures another build's store too (its dist/src/store/open-store.js),
 * the two taking turns in each round (`--rounds n`, default 2): compare within a run.
 */

const BATCH = Number(commandOption('--batch') ?? BATCH_ROWS);
const ENDPOINTS = ['/api/v1/market/:symbol/orderbook', '/api/v1/market-data/:symbol/latest', '/api/v1/market/:symbol/trades'];

class UsageFlow {
  private time = Date.now() * 1000;
  private next = 0;

  fill(): UsageRecord[] {
    const rows: UsageRecord[] = new Array(BATCH);
    for (let i = 0; i < BATCH; i++) {
      const n = this.next++;
      const keyed = n % 3 === 0;
      rows[i] = {
        time: (this.time += 40),
        responseTimeMs: 0.05 + (n % 97) / 100,
        requestBytes: 110 + (n % 7),
        responseBytes: 800 + (n % 500),
        status: n % 50 === 0 ? 404 : n % 71 === 0 ? 429 : 200,
        subject: keyed ? `client-${n % 5}` : `ip:127.0.0.${n % 4}`,
        clientId: keyed ? `client-${n % 5}` : null,
        keyId: keyed ? `key-${n % 5}` : null,
        endpoint: ENDPOINTS[n % ENDPOINTS.length],
        method: 'GET',
        userAgent: 'wrk',
        ip: `127.0.0.${n % 4}`,
      };
    }
    return rows;
  }
}

type OpenStore = (opts: { databaseUrl?: string; dataDir: string }) => Promise<Store>;

interface Build {
  name: string;
  openStore: OpenStore;
}

function builds(): Build[] {
  const list: Build[] = [{ name: 'this build', openStore: require('../../src/store/open-store').openStore }];
  const against = commandOption('--against');
  if (against !== undefined) list.push({ name: against, openStore: require(path.resolve(against, 'dist/src/store/open-store.js')).openStore });
  return list;
}

async function pglite(build: Build, seconds: number): Promise<object> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'bookcast-bench-usage-'));
  try {
    const store = await build.openStore({ dataDir });
    const flow = new UsageFlow();
    const m = (await measure(seconds, BATCH, () => store.writeUsage(flow.fill(), []), null)) as { rows: number; clientCpuSeconds: number };
    await store.close();
    return { ...m, cpuMicrosPerRow: round((m.clientCpuSeconds / m.rows) * 1e6, 2) };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function postgres(build: Build, seconds: number, suffix: string): Promise<object> {
  const db = await benchDatabase(suffix);
  if ('skipped' in db) return db;
  try {
    const store = await build.openStore({ databaseUrl: db.url, dataDir: '' });
    const flow = new UsageFlow();
    const m = (await measure(seconds, BATCH, () => store.writeUsage(flow.fill(), []), db.probe)) as { rows: number; clientCpuSeconds: number; databaseBackendCpuSeconds: number | null };
    await store.close();
    const backend = m.databaseBackendCpuSeconds;
    return {
      ...m,
      backendCpuMicrosPerRow: backend === null ? null : round((backend / m.rows) * 1e6, 2),
      clientCpuMicrosPerRow: round((m.clientCpuSeconds / m.rows) * 1e6, 2),
    };
  } finally {
    await db.drop();
  }
}

export async function run(opts: { seconds: number; full: boolean }): Promise<object> {
  const rounds = Number(commandOption('--rounds') ?? 2);
  const list = builds();
  const share = opts.seconds / (rounds * list.length * 2);
  const measurements: object[] = [];
  for (let r = 1; r <= rounds; r++) {
    for (const [i, build] of (r % 2 === 1 ? list : [...list].reverse()).entries()) {
      const load = loadAverage();
      const row = { build: build.name, round: r, pglite: await pglite(build, share), postgres: await postgres(build, share, `usage_${r}_${i}`), loadAverageStart: load, loadAverageEnd: loadAverage() };
      console.error(JSON.stringify(row));
      measurements.push(row);
    }
  }
  return { name: 'UsageWrite', batchRows: BATCH, rounds, measurements };
}

if (require.main === module) runStandalone(run, 16);
