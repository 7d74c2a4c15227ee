import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { startAuthServer } from '../auth/auth-server';
import { cliJson } from '../helpers/auth-cli';
import { waitFor } from '../helpers/test-server';

const dir = mkdtempSync(path.join(tmpdir(), 'bookcast-rate-buckets-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const store = ['--data-dir', dir];

t.test('rate_limit_buckets: a key\'s 429s are charged to its client, not to its address, and shown in GET /api/v1/usage', async (t) => {
  const admin = await cliJson('clients', ['create', '--name', 'ops', '--type', 'internal', '--tier', 'admin', ...store]);
  const adminKey = (await cliJson('keys', ['create', '--client', admin.client_id, ...store])).api_key;
  const s = await startAuthServer([], {}, dir);
  t.teardown(() => s.stop());
  const asAdmin = { 'x-api-key': adminKey, 'content-type': 'application/json' };
  // Two requests a minute: the third within the minute is refused, whatever the machine's pace.
  const tight = await s.request('/api/v1/admin/clients', { method: 'POST', headers: asAdmin, body: JSON.stringify({ name: 'tight', tier: 'standard', rate_limit: { perMinute: 2 } }) });
  t.equal(tight.status, 201);
  const clientId: string = tight.body.client_id;
  const key = await s.request('/api/v1/admin/keys', { method: 'POST', headers: asAdmin, body: JSON.stringify({ client_id: clientId }) });
  t.equal(key.status, 201);

  const statuses: number[] = [];
  for (let i = 0; i < 5; i++) statuses.push((await s.request('/api/v1/market/symbols', { headers: { 'x-api-key': key.body.api_key } })).status);
  const refused = statuses.filter((x) => x === 429).length;
  t.ok(refused >= 1, `the key ran out of its budget (${statuses.join(' ')})`);
  t.equal(statuses.filter((x) => x === 200).length + refused, 5, 'every answer is a pass or a 429');
  const anonymous: number[] = [];
  for (let i = 0; i < 3; i++) anonymous.push((await s.request('/api/v1/market/symbols')).status);
  t.same(anonymous, [200, 200, 200], 'the same address without the key has its own budget');

  const usageOf = async (subject: string) => (await s.request(`/api/v1/usage?subject=${encodeURIComponent(subject)}`, { headers: asAdmin })).body;
  const day = (body: any) => (body.rate_limits ?? []).find((b: any) => b.window === 'day' && b.bucket === 'rest');
  await waitFor('the client\'s counts in rate_limit_buckets', async () => {
    const d = day(await usageOf(clientId));
    return d !== undefined && d.allowed + d.refused === 5;
  });
  const client = await usageOf(clientId);
  t.equal(client.subject, clientId);
  t.match(day(client), { allowed: 5 - refused, refused, limit: 720_000 }, 'the client is charged with its 429s (the day quota is its tier\'s)');
  t.match(client.rate_limits.find((b: any) => b.window === 'hour'), { allowed: 5 - refused, refused });
  await waitFor('the address\'s counts', async () => (day(await usageOf('ip:127.0.0.1'))?.allowed ?? 0) >= 3);
  t.equal(day(await usageOf('ip:127.0.0.1')).refused, 0, 'the address is charged with none of them');

  const own = await s.request('/api/v1/usage', { headers: asAdmin });
  t.equal(own.body.subject, admin.client_id, 'without ?subject=, the caller\'s own');
  t.ok(Array.isArray(own.body.rate_limits));
  const denied = await s.request(`/api/v1/usage?subject=${clientId}`);
  t.equal(denied.status, 403, 'only an admin may name another subject');
  t.equal(denied.body.error.code, 'PERMISSION_DENIED');
});
