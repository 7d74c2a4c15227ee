import { join } from 'node:path';
import { log } from '../util/log';
import { importLegacyAuthStore } from './legacy-auth-import';
import { openPgliteStore } from './pglite-store';
import { openPostgresStore } from './postgres-store';
import { Store } from './store';
import { PGLITE_DIR } from './store-lock';

export interface OpenStoreOptions {
  /** PostgreSQL connection URL (DATABASE_URL); without it, PGlite in `<dataDir>/pglite`. */
  databaseUrl?: string;
  dataDir: string;
}

/**
 * Opens the configured store and applies pending migrations; an embedded store also takes in,
 * once, the separate auth store of earlier versions (legacy-auth-import.ts). The caller holds the
 * embedded store's lock (store-lock.ts) where another process might open it.
 */
export async function openStore(opts: OpenStoreOptions): Promise<Store> {
  const store = opts.databaseUrl ? await openPostgresStore(opts.databaseUrl) : await openPgliteStore(join(opts.dataDir, PGLITE_DIR));
  try {
    await store.migrate();
    if (!opts.databaseUrl) {
      const imported = await importLegacyAuthStore(opts.dataDir, store.sql);
      if (imported !== null) log.info({ rows: imported }, 'the separate auth store of an earlier version (pglite-auth) is in the main store now (rows: those imported by this start; 0 when an earlier start had); its directory is now pglite-auth.imported');
    }
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}
