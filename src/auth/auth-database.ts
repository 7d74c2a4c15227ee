import { runMigrations } from '../store/migrations';
import { AUTH_LEDGER, AUTH_MIGRATIONS } from '../store/auth-schema';
import { openStore } from '../store/open-store';
import { connectPostgres, postgresClient } from '../store/postgres-store';
import type { SqlClient } from '../store/sql-client';
import { lockEmbeddedStore } from '../store/store-lock';

/**
 * Access control's tables live in the one store, beside the market data (store/auth-schema.ts,
 * migrated with it). How a process reaches them:
 * - a server with DATABASE_URL: a small pool of its own on that database, so key lookups never
 *   queue behind the persistence worker's COPY batches or history reads;
 * - a server on the embedded PGlite: the persistence worker owns it (one owner per directory),
 *   so through the SQL relay to that worker (Persistence.sqlRelay, its urgent lane);
 * - the CLI (this function): the store itself, locked for the command's length; while a server
 *   runs on the data directory that is refused (AUTH_STORE_LOCKED): use its admin REST endpoints.
 */
export async function openAdminDatabase(opts: { databaseUrl: string | undefined; dataDir: string }): Promise<SqlClient> {
  const unlock = opts.databaseUrl ? () => undefined : lockEmbeddedStore(opts.dataDir);
  let client: SqlClient;
  try {
    client = (await openStore({ databaseUrl: opts.databaseUrl, dataDir: opts.dataDir })).sql;
  } catch (err) {
    unlock();
    throw err;
  }
  const close = client.close.bind(client);
  client.close = async () => {
    await close();
    unlock();
  };
  return client;
}

/**
 * The server's pool on PostgreSQL. The persistence worker migrated the database before it was
 * ready, except on an edge, whose worker writes to a scratch store of its own while access control
 * shares the primary's database: running the auth migrations here too is a no-op elsewhere.
 */
export async function openServerAuthPool(databaseUrl: string): Promise<SqlClient> {
  const client = postgresClient(connectPostgres(databaseUrl, { max: 4 }));
  try {
    await runMigrations(client, 'partitioned', AUTH_MIGRATIONS, AUTH_LEDGER);
  } catch (err) {
    await client.close();
    throw err;
  }
  return client;
}
