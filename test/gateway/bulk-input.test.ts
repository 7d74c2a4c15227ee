import t, { Test } from 'tap';
import postgres from 'postgres';
import { freshDatabase, POSTGRES_ADMIN_URL } from '../helpers/postgres';
import { startTestServer, TestServer, waitFor } from '../helpers/test-server';

async function bulk(srv: TestServer, body: unknown) {
  const res = await fetch(`${srv.http}/api/v1/market-data/bulk`, { method: 'POST', body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as any };
}

/** Store-facing requests with times no database column can hold: coded 400s, never the database's words. */
async function outOfRangeTimes(t: Test, srv: TestServer): Promise<void> {
  for (const asOf of [-1e300, 1e300, -1, 7_258_118_400_000, '-271821-04-20T00:00:00Z', '9999-12-31T23:59:59Z']) {
    const r = await bulk(srv, { symbols: ['BTC/USD'], as_of: asOf });
    t.equal(r.status, 400, `as_of ${asOf}`);
    t.equal(r.body.error?.code, 'INVALID_PARAMETER', `as_of ${asOf}`);
    t.match(r.body.error?.message, /"as_of" must be/, `as_of ${asOf}: our message`);
  }
  const fractional = await bulk(srv, { symbols: ['BTC/USD'], as_of: 1_000_000_000_000.0001 });
  t.equal(fractional.status, 200, 'a fractional millisecond is a time (to the µs)');
  t.same(Object.keys(fractional.body.errors), ['BTC/USD']);
  t.equal(fractional.body.errors['BTC/USD'].code, 'HISTORY_UNAVAILABLE');
  for (const path of [
    '/api/v1/market/BTC-USD/trades?start=999999999999999',
    '/api/v1/market/BTC-USD/candles?start=0&end=999999999999999',
    '/api/v1/market-data/BTC-USD/history?start_time=0&end_time=999999999999999',
    '/api/v1/market-data/BTC-USD/history?start_time=-5&end_time=5',
  ]) {
    const r = await srv.get(path);
    t.equal(r.status, 400, path);
    t.equal(r.body.error?.code, 'INVALID_PARAMETER', path);
  }
}

t.test('bulk and history times out of range: coded 400 (embedded store); names like Object.prototype members keep their errors', async (t) => {
  const srv = await startTestServer(['--source', 'none', '--symbols', 'BTC/USD']);
  t.teardown(() => srv.server.stop());
  await outOfRangeTimes(t, srv);
  const names = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'BTC/USD'];
  const r = await bulk(srv, { symbols: names });
  t.equal(r.status, 200);
  t.same(Object.keys(r.body.errors).sort(), names.slice(0, 4).sort(), 'one error per unknown name, __proto__ included');
  for (const name of names.slice(0, 4)) t.equal(r.body.errors[name]?.code, 'UNKNOWN_SYMBOL', name);
  t.same(Object.keys(r.body.data), ['BTC/USD']);
  t.equal(r.body.count, 1);
});

t.test('bulk and history times out of range, and store errors: coded, generic (PostgreSQL)', async (t) => {
  const db = await freshDatabase('bulk_input');
  if (db === null) {
    t.plan(0, `PostgreSQL unreachable at ${POSTGRES_ADMIN_URL} (set BOOKCAST_TEST_POSTGRES; with CI=true this fails)`);
    return;
  }
  t.teardown(() => db.drop());
  const srv = await startTestServer(['--source', 'none', '--symbols', 'BTC/USD', '--database-url', db.url]);
  t.teardown(() => srv.server.stop());
  await outOfRangeTimes(t, srv);
  // A store that fails underneath: the client sees a code and the catalog's words, not the database's.
  const sql = postgres(db.url, { max: 1, onnotice: () => undefined });
  await sql.unsafe('drop table trades cascade; drop table book_snapshots cascade');
  await sql.end();
  const trades = await srv.get('/api/v1/market/BTC-USD/trades?start=2024-01-01T00:00:00Z&end=2024-01-02T00:00:00Z');
  t.equal(trades.status, 503);
  t.equal(trades.body.error.code, 'STORE_UNAVAILABLE');
  t.notMatch(trades.body.error.message, /relation|trades|does not exist/, 'no database text');
  const past = await bulk(srv, { symbols: ['BTC/USD'], as_of: '2024-01-01T00:00:00Z' });
  t.equal(past.status, 200);
  t.equal(past.body.errors['BTC/USD'].code, 'STORE_UNAVAILABLE');
  t.notMatch(past.body.errors['BTC/USD'].message, /relation|book_snapshots|does not exist/, 'no database text in errors');
  await waitFor('the detail to reach the operator (health)', async () => /does not exist/.test((await srv.get('/api/v1/health')).body.persistence?.last_error ?? ''));
});
