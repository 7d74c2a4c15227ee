import { BookcastError } from '../errors';
import { Flavor, Migration, MIGRATIONS, MIGRATIONS_TABLE } from './schema';
import { SqlClient } from './sql-client';

/** pg_advisory_xact_lock key held while migrating, so two processes starting at once take turns. */
const MIGRATION_LOCK = 0x626f6f6b; // 'book'

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
export async function runMigrations(client: SqlClient, flavor: Flavor, migrations: readonly Migration[] = MIGRATIONS): Promise<number> {
  await client.transaction(async (tx) => {
    await tx.rows('select pg_advisory_xact_lock($1::bigint)', [MIGRATION_LOCK]);
    await tx.exec(MIGRATIONS_TABLE);
  });
  const latest = migrations[migrations.length - 1].version;
  let applied = 0;
  for (const migration of migrations) {
    const ran = await client.transaction(async (tx) => {
      await tx.rows('select pg_advisory_xact_lock($1::bigint)', [MIGRATION_LOCK]);
      const [[newest, done]] = await tx.rows('select max(version), bool_or(version = $1) from schema_migrations', [migration.version]);
      if (newest !== null && Number(newest) > latest) {
        throw new BookcastError('CONFIG_INVALID', `database schema version ${newest} is newer than this build knows (${latest})`);
      }
      if (done === true) return false;
      await tx.exec(migration.sql[flavor]);
      await tx.rows('insert into schema_migrations (version, name, flavor) values ($1, $2, $3)', [migration.version, migration.name, flavor]);
      return true;
    });
    if (ran) applied++;
  }
  return applied;
}
