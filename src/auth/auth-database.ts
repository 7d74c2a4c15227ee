import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { BookcastError } from '../errors';
import { acquireJournalLock, releaseJournalLock } from '../journal/journal-lock';
import { runMigrations } from '../store/migrations';
import { pgliteClient } from '../store/pglite-store';
import { connectPostgres, postgresClient } from '../store/postgres-store';
import type { SqlClient } from '../store/sql-client';
import { AUTH_LEDGER, AUTH_MIGRATIONS } from './auth-schema';

/** Where the embedded auth tables live, inside the data directory. */
export const AUTH_PGLITE_DIR = 'pglite-auth';

/**
 * The database of clients, keys, tokens and the audit log, migrated, for the server and the CLI.
 * With DATABASE_URL: the same PostgreSQL database as the market data (its own small pool). Without:
 * an embedded PGlite of its own in `<data-dir>/pglite-auth`, because the market-data PGlite belongs
 * to the persistence worker thread (one owner per PGlite directory) and key lookups must not
 * queue behind history reads there. One process at a time holds it (a lock file, as the journal's):
 * while a server runs on that data directory, administer it over the admin REST endpoints.
 */
export async function openAuthDatabase(opts: { databaseUrl: string | undefined; dataDir: string }): Promise<SqlClient> {
  let client: SqlClient;
  let release = (): void => undefined;
  if (opts.databaseUrl) {
    client = postgresClient(connectPostgres(opts.databaseUrl, { max: 4 }));
  } else {
    const dir = join(opts.dataDir, AUTH_PGLITE_DIR);
    mkdirSync(dir, { recursive: true });
    let lock: string;
    try {
      lock = acquireJournalLock(dir);
    } catch (err) {
      throw new BookcastError('AUTH_STORE_LOCKED', `${(err as Error).message}; while a server runs on this data directory, use its /api/v1/admin endpoints`);
    }
    release = () => releaseJournalLock(lock);
    try {
      client = pgliteClient(await PGlite.create(dir));
    } catch (err) {
      release();
      throw err;
    }
  }
  try {
    await runMigrations(client, 'partitioned', AUTH_MIGRATIONS, AUTH_LEDGER);
  } catch (err) {
    await client.close();
    release();
    throw err;
  }
  const close = client.close.bind(client);
  client.close = async () => {
    await close();
    release();
  };
  return client;
}
