import t from 'tap';
import WebSocket from 'ws';
import { startAuthServer } from './auth-server';
import { openSocket, refusedUpgrade } from '../helpers/ws-connect';
import { waitFor } from '../helpers/test-server';

/** Collects a socket's JSON messages. */
function inbox(ws: WebSocket): any[] {
  const messages: any[] = [];
  ws.on('message', (data, binary) => {
    if (!binary) messages.push(JSON.parse(data.toString()));
  });
  return messages;
}

t.test('--auth optional (the default): anonymous callers get the public tier', async (t) => {
  const s = await startAuthServer([]);
  t.teardown(() => s.stop());
  t.equal((await s.request('/api/v1/market/symbols')).status, 200, 'symbols: open');
  t.equal((await s.request('/api/v1/market/BTC-USD/orderbook?depth=5')).status, 200, 'L2: public');
  t.equal((await s.request('/api/v1/market/BTC-USD/ticker')).status, 200, 'L1: public');
  t.equal((await s.request('/api/v1/market/BTC-USD/trades')).status, 200, 'recent trades: public');
  t.equal((await s.request('/api/v1/market/BTC-USD/candles')).status, 200, 'candles: public');
  for (const [path, permission] of [
    ['/api/v1/market/BTC-USD/orderbook?at=2026-01-01T00:00:00Z', 'book_at'],
    ['/api/v1/market/BTC-USD/trades?start=0', 'history'],
    ['/api/v1/market/BTC-USD/events', 'l3'],
    ['/api/v1/market-data/BTC-USD/history', 'history'],
  ]) {
    const r = await s.request(path);
    t.equal(r.status, 401, `${path}: 401`);
    t.equal(r.body.error.code, 'AUTH_REQUIRED', `${path}: AUTH_REQUIRED`);
    t.match(r.body.error.message, permission, `${path}: names ${permission}`);
  }
  const bulk = await s.request('/api/v1/market-data/bulk', { method: 'POST', body: JSON.stringify({ symbols: ['BTC/USD'] }) });
  t.equal(bulk.body.error.code, 'AUTH_REQUIRED', 'bulk needs a key');

  // WebSocket: public channels work; l3 is refused with a coded error and the connection stays open.
  const ws = await openSocket(`${s.ws}/ws`);
  t.teardown(() => ws.close());
  const got = inbox(ws);
  ws.send(JSON.stringify({ type: 'subscribe', channels: ['l3'], symbols: ['BTC/USD'] }));
  await waitFor('the l3 refusal', () => got.some((m) => m.type === 'error'));
  t.equal(got.find((m) => m.type === 'error').data.code, 'AUTH_REQUIRED', 'l3: AUTH_REQUIRED');
  ws.send(JSON.stringify({ type: 'subscribe', channels: ['l2', 'l3'], symbols: ['BTC/USD'] }));
  await waitFor('the second refusal', () => got.filter((m) => m.type === 'error').length === 2);
  ws.send(JSON.stringify({ type: 'subscribe', channels: ['l2', 'trades'], symbols: ['BTC/USD'] }));
  await waitFor('the l2 snapshot', () => got.some((m) => m.type === 'snapshot' || m.type === 'l2_snapshot' || (m.type === 'subscribed')));
  t.equal(ws.readyState, WebSocket.OPEN, 'the connection stays open after a refusal');
  t.notOk(got.some((m) => m.channel === 'l3' || m.type === 'l3_snapshot' || m.type === 'l3Update'), 'nothing of l3 arrived (the mixed request subscribed nothing)');

});

t.test('--auth required: anonymous callers are refused except health, the token endpoint and the JWKS', async (t) => {
  const s = await startAuthServer(['--auth', 'required']);
  t.teardown(() => s.stop());
  for (const path of ['/api/v1/market/symbols', '/api/v1/market/BTC-USD/orderbook', '/api/v1/market-data/symbols', '/api/v1/market/BTC-USD/trades']) {
    const r = await s.request(path);
    t.equal(r.status, 401, `${path}: 401`);
    t.equal(r.body.error.code, 'AUTH_REQUIRED', `${path}: AUTH_REQUIRED`);
  }
  const health = await s.request('/api/v1/health');
  t.equal(health.status, 200, 'health is open');
  t.equal(health.body.status, 'ok');
  const withBadKey = await s.request('/api/v1/health', { headers: { 'x-api-key': 'bk_0000000000000000_' + 'A'.repeat(43) } });
  t.equal(withBadKey.status, 200, 'health ignores a bad key (probes keep working)');
  t.same(await refusedUpgrade(`${s.ws}/ws`), { status: 401, code: 'AUTH_REQUIRED' }, 'WebSocket upgrade without a token: 401');
  t.same(await refusedUpgrade(`${s.ws}/api/v1/market-data/stream`), { status: 401, code: 'AUTH_REQUIRED' });
});

t.test('--auth off: everyone has everything, as before access control', async (t) => {
  const s = await startAuthServer(['--auth', 'off']);
  t.teardown(() => s.stop());
  t.equal((await s.request('/api/v1/market/BTC-USD/events')).body.error?.code, 'EVENTS_DISABLED', 'events reach the handler (no store of events here)');
  const ranged = await s.request('/api/v1/market/BTC-USD/trades?start=0');
  t.equal(ranged.status, 200, 'stored trades: open');
  const ws = await openSocket(`${s.ws}/ws`);
  t.teardown(() => ws.close());
  const got = inbox(ws);
  ws.send(JSON.stringify({ type: 'subscribe', channels: ['l3'], symbols: ['BTC/USD'] }));
  await waitFor('the l3 subscription', () => got.some((m) => m.type === 'subscribed'));
  t.notOk(got.some((m) => m.type === 'error'), 'l3 is open to everyone');
});

t.test('--auth rejects unknown modes', async (t) => {
  await t.rejects(startAuthServer(['--auth', 'maybe']), { code: 'CONFIG_INVALID' });
});
