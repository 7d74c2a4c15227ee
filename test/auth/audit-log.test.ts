import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { openAdminDatabase } from '../../src/auth/auth-database';
import { seedDataDir } from '../helpers/pglite-template';
import { AuthService } from '../../src/auth/auth-service';
import type { SqlClient } from '../../src/store/sql-client';
import { authCommand } from '../../src/cli/auth-commands';
import { freshDatabase } from '../helpers/postgres';

const SECRET = 'x'.repeat(40);

/** A store with some history: a client, two keys, a revocation, a suspension. */
async function withHistory(db: SqlClient): Promise<AuthService> {
  const auth = new AuthService(db, { serverSecret: new TextEncoder().encode(SECRET), issuer: 'bookcast', tokenTtlS: 60, refreshTtlS: 600, clock: Date.now });
  const { client } = await auth.createClient('cli', { name: 'acme', clientType: 'external', tier: 'standard' });
  const { key } = await auth.createKey('cli', { clientId: client.clientId, name: 'a' });
  await auth.createKey('cli', { clientId: client.clientId, name: 'b' });
  await auth.revokeKey('cli', key.keyId);
  await auth.setClientStatus('cli', client.clientId, 'suspended');
  return auth;
}

/** Runs `edit` with triggers off, as a superuser (or a restored dump) could. */
async function behindTheTrigger(db: SqlClient, edit: string): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.exec('set local session_replication_role = replica');
    await tx.exec(edit);
  });
}

function flavors(): { name: string; open: () => Promise<{ db: SqlClient; args: string[]; done: () => Promise<void> }> }[] {
  return [
    {
      name: 'PGlite',
      open: async () => {
        const dir = mkdtempSync(path.join(tmpdir(), 'bookcast-audit-'));
        await seedDataDir(['--data-dir', dir]);
        const db = await openAdminDatabase({ databaseUrl: undefined, dataDir: dir });
        return { db, args: ['--data-dir', dir], done: async () => rmSync(dir, { recursive: true, force: true }) };
      },
    },
    {
      name: 'PostgreSQL',
      open: async () => {
        const fresh = await freshDatabase('audit');
        if (fresh === null) throw new Error('skip');
        const dir = mkdtempSync(path.join(tmpdir(), 'bookcast-audit-'));
        const db = await openAdminDatabase({ databaseUrl: fresh.url, dataDir: dir });
        return {
          db,
          args: ['--database-url', fresh.url, '--data-dir', dir],
          done: async () => {
            await fresh.drop();
            rmSync(dir, { recursive: true, force: true });
          },
        };
      },
    },
  ];
}

for (const flavor of flavors()) {
  for (const [name, edit, reason] of [
    ['an edited row', `update audit_log set detail = '{"client":"someone-else"}' where seq = 3`, /row 3 was edited/],
    ['an edited actor', `update audit_log set actor = 'nobody' where seq = 2`, /row 2 was edited/],
    ['a deleted row', 'delete from audit_log where seq = 2', /row 2 is missing/],
    ['a row re-hashed after editing, without its successor', `update audit_log set detail = '{}', hash = sha256(hash) where seq = 2`, /row 2 was edited|row 3 does not link/],
  ] as const) {
    t.test(`${flavor.name}: audit verify detects ${name}`, async (t) => {
      let opened;
      try {
        opened = await flavor.open();
      } catch (err) {
        if ((err as Error).message === 'skip') {
          t.comment('PostgreSQL is not running: skipped (CI=true makes this a failure)');
          return;
        }
        throw err;
      }
      const { db, args, done } = opened;
      t.teardown(done);
      const auth = await withHistory(db);
      const whole = await auth.audit.verify();
      t.same({ ok: whole.ok, rows: whole.rows }, { ok: true, rows: 5 }, 'five rows, chained');
      await t.rejects(db.exec('update audit_log set actor = $$x$$ where seq = 1'), /append-only/, 'the trigger refuses an UPDATE');
      await t.rejects(db.exec('delete from audit_log where seq = 1'), /append-only/, 'and a DELETE');
      await behindTheTrigger(db, edit);
      const broken = await auth.audit.verify();
      t.equal(broken.ok, false);
      t.match((broken as { reason: string }).reason, reason);
      await db.close();
      // The CLI says so too, with exit code 1.
      const lines: string[] = [];
      t.equal(await authCommand('audit', ['verify', ...args, '--auth-secret', SECRET], (l) => lines.push(l)), 1, 'bookcast audit verify exits 1');
      t.match(lines.join('\n'), /AUDIT_CHAIN_BROKEN/);
    });
  }
}

t.test('PGlite: audit verify passes on an untouched log, and the CLI lists it', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'bookcast-audit-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  await seedDataDir(['--data-dir', dir]);
  const db = await openAdminDatabase({ databaseUrl: undefined, dataDir: dir });
  await withHistory(db);
  await db.close();
  const lines: string[] = [];
  t.equal(await authCommand('audit', ['verify', '--data-dir', dir, '--auth-secret', SECRET], (l) => lines.push(l)), 0);
  t.match(lines[0], /^audit log intact: 5 rows, head [0-9a-f]{64}$/);
  const listed: string[] = [];
  t.equal(await authCommand('audit', ['list', '--data-dir', dir, '--json', '--auth-secret', SECRET], (l) => listed.push(l)), 0);
  t.same(JSON.parse(listed[0]).rows.map((r: { action: string }) => r.action), ['client_created', 'key_created', 'key_created', 'key_revoked', 'client_suspended']);
  t.notOk(listed[0].includes('bk_'), 'no key text in the audit log');
});
