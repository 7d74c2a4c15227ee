import t from 'tap';
import { createHash, createPublicKey, verify } from 'node:crypto';
import postgres from 'postgres';
import { freshDatabase, POSTGRES_ADMIN_URL } from '../helpers/postgres';
import { startTestServer, TestServer, waitFor } from '../helpers/test-server';
import { closeOf, openSocket } from '../helpers/ws-connect';

async function fetchRaw(srv: TestServer, path: string): Promise<{ status: number; headers: Headers; body: string }> {
  const res = await fetch(srv.http + path);
  return { status: res.status, headers: res.headers, body: await res.text() };
}

/** The orderbook endpoint's usage entries for this caller, by status, once they are stored. */
async function usageOf(srv: TestServer, endpoint: string): Promise<Map<number, number>> {
  const usage = await srv.get('/api/v1/usage');
  const counts = new Map<number, number>();
  for (const e of usage.body.endpoints ?? []) if (e.endpoint === endpoint) counts.set(e.status, e.requests);
  return counts;
}

const BOOK = '/api/v1/market/:symbol/orderbook';

async function exercise(t: any, srv: TestServer): Promise<void> {
  for (let i = 0; i < 3; i++) t.equal((await fetchRaw(srv, '/api/v1/market/BTC-USD/orderbook?depth=5')).status, 200);
  t.equal((await fetchRaw(srv, '/api/v1/market/NOPE-USD/orderbook')).status, 404);
  await waitFor('the usage rows to be stored', async () => {
    const counts = await usageOf(srv, BOOK);
    return counts.get(200) === 3 && counts.get(404) === 1;
  });
  const usage = (await srv.get('/api/v1/usage')).body;
  t.equal(usage.subject, 'ip:127.0.0.1', 'an anonymous caller sees the usage of its own address');
  t.ok(usage.requests >= 4, 'the summary counts every request');
}

t.test('PGlite: usage rows (COPY through the persistence worker) and the caller\'s own summary; signed snapshots verify with the published key', async (t) => {
  const srv = await startTestServer(['--source', 'none', '--symbols', 'BTC/USD', '--sign-snapshots', 'true']);
  t.teardown(() => srv.server.stop());
  await exercise(t, srv);

  const jwks = (await srv.get('/api/v1/signing-key')).body;
  t.match(jwks.keys[0], { kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA' });
  const key = createPublicKey({ key: jwks.keys[0], format: 'jwk' });
  for (const path of ['/api/v1/market/BTC-USD/orderbook?depth=5', '/api/v1/market/BTC-USD/ticker', '/api/v1/market-data/BTC-USD/latest']) {
    const r = await fetchRaw(srv, path);
    const m = /^keyid="([0-9a-f]{16})", sig="([A-Za-z0-9_-]+)"$/.exec(r.headers.get('bookcast-signature') ?? '');
    t.ok(m, `${path}: a Bookcast-Signature header`);
    t.equal(m![1], jwks.keys[0].kid, 'naming the published key');
    const sig = Buffer.from(m![2], 'base64url');
    t.equal(verify(null, new Uint8Array(Buffer.from(r.body, 'utf8')), key, new Uint8Array(sig)), true, `${path}: the signature verifies over the exact body`);
    t.equal(verify(null, new Uint8Array(Buffer.from(r.body.replace(/"sequence":\d+/, '"sequence":1'), 'utf8')), key, new Uint8Array(sig)), false, 'an edited body does not');
  }
  t.equal((await fetchRaw(srv, '/api/v1/market/symbols')).headers.get('bookcast-signature'), null, 'lists are not signed');

  // WebSocket: every snapshot and heartbeat is followed by a signature frame over its exact bytes,
  // in every dialect (binary frames included); then the closed connections have their usage rows.
  for (const [path, marketData] of [['/ws', false], ['/ws?format=flatbuffers', false], ['/api/v1/market-data/stream', true]] as const) {
    const ws = await openSocket(srv.url + path);
    const frames: { bytes: Buffer; binary: boolean }[] = [];
    ws.on('message', (data: Buffer, binary: boolean) => frames.push({ bytes: Buffer.from(new Uint8Array(data)), binary }));
    const text = (f: { bytes: Buffer; binary: boolean }) => (f.binary ? null : JSON.parse(f.bytes.toString()));
    const signatures = () => frames.map(text).filter((m) => m !== null && (m.type === 'signature' || m.type === 'SIGNATURE')).map((m) => (marketData ? m.payload : m.data));
    ws.send(marketData ? JSON.stringify({ type: 'SUBSCRIBE', request_id: 1, payload: { symbols: ['BTC/USD'], data_types: ['ORDERBOOK'] } }) : JSON.stringify({ type: 'subscribe', channels: ['l2'], symbols: ['BTC/USD'] }));
    // The snapshot's signature, then a heartbeat's: two signed frames at least.
    await waitFor(`${path}: a snapshot and a heartbeat, each signed`, () => signatures().length >= 2);
    const byDigest = new Map(frames.map((f) => [createHash('sha256').update(new Uint8Array(f.bytes)).digest('base64url'), f]));
    const signed = signatures().map((sig) => {
      const f = byDigest.get(sig.sha256);
      t.ok(f, `${path}: the signature's sha256 names a frame received`);
      t.equal(sig.key_id, jwks.keys[0].kid, `${path}: naming the published key`);
      t.equal(verify(null, new Uint8Array(f!.bytes), key, new Uint8Array(Buffer.from(sig.sig, 'base64url'))), true, `${path}: the signature verifies over that frame's exact bytes`);
      return f!;
    });
    const kinds = signed.map((f) => (f.binary ? 'binary' : text(f).type === 'DATA' ? text(f).payload.type : text(f).type));
    if (path.includes('flatbuffers')) t.ok(signed.every((f) => f.binary), `${path}: the signed frames are the binary snapshot and heartbeats`);
    else t.ok(kinds.some((k) => /snapshot/.test(k)) && kinds.some((k) => /heartbeat/i.test(k)), `${path}: a snapshot and a heartbeat are signed (${kinds.join(', ')})`);
    t.notOk(kinds.some((k) => /subscribed/i.test(k)), `${path}: replies are not signed`);
    ws.close();
    await closeOf(ws);
  }
  await waitFor('the three connections\' usage rows', async () => {
    const endpoints = (await srv.get('/api/v1/usage')).body.endpoints ?? [];
    const ws = endpoints.filter((e: any) => e.method === 'WS');
    return ws.reduce((n: number, e: any) => n + e.requests, 0) === 3;
  });
  const wsRows = ((await srv.get('/api/v1/usage')).body.endpoints as any[]).filter((e) => e.method === 'WS');
  t.same(wsRows.map((e) => [e.endpoint, e.status, e.requests]).sort(), [['/api/v1/market-data/stream', 101, 1], ['/ws', 101, 2]], 'one row per connection, status 101, by endpoint');
  for (const e of wsRows) t.ok(e.request_bytes > 0 && e.response_bytes > e.request_bytes, `${e.endpoint}: bytes received (the subscribe) and sent (snapshot, heartbeats, signatures) are counted`);
  // Rows are written as they come (the summary above read them back): none dropped; the waiting count drains to zero.
  await waitFor('no usage row waiting for the store', async () => (await srv.get('/api/v1/health')).body.persistence.usage_rows.waiting === 0);
  t.equal((await srv.get('/api/v1/health')).body.persistence.usage_rows.dropped, 0, 'health: no usage row dropped');
});

t.test('without --sign-snapshots: no signature, and the key endpoint says so', async (t) => {
  const srv = await startTestServer(['--source', 'none', '--symbols', 'BTC/USD', '--usage-accounting', 'false']);
  t.teardown(() => srv.server.stop());
  t.equal((await fetchRaw(srv, '/api/v1/market/BTC-USD/orderbook')).headers.get('bookcast-signature'), null);
  t.match(await srv.get('/api/v1/signing-key'), { status: 404, body: { error: { code: 'SIGNING_DISABLED' } } });
  t.match(await srv.get('/api/v1/usage'), { status: 404, body: { error: { code: 'USAGE_DISABLED' } } });
});

t.test('PostgreSQL: api_usage, api_metrics_ts and client_usage_analytics in partitions, addresses anonymized', async (t) => {
  const db = await freshDatabase('usage');
  if (db === null) {
    t.plan(0, `PostgreSQL unreachable at ${POSTGRES_ADMIN_URL} (set BOOKCAST_TEST_POSTGRES; with CI=true this fails)`);
    return;
  }
  t.teardown(() => db.drop());
  const srv = await startTestServer(['--source', 'none', '--symbols', 'BTC/USD', '--database-url', db.url, '--anonymize-ip', 'true']);
  t.teardown(() => srv.server.stop());
  await exercise(t, srv);
  const sql = postgres(db.url, { max: 1, onnotice: () => undefined });
  t.teardown(() => sql.end({ timeout: 1 }));
  const usage = await sql`select count(*)::int as n, min(ip_address) as ip, bool_and(client_id is null) as anonymous from api_usage where endpoint = ${BOOK}`;
  t.same(usage[0], { n: 4, ip: '127.0.0.0', anonymous: true }, 'one row per request; the address kept to its /24');
  const metrics = await sql`select status_code, sum(requests)::int as requests from api_metrics_ts where endpoint = ${BOOK} group by status_code order by status_code`;
  t.same(metrics.map((r) => [r.status_code, r.requests]), [[200, 3], [404, 1]], 'per-minute metrics agree with the rows');
  const daily = await sql`select requests::int, errors::int from client_usage_analytics where subject = 'ip:127.0.0.1'`;
  t.equal(daily.length, 1);
  t.ok(daily[0].requests >= 4 && daily[0].errors >= 1, 'the daily roll-up per subject');
  const flavor = (await sql`select flavor from accounting_migrations`)[0].flavor;
  if (flavor === 'partitioned') {
    const parts = await sql`select parent.relname as parent, count(*)::int as n from pg_inherits join pg_class parent on parent.oid = inhparent where parent.relname in ('api_usage', 'api_metrics_ts', 'client_usage_analytics') group by 1 order by 1`;
    for (const p of parts) t.ok(p.n >= 2, `${p.parent}: a default partition and dated ones`);
    const inDefault = await sql`select count(*)::int as n from api_usage_default`;
    t.equal(inDefault[0].n, 0, 'rows land in their day\'s partition, not the default');
  } else {
    const hyper = await sql`select hypertable_name from timescaledb_information.hypertables where hypertable_name in ('api_usage', 'api_metrics_ts', 'client_usage_analytics')`;
    t.equal(hyper.length, 3, 'hypertables');
  }
});
