import { readdirSync, readFileSync } from 'node:fs';
import postgres from 'postgres';
import { processCpuSeconds } from '../system';

/**
 * The local PostgreSQL for the store scenarios: a fresh database per measurement (dropped
 * afterwards), and the CPU the server spends on it, read from /proc. Admin URL from
 * BOOKCAST_BENCH_POSTGRES (default postgres://postgres@127.0.0.1:5432/postgres).
 */

export const ADMIN_URL = process.env.BOOKCAST_BENCH_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** CPU seconds so far of the backends serving one database (listed again by refresh) and of the whole server. */
export interface CpuProbe {
  refresh(): Promise<void>;
  read(): { own: number | null; server: number | null };
}

export interface BenchDatabase {
  url: string;
  /** `PostgreSQL 15.x`. */
  server: string;
  probe: CpuProbe;
  drop(): Promise<void>;
}

/** A fresh database, or why there is none (PostgreSQL unreachable). */
export async function benchDatabase(suffix: string): Promise<BenchDatabase | { skipped: string }> {
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => undefined, connect_timeout: 5 });
  const name = `bookcast_bench_${process.pid}_${suffix}`;
  try {
    await admin.unsafe(`create database ${name}`);
  } catch (error) {
    await admin.end({ timeout: 1 });
    return { skipped: `PostgreSQL unreachable at ${ADMIN_URL}: ${(error as Error).message}` };
  }
  const [{ version }] = await admin`select current_setting('server_version') as version`;
  return {
    url: ADMIN_URL.replace(/\/[^/]*$/, `/${name}`),
    server: `PostgreSQL ${version}`,
    probe: await cpuProbe(admin, name),
    async drop() {
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end({ timeout: 5 });
    },
  };
}

/** utime + stime of the processes whose parent is `postmaster`, plus the postmaster. */
function serverCpu(postmaster: number): number | null {
  const own = processCpuSeconds(postmaster);
  if (own === null) return null;
  let total = own;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    if (parentPid(Number(name)) === postmaster) total += processCpuSeconds(Number(name)) ?? 0;
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

async function cpuProbe(admin: postgres.Sql, database: string): Promise<CpuProbe> {
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
