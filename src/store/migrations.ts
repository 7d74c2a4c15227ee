import { BookcastError } from '../errors';
import { Flavor, Migration, MIGRATIONS } from './schema';
import { SqlClient } from './sql-client';

/** pg_advisory_xact_lock key held while migrating, so two processes starting at once take turns. */
const MIGRATION_LOCK = 0x626f6f6b; // 'book'

/**
 * Where a set of migrations records what ran: the market-data schema's `schema_migrations`, or
 * another part's own ledger (access control keeps `auth_migrations`), so each part numbers its
 * migrations by itself and a database holding both never mistakes one's versions for the other's.
 */
export interface MigrationLedger {
  table: string;
  /** Its create-if-not-exists statement. */
  create: string;
  /** Advisory lock key held while migrating. */
  lock: number;
}

/** A ledger named `table`, migrated under advisory lock `lock`: every ledger has the same columns. */
export function migrationLedger(table: string, lock: number): MigrationLedger {
  return {
    table,
    create: `create table if not exists ${table} (
  version integer primary key,
  name text not null,
  flavor text not null,
  applied_at timestamptz not null default now()
)`,
    lock,
  };
}

export const SCHEMA_LEDGER = migrationLedger('schema_migrations', MIGRATION_LOCK);

/**
 * The flavor of the schema: the one recorded when it was created, else TimescaleDB when the
 * server has the extension and can load it (installed, or listed in shared_preload_libraries —
 * CREATE EXTENSION fails without it), else native partitioning. PGlite is always partitioned.
 */
export async function detectFlavor(client: SqlClient, allowTimescale: boolean): Promise<Flavor> {
  const [[exists]] = await client.rows(`select to_regclass('schema_migrations') is not null`, []);
  if (exists === true) {
    const recorded = await client.rows('select flavor from schema_migrations order by version limit 1', []);
    if (recorded.length > 0) return recorded[0][0] as Flavor;
  }
  if (!allowTimescale) return 'partitioned';
  const [[available, installed, preload]] = await client.rows(
    `select exists (select 1 from pg_available_extensions where name = 'timescaledb'),
            exists (select 1 from pg_extension where extname = 'timescaledb'),
            current_setting('shared_preload_libraries')`,
    [],
  );
  return available === true && (installed === true || String(preload).includes('timescaledb')) ? 'timescale' : 'partitioned';
}

/**
 * Applies the migrations not yet recorded, each in its own transaction with its row in
 * schema_migrations, so a crash leaves either all of a migration or none of it. Returns how
 * many ran (0 on every start-up after the first).
 */
export async function runMigrations(client: SqlClient, flavor: Flavor, migrations: readonly Migration[] = MIGRATIONS, ledger: MigrationLedger = SCHEMA_LEDGER): Promise<number> {
  await client.transaction(async (tx) => {
    await tx.rows('select pg_advisory_xact_lock($1::bigint)', [ledger.lock]);
    await tx.exec(ledger.create);
  });
  const latest = migrations[migrations.length - 1].version;
  let applied = 0;
  for (const migration of migrations) {
    const ran = await client.transaction(async (tx) => {
      await tx.rows('select pg_advisory_xact_lock($1::bigint)', [ledger.lock]);
      const [[newest, done]] = await tx.rows(`select max(version), bool_or(version = $1) from ${ledger.table}`, [migration.version]);
      if (newest !== null && Number(newest) > latest) {
        throw new BookcastError('CONFIG_INVALID', `database schema version ${newest} is newer than this build knows (${latest})`);
      }
      if (done === true) return false;
      await tx.exec(migration.sql[flavor]);
      await tx.rows(`insert into ${ledger.table} (version, name, flavor) values ($1, $2, $3)`, [migration.version, migration.name, flavor]);
      return true;
    });
    if (ran) applied++;
  }
  return applied;
}
