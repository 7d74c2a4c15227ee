import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { BookcastError } from '../errors';
import { acquireJournalLock, releaseJournalLock } from '../journal/journal-lock';

/** The embedded store's directory, inside the data directory. */
export const PGLITE_DIR = 'pglite';

/**
 * Takes `<data-dir>/pglite` for this process: two PGlite instances on one directory corrupt it.
 * The persistence worker holds it while a server runs; the CLI takes it to administer clients
 * and keys while no server does. The journal's lock file, in the store's directory (an extra file
 * there is nothing to PostgreSQL). Returns its release.
 */
export function lockEmbeddedStore(dataDir: string): () => void {
  const dir = join(dataDir, PGLITE_DIR);
  mkdirSync(dir, { recursive: true });
  let lock: string;
  try {
    lock = acquireJournalLock(dir);
  } catch (err) {
    throw new BookcastError('AUTH_STORE_LOCKED', `${(err as Error).message}; while a server runs on this data directory, use its /api/v1/admin endpoints`);
  }
  return () => releaseJournalLock(lock);
}
