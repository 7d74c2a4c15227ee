import t from 'tap';
import { existsSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { openAdminDatabase } from '../../src/auth/auth-database';
import { AuthService } from '../../src/auth/auth-service';
import { keyHash } from '../../src/auth/secret-hashes';
import { LEGACY_AUTH_DIR } from '../../src/store/legacy-auth-import';
import type { SqlClient } from '../../src/store/sql-client';
import { legacyAuthStore } from '../helpers/legacy-auth-store';
import { seedDataDir } from '../helpers/pglite-template';

const SECRET = new TextEncoder().encode('s'.repeat(40));
const options = { serverSecret: SECRET, issuer: 'bookcast', tokenTtlS: 60, refreshTtlS: 600, clock: Date.now };

async function service(db: SqlClient): Promise<AuthService> {
  const auth = new AuthService(db, options);
  await auth.start();
  return auth;
}

t.test('an earlier version\'s separate auth store is imported into the main store once, keys and audit chain intact', async (t) => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'bookcast-legacy-auth-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const legacy = await legacyAuthStore(dataDir, SECRET);
  await seedDataDir(['--data-dir', dataDir]);

  const db = await openAdminDatabase({ databaseUrl: undefined, dataDir });
  const auth = await service(db);
  const record = await auth.clients.keyRecord(legacy.apiKey);
  t.ok(record, 'the key is found by its text');
  t.same(Buffer.from(record!.keyHash), Buffer.from(keyHash(SECRET, legacy.apiKey)), 'its stored hash still matches the key');
  t.equal(record!.client.clientId, legacy.clientId);
  t.equal(record!.client.name, 'acme');
  t.same(record!.permissions, record!.client.permissions, 'arrays survive the copy');
  const caller = await auth.fromApiKey(legacy.apiKey, '127.0.0.1');
  t.equal(caller.clientId, legacy.clientId, 'the key admits its client');
  const verdict = await auth.audit.verify();
  t.ok(verdict.ok, 'the audit chain is whole');
  t.equal((verdict as { head: string }).head, legacy.head, 'with the same head: every row came across byte for byte');
  await auth.createKey('cli', { clientId: legacy.clientId, name: 'after' });
  t.ok((await auth.audit.verify()).ok, 'and new rows chain onto it');
  await db.close();
  t.notOk(existsSync(path.join(dataDir, LEGACY_AUTH_DIR)), 'the old directory is gone from its place');
  t.ok(existsSync(path.join(dataDir, `${LEGACY_AUTH_DIR}.imported`)), 'kept aside as pglite-auth.imported');

  // A crash after the commit and before the rename: the old directory is back at the next start.
  renameSync(path.join(dataDir, `${LEGACY_AUTH_DIR}.imported`), path.join(dataDir, LEGACY_AUTH_DIR));
  const again = await openAdminDatabase({ databaseUrl: undefined, dataDir });
  const keys = await (await service(again)).clients.listKeys(legacy.clientId);
  t.equal(keys.length, 2, 'recognised as imported already: no row twice');
  await again.close();
  t.notOk(existsSync(path.join(dataDir, LEGACY_AUTH_DIR)), 'and moved aside again');
  t.equal(readdirSync(dataDir).filter((f) => f.startsWith(`${LEGACY_AUTH_DIR}.imported`)).length, 1);
});

t.test('a main store with clients of its own refuses the import (AUTH_IMPORT_CONFLICT) and changes nothing', async (t) => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'bookcast-legacy-auth-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  await seedDataDir(['--data-dir', dataDir]);
  const db = await openAdminDatabase({ databaseUrl: undefined, dataDir });
  await (await service(db)).createClient('cli', { name: 'newer', clientType: 'external', tier: 'standard' });
  await db.close();
  await legacyAuthStore(dataDir, SECRET);

  await t.rejects(openAdminDatabase({ databaseUrl: undefined, dataDir }), { code: 'AUTH_IMPORT_CONFLICT' });
  t.ok(existsSync(path.join(dataDir, LEGACY_AUTH_DIR)), 'the old directory stays where it was');
  rmSync(path.join(dataDir, LEGACY_AUTH_DIR), { recursive: true });
  const after = await openAdminDatabase({ databaseUrl: undefined, dataDir });
  t.same((await (await service(after)).clients.listClients()).map((c) => c.name), ['newer'], 'the main store kept only its own client');
  await after.close();
});
