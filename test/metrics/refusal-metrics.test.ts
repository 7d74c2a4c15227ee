import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import WebSocket from 'ws';
import { startAuthServer } from '../auth/auth-server';
import { scrape, Sample, sum, value } from '../helpers/scrape';
import { waitFor } from '../helpers/test-server';
import { openSocket, refusedUpgrade } from '../helpers/ws-connect';
import { cliJson } from '../helpers/auth-cli';

/** Runs a CLI command in this process and parses its --json line. */

const REFUSALS = ['bookcast_auth_failures_total', 'bookcast_rate_limit_hits_total'];

t.test('auth failures and rate-limit hits are counted by route and code; requests admitted after the key store answered are counted', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'bookcast-refusal-metrics-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // The key is made before the server starts (the embedded auth store has one owner at a time).
  const client = await cliJson('clients', ['create', '--name', 'metrics', '--type', 'external', '--tier', 'standard', '--data-dir', dir]);
  const key = await cliJson('keys', ['create', '--client', client.client_id, '--data-dir', dir]);
  // Anonymous callers get one request a second: the second in a row is refused.
  const s = await startAuthServer(['--public-rate', 'second=1,burst=1'], {}, dir);
  t.teardown(() => s.stop());
  const withKey = { 'x-api-key': key.api_key as string };
  const orderbook = '/api/v1/market/:symbol/orderbook';

  // The key's first use waits for the key store (a cache miss): its handler runs after an await.
  t.equal((await s.request('/api/v1/market/BTC-USD/orderbook?depth=5', { headers: withKey })).status, 200, 'the first request with the key');
  let m = await scrape(s.http, withKey);
  t.equal(value(m, 'bookcast_http_request_duration_seconds_count', { route: orderbook, status: '200' }), 1, 'a request admitted asynchronously is in the REST metrics');
  t.equal(sum(m, 'bookcast_auth_failures_total'), 0, 'no auth failure yet');
  t.equal(sum(m, 'bookcast_rate_limit_hits_total'), 0, 'no limit hit yet');

  // Auth failures: REST (anonymous, a key without the permission, an unknown key) and WebSocket (a bad token at the upgrade, an anonymous l3 subscribe).
  const events = '/api/v1/market/BTC-USD/events';
  t.equal((await s.request(events)).body.error.code, 'AUTH_REQUIRED');
  t.equal((await s.request(events, { headers: withKey })).body.error.code, 'PERMISSION_DENIED');
  const unknownKey = `bk_${'0'.repeat(16)}_${'A'.repeat(43)}`;
  t.equal((await s.request('/api/v1/market/BTC-USD/ticker', { headers: { 'x-api-key': unknownKey } })).body.error.code, 'INVALID_API_KEY');
  const upgrade = await refusedUpgrade(`${s.ws}/ws?token=not-a-token`);
  t.equal(upgrade.status, 401, `a bad token at the upgrade: ${upgrade.code}`);
  const ws = await openSocket(`${s.ws}/ws`);
  t.teardown(() => ws.close());
  const errors: string[] = [];
  ws.on('message', (data: Buffer, binary: boolean) => {
    const message = binary ? null : JSON.parse(data.toString());
    if (message?.type === 'error') errors.push(message.data.code);
  });
  ws.send(JSON.stringify({ type: 'subscribe', channels: ['l3'], symbols: ['BTC/USD'] }));
  await waitFor('the l3 refusal', () => errors.length === 1);
  t.same(errors, ['AUTH_REQUIRED']);

  // Rate-limit hits: anonymous requests in a row until the budget refuses (bounded).
  let refused = 0;
  for (let i = 0; i < 100 && refused < 3; i++) {
    const r = await s.request('/api/v1/market/BTC-USD/ticker');
    if (r.status === 429) refused++;
  }
  t.equal(refused, 3, 'the anonymous budget refused three requests');

  m = await scrape(s.http, withKey);
  const events_ = '/api/v1/market/:symbol/events';
  t.equal(value(m, 'bookcast_auth_failures_total', { route: events_, code: 'AUTH_REQUIRED' }), 1, 'REST: anonymous');
  t.equal(value(m, 'bookcast_auth_failures_total', { route: events_, code: 'PERMISSION_DENIED' }), 1, 'REST: key without l3');
  t.equal(value(m, 'bookcast_auth_failures_total', { route: '/api/v1/market/:symbol/ticker', code: 'INVALID_API_KEY' }), 1, 'REST: unknown key');
  t.equal(value(m, 'bookcast_auth_failures_total', { route: '/ws', code: upgrade.code }), 1, 'WebSocket: refused upgrade');
  t.equal(value(m, 'bookcast_auth_failures_total', { route: '/ws', code: 'AUTH_REQUIRED' }), 1, 'WebSocket: refused subscribe');
  t.equal(sum(m, 'bookcast_auth_failures_total'), 5, 'nothing else counted as an auth failure');
  t.equal(value(m, 'bookcast_rate_limit_hits_total', { route: '/api/v1/market/:symbol/ticker', code: 'RATE_LIMITED' }), 3, 'REST: the three 429s');
  t.equal(sum(m, 'bookcast_rate_limit_hits_total'), 3);
  t.equal(value(m, 'bookcast_http_request_duration_seconds_count', { route: '/api/v1/market/:symbol/ticker', status: '429' }), 3, 'and in the REST metrics by status');

  // Bounded labels: route and code only; never a key id, a key or an address.
  const refusalSamples: Sample[] = m.filter((x) => REFUSALS.includes(x.name));
  for (const x of refusalSamples) t.same(Object.keys(x.labels).sort(), ['code', 'route'], `${x.name} ${JSON.stringify(x.labels)}: route and code`);
  const keyId = (key.api_key as string).split('_')[1];
  const text = JSON.stringify(refusalSamples);
  t.notOk(text.includes(keyId) || text.includes('127.0.0.1') || text.includes('not-a-token'), 'no key id, address or token in a label');
  t.equal(ws.readyState, WebSocket.OPEN);
});
