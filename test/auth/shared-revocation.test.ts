import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import postgres from 'postgres';
import { freshDatabase } from '../helpers/postgres';
import { startServerProcess, stopServerProcess } from '../helpers/server-process';
import { waitFor } from '../helpers/test-server';
import { cliJson } from '../helpers/auth-cli';
import { REDIS_URL, redisReachable } from '../helpers/redis';

const SECRET = 's'.repeat(48);
/**
 * Less than the 30 s a process keeps a verified key without hearing of a revocation: passing
 * within it needs the pub/sub invalidation, yet it is generous for a loaded machine.
 */
const PROPAGATION_DEADLINE_MS = 10_000;

t.test('two processes on one PostgreSQL and Redis: a revocation on one is refused by the other within seconds', async (t) => {
  if (!(await redisReachable())) {
    if (process.env.CI === 'true') throw new Error(`Redis at ${REDIS_URL} is required with CI=true`);
    t.comment('Redis is not running: skipped');
    return;
  }
  const db = await freshDatabase('authshared');
  if (db === null) {
    t.comment('PostgreSQL is not running: skipped');
    return;
  }
  t.teardown(() => db.drop());
  const dirs = [0, 1, 2].map(() => mkdtempSync(path.join(tmpdir(), 'bookcast-auth-shared-')));
  t.teardown(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  const store = ['--database-url', db.url, '--auth-secret', SECRET, '--data-dir', dirs[2]];
  const admin = await cliJson('clients', ['create', '--name', 'ops', '--tier', 'admin', ...store]);
  const adminKey = (await cliJson('keys', ['create', '--client', admin.client_id, ...store])).api_key;
  const pro = await cliJson('clients', ['create', '--name', 'quant', '--tier', 'professional', ...store]);
  const proKey = await cliJson('keys', ['create', '--client', pro.client_id, ...store]);
  const other = await cliJson('keys', ['create', '--client', pro.client_id, '--name', 'other', ...store]);

  const common = ['--auth', 'optional', '--database-url', db.url, '--auth-secret', SECRET, '--redis-url', REDIS_URL, '--rate', '50', '--workers', '1', '--symbols', 'BTC/USD'];
  const a = await startServerProcess([...common, '--data-dir', dirs[0]]);
  t.teardown(() => stopServerProcess(a));
  const b = await startServerProcess([...common, '--data-dir', dirs[1]]);
  t.teardown(() => stopServerProcess(b));
  const get = async (base: string, key: string, p = '/api/v1/market/BTC-USD/ticker', header = 'x-api-key') => {
    const res = await fetch(base + p, { headers: { [header]: header === 'authorization' ? `Bearer ${key}` : key } });
    const body = (await res.json()) as any;
    return { status: res.status, code: body.error?.code as string | undefined };
  };

  for (const server of [a, b]) {
    t.equal((await get(server.http, proKey.api_key)).status, 200, `${server.http} accepts the key (and caches it)`);
    t.equal((await get(server.http, other.api_key)).status, 200);
  }
  const token = ((await (await fetch(`${a.http}/api/v1/auth/token`, { method: 'POST', body: JSON.stringify({ grant_type: 'api_key', api_key: other.api_key }) })).json()) as any).access_token;
  t.equal((await get(b.http, token, '/api/v1/market/BTC-USD/ticker', 'authorization')).status, 200, 'a token issued by one process verifies on the other');

  const revoked = await fetch(`${a.http}/api/v1/admin/keys/${proKey.key_id}/revoke`, { method: 'POST', headers: { 'x-api-key': adminKey }, body: '{}' });
  t.equal(revoked.status, 200);
  await waitFor('the other process to refuse the revoked key', async () => (await get(b.http, proKey.api_key)).code === 'API_KEY_REVOKED', PROPAGATION_DEADLINE_MS);
  t.pass('refused by the other process within the deadline');
  t.equal((await get(b.http, other.api_key)).status, 200, 'the client\'s other key still works');

  const suspended = await fetch(`${b.http}/api/v1/admin/clients/${pro.client_id}/suspend`, { method: 'POST', headers: { 'x-api-key': adminKey }, body: '{}' });
  t.equal(suspended.status, 200);
  await waitFor('the first process to refuse the suspended client', async () => (await get(a.http, other.api_key)).code === 'CLIENT_SUSPENDED', PROPAGATION_DEADLINE_MS);
  await waitFor('and its token', async () => (await get(a.http, token, '/api/v1/market/BTC-USD/ticker', 'authorization')).code === 'CLIENT_SUSPENDED', PROPAGATION_DEADLINE_MS);
  t.pass('a suspension reaches the other process, tokens included');

  // With --database-url, access control lives in the same database as the market data, beside it.
  const sql = postgres(db.url, { max: 1, onnotice: () => undefined });
  t.teardown(() => sql.end({ timeout: 1 }));
  const tables = await sql`select to_regclass('api_clients') is not null as clients, to_regclass('login_failures') is not null as failures, to_regclass('trades') is not null as trades, to_regclass('api_usage') is not null as usage, to_regclass('rate_limit_buckets') is not null as buckets`;
  t.same(tables[0], { clients: true, failures: true, trades: true, usage: true, buckets: true }, 'auth, market-data, usage and rate_limit_buckets tables in one database');
  t.equal((await sql`select count(*)::int as n from api_keys where client_id = ${pro.client_id}`)[0].n, 2, 'the keys the CLI made are rows there');
});
