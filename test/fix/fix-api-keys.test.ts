import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { startAuthServer } from '../auth/auth-server';
import { RawFixClient } from '../helpers/fix-raw';
import { fixSessionsFile } from '../helpers/fix-sessions';
import { cliJson } from '../helpers/auth-cli';

/**
 * FIX Logon with API keys under access control: the key (whole in Password, or id in Username
 * and secret in Password) is checked by the auth service, its permissions apply to market data
 * requests, its revocation ends the session, and the --fix-sessions list keeps working beside it.
 */

const dir = mkdtempSync(path.join(tmpdir(), 'bookcast-fix-keys-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

t.test('API keys log on to FIX with their permissions; revocation logs the session out', async (t) => {
  // Keys made by the CLI before the server owns the embedded store.
  const store = ['--data-dir', dir];
  const admin = await cliJson('clients', ['create', '--name', 'ops', '--type', 'internal', '--tier', 'admin', ...store]);
  const adminKey = (await cliJson('keys', ['create', '--client', admin.client_id, ...store])).api_key as string;
  const quant = await cliJson('clients', ['create', '--name', 'quant', '--tier', 'professional', ...store]);
  const quantKey = await cliJson('keys', ['create', '--client', quant.client_id, ...store]);
  const retail = await cliJson('clients', ['create', '--name', 'retail', '--tier', 'standard', ...store]);
  const retailKey = (await cliJson('keys', ['create', '--client', retail.client_id, '--permissions', 'l1,l2', ...store])).api_key as string;
  const sessions = fixSessionsFile([{ senderCompId: 'FIXED', password: 'fixed-password-1' }]);

  const s = await startAuthServer(['--symbols', 'BTC/USD', '--fix-port', '0', '--fix-sessions', sessions], {}, dir);
  t.teardown(() => s.stop());
  const port = s.server.fixPort!;

  const logOn = async (sender: string, fields: [number, string | number][]): Promise<RawFixClient> => {
    const c = await RawFixClient.connect(port, sender);
    c.send('A', [[98, 0], [108, 30], [141, 'Y'], ...fields]);
    return c;
  };
  const accepted = async (c: RawFixClient, who: string) => {
    await c.expect(`${who}: a Logon answer`, (m) => m.type === 'A' || m.type === '5');
    t.ok(c.received.some((m) => m.type === 'A'), `${who}: logged on (${c.received.find((m) => m.type === '5')?.get(58) ?? 'no Logout'})`);
  };
  const refusal = async (c: RawFixClient, who: string): Promise<string> => {
    const out = await c.expect(`${who}: a Logout`, (m) => m.type === '5');
    await c.waitClosed(`${who}: the refused connection to close`);
    return out.get(58) ?? '';
  };
  const l3 = (id: string): [number, string | number][] => [[262, id], [263, 1], [264, 0], [265, 1], [266, 'N'], [267, 2], [269, 0], [269, 1], [146, 1], [55, 'BTC/USD']];
  const l2 = (id: string): [number, string | number][] => [[262, id], [263, 1], [264, 10], [265, 1], [267, 2], [269, 0], [269, 1], [146, 1], [55, 'BTC/USD']];
  const answerTo = (c: RawFixClient, id: string) => c.expect(`an answer to ${id}`, (m) => (m.type === 'W' || m.type === 'Y') && m.get(262) === id);

  // The whole key in Password: a professional key may follow the order-by-order book.
  const q = await logOn('QUANT1', [[554, quantKey.api_key]]);
  await accepted(q, 'whole key');
  q.send('V', l3('q-l3'));
  t.equal((await answerTo(q, 'q-l3')).type, 'W', 'professional key: L3 snapshot');

  // Key id in Username, secret in Password; the same SenderCompID as the other client is a
  // session of its own (sessions are scoped to the key's client), and its key's l1,l2 apply.
  const [, keyId, secret] = /^bk_([0-9a-f]{16})_(.+)$/.exec(retailKey)!;
  const r = await logOn('QUANT1', [[553, keyId], [554, secret]]);
  await accepted(r, 'key id + secret');
  r.send('V', l3('r-l3'));
  const denied = await answerTo(r, 'r-l3');
  t.equal(denied.type, 'Y', 'l1,l2 key: L3 refused');
  t.equal(denied.get(281), '3', 'MDReqRejReason 3: insufficient permissions');
  t.match(denied.get(58), /^FIX_PERMISSION_DENIED: /);
  r.send('V', l2('r-l2'));
  t.equal((await answerTo(r, 'r-l2')).type, 'W', 'l1,l2 key: L2 snapshot');

  // The configured session beside the keys.
  const f = await logOn('FIXED', [[554, 'fixed-password-1']]);
  await accepted(f, 'configured session');

  // A wrong secret of a well-formed key: refused with access control's code.
  const wrong = await logOn('QUANT2', [[554, `${retailKey.slice(0, -4)}AAAA`]]);
  t.match(await refusal(wrong, 'wrong secret'), /^FIX_LOGON_REFUSED: INVALID_API_KEY/);

  // Revoking the key ends its live session with API_KEY_REVOKED; the others carry on.
  const revoked = await s.request(`/api/v1/admin/keys/${quantKey.key_id}/revoke`, { method: 'POST', headers: { 'x-api-key': adminKey }, body: '{}' });
  t.equal(revoked.status, 200, 'key revoked');
  const out = await q.expect('the revoked key session to be logged out', (m) => m.type === '5');
  t.match(out.get(58), /^API_KEY_REVOKED: /);
  await q.waitClosed('the revoked session to close');
  const again = await logOn('QUANT1', [[554, quantKey.api_key]]);
  t.match(await refusal(again, 'revoked key'), /^FIX_LOGON_REFUSED: API_KEY_REVOKED/);
  for (const [c, id] of [[r, 'r'], [f, 'f']] as const) {
    const from = c.received.length;
    c.send('1', [[112, id]]);
    await c.expect(`${id}: still answering`, (m) => m.type === '0' && m.get(112) === id, from);
  }
  r.close();
  f.close();
});
