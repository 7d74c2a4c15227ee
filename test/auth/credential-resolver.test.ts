import t from 'tap';
import { PGlite } from '@electric-sql/pglite';
import { AUTH_LEDGER, AUTH_MIGRATIONS } from '../../src/store/auth-schema';
import { AuthService } from '../../src/auth/auth-service';
import { runMigrations } from '../../src/store/migrations';
import { pgliteClient } from '../../src/store/pglite-store';
import type { SqlClient } from '../../src/store/sql-client';

/** The auth database (a real PGlite, in memory), with every statement it is sent counted. */
async function countedDatabase(): Promise<{ db: SqlClient; statements: () => number }> {
  const db = pgliteClient(await PGlite.create());
  await runMigrations(db, 'partitioned', AUTH_MIGRATIONS, AUTH_LEDGER);
  let n = 0;
  const rows = db.rows.bind(db);
  db.rows = (text, params) => {
    n++;
    return rows(text, params);
  };
  return { db, statements: () => n };
}

t.test('a refused key is refused again from memory; a known one is a cache hit; neither reaches the database twice', async (t) => {
  const { db, statements } = await countedDatabase();
  const auth = new AuthService(db, { serverSecret: new TextEncoder().encode('s'.repeat(32)), issuer: 'bookcast', tokenTtlS: 60, refreshTtlS: 600, clock: Date.now });
  t.teardown(() => auth.close());
  await auth.start();
  const { client } = await auth.createClient('test', { name: 'acme', clientType: 'external', tier: 'standard' });
  const { apiKey, key } = await auth.createKey('test', { clientId: client.clientId, name: 'a' });

  const unknown = `bk_${'0'.repeat(16)}_${'A'.repeat(43)}`;
  const wrongSecret = `bk_${key.keyId}_${'B'.repeat(43)}`;
  for (const text of [unknown, wrongSecret]) {
    const before = statements();
    await t.rejects(async () => auth.fromApiKey(text, '127.0.0.1'), { code: 'INVALID_API_KEY' }, 'refused the first time');
    t.ok(statements() > before, 'after reading the database');
    const read = statements();
    let refusedAtOnce = 0;
    for (let i = 0; i < 100; i++) {
      try {
        auth.fromApiKey(text, '127.0.0.1');
      } catch (err) {
        if ((err as { code?: string }).code === 'INVALID_API_KEY') refusedAtOnce++;
      }
    }
    t.equal(refusedAtOnce, 100, '100 more tries: each refused synchronously');
    t.equal(statements(), read, 'without a database statement');
  }
  const read = statements();
  t.throws(() => auth.fromApiKey('not-a-key', '127.0.0.1'), { code: 'INVALID_API_KEY' }, 'a text not of the key format is refused unread');
  t.equal(statements(), read);

  const caller = await auth.fromApiKey(apiKey, '127.0.0.1');
  t.equal(caller.keyId, key.keyId);
  const known = statements();
  let hits = 0;
  for (let i = 0; i < 100; i++) if ((auth.fromApiKey(apiKey, '127.0.0.1') as { keyId?: string }).keyId === key.keyId) hits++;
  t.equal(hits, 100, 'a known key: answered synchronously');
  t.ok(statements() - known <= 1, 'a known key is answered from memory (at most the last_used touch)');
  await auth.revokeKey('test', key.keyId);
  await t.rejects(async () => auth.fromApiKey(apiKey, '127.0.0.1'), { code: 'API_KEY_REVOKED' }, 'a revocation in this process is seen at once');
});
