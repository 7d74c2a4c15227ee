import t from 'tap';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { cliJson } from '../helpers/auth-cli';
import { legacyAuthStore } from '../helpers/legacy-auth-store';
import { startAuthServer } from './auth-server';

const SECRET = 'u'.repeat(40);

t.test('upgrading: a server started on a data directory with the old pglite-auth serves its keys, and the CLI sees them once it stops', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'bookcast-upgrade-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const legacy = await legacyAuthStore(dir, new TextEncoder().encode(SECRET));

  const s = await startAuthServer(['--auth-secret', SECRET], {}, dir);
  let stopped = false;
  t.teardown(() => (stopped ? undefined : s.stop()));
  t.notOk(existsSync(path.join(dir, 'pglite-auth')), 'imported on start and moved aside');
  const keys = await s.request('/api/v1/auth/keys', { headers: { 'x-api-key': legacy.apiKey } });
  t.equal(keys.status, 200, 'the old key is accepted');
  t.same(keys.body.keys.map((k: { key_id: string }) => k.key_id), [legacy.keyId], 'and lists itself');
  const events = await s.request('/api/v1/market/BTC-USD/events', { headers: { 'x-api-key': legacy.apiKey } });
  t.not(events.status, 403, 'with its professional permissions (l3 passes admission)');
  const token = await s.request('/api/v1/auth/token', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ grant_type: 'api_key', api_key: legacy.apiKey }) });
  t.equal(token.status, 200, 'a token grant through the SQL relay (audit row and all)');
  await s.stop();
  stopped = true;

  const listed = await cliJson('keys', ['list', '--data-dir', dir, '--auth-secret', SECRET]);
  t.same(listed.keys.map((k: { key_id: string }) => k.key_id), [legacy.keyId], 'the CLI opens the store itself once the server is gone');
  const verdict = await cliJson('audit', ['verify', '--data-dir', dir, '--auth-secret', SECRET]);
  t.equal(verdict.ok, true, 'the audit chain, old rows and new, is whole');
  t.ok(verdict.rows > 3, `the old rows and the new token's (${verdict.rows})`);
});
