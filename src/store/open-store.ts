import { join } from 'node:path';
import { openPgliteStore } from './pglite-store';
import { openPostgresStore } from './postgres-store';
import { Store } from './store';

export interface OpenStoreOptions {
  /** PostgreSQL connection URL (DATABASE_URL); without it, PGlite in `<dataDir>/pglite`. */
  databaseUrl?: string;
  dataDir: string;
}

/** Opens the configured store and applies pending migrations. */
export async function openStore(opts: OpenStoreOptions): Promise<Store> {
  const store = opts.databaseUrl ? await openPostgresStore(opts.databaseUrl) : await openPgliteStore(join(opts.dataDir, 'pglite'));
  try {
    await store.migrate();
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}
