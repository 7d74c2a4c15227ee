import { existsSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { BookcastError } from '../errors';
import { AUTH_LEDGER, AUTH_MIGRATIONS } from './auth-schema';
import { runMigrations } from './migrations';
import { pgliteClient } from './pglite-store';
import type { SqlClient } from './sql-client';

/** Where earlier versions kept access control's tables: an embedded PGlite of their own. */
export const LEGACY_AUTH_DIR = 'pglite-auth';

/** In the order foreign keys need. */
const AUTH_TABLES = ['api_clients', 'api_keys', 'refresh_tokens', 'signing_keys', 'audit_log', 'login_failures'] as const;

/**
 * Moves the clients, keys, tokens, signing keys and audit log of an earlier version's
 * `<data-dir>/pglite-auth` into the one store, once: the old database is brought to the current
 * auth schema, each table is copied whole (COPY binary, so every value, hash and chain link
 * arrives byte for byte) in one transaction, and the old directory is then renamed
 * `pglite-auth.imported` (kept for the operator to delete). A crash between the commit and the
 * rename is recognised at the next start by the old audit chain's head, already present.
 * Returns the rows imported, or null when there was nothing to import.
 */
export async function importLegacyAuthStore(dataDir: string, into: SqlClient): Promise<number | null> {
  const dir = join(dataDir, LEGACY_AUTH_DIR);
  if (!existsSync(dir)) return null;
  const old = await PGlite.create(dir);
  let rows = 0;
  try {
    await runMigrations(pgliteClient(old), 'partitioned', AUTH_MIGRATIONS, AUTH_LEDGER);
    const head = (await old.query<[number, Uint8Array]>('select seq, hash from audit_log order by seq desc limit 1', [], { rowMode: 'array' })).rows;
    await into.transaction(async (tx) => {
      if (head.length > 0 && (await tx.rows('select 1 from audit_log where seq = $1 and hash = $2', [head[0][0], head[0][1]])).length > 0) return;
      const [[held]] = await tx.rows('select (select count(*) from api_clients) + (select count(*) from api_keys) + (select count(*) from audit_log)', []);
      if (Number(held) > 0) throw new BookcastError('AUTH_IMPORT_CONFLICT', `${dir} holds access control's tables of an earlier version, and the store already holds ${held} clients, keys and audit rows of its own; nothing was imported`);
      for (const table of AUTH_TABLES) {
        const copied = await old.query(`copy ${table} to '/dev/blob' with (format binary)`);
        const [[count]] = (await old.query<[number]>(`select count(*)::integer from ${table}`, [], { rowMode: 'array' })).rows;
        await tx.copyFrom(table, 'binary', Buffer.from(await copied.blob!.arrayBuffer()));
        rows += count;
      }
    });
  } finally {
    await old.close();
  }
  // A second import (the directory restored by hand) keeps the first one's leftovers too.
  const aside = `${dir}.imported`;
  renameSync(dir, existsSync(aside) ? `${aside}-${Date.now()}` : aside);
  return rows;
}
