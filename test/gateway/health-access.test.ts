import t from 'tap';
import { sharedTestServer, startTestServer } from '../helpers/test-server';
import { isLoopback } from '../../src/gateway/health-access';

const PUBLIC = ['status', 'uptime_s'];

/** A server that shows no health details, for the subtests that only ask it questions. */
const hiddenDetails = sharedTestServer(t, ['--rate', '100', '--health-details', 'none']);

t.test('public health is status and uptime; details only where --health-details allows', async (t) => {
  const hidden = await hiddenDetails();
  const minimal = await hidden.get('/api/v1/health');
  t.equal(minimal.status, 200);
  t.same(Object.keys(minimal.body).sort(), PUBLIC, 'none: only status and uptime');
  t.equal(minimal.body.status, 'ok');

  const local = await startTestServer(['--rate', '100']);
  t.teardown(() => local.server.stop());
  const details = await local.get('/api/v1/health');
  t.ok('persistence' in details.body && 'workers' in details.body && 'connection_limits' in details.body, 'local (the default): a loopback client sees the details');
  const proxied = await fetch(`${local.http}/api/v1/health`, { headers: { 'x-forwarded-for': '203.0.113.9' } });
  t.same(Object.keys((await proxied.json()) as object).sort(), PUBLIC, 'local: a request a proxy forwarded sees the public answer');
  const forwarded = await fetch(`${local.http}/api/v1/health`, { headers: { forwarded: 'for=203.0.113.9' } });
  t.same(Object.keys((await forwarded.json()) as object).sort(), PUBLIC, 'local: so does one with Forwarded');
});

t.test('loopback addresses in the forms uWS writes them', async (t) => {
  for (const a of ['127.0.0.1', '127.1.2.3', '::1', '0000:0000:0000:0000:0000:0000:0000:0001', '0000:0000:0000:0000:0000:ffff:7f00:0001', '::ffff:127.0.0.1']) t.ok(isLoopback(a), a);
  for (const a of ['10.0.0.1', '203.0.113.9', '2001:db8::1', '0000:0000:0000:0000:0000:ffff:0a00:0001', '::2']) t.notOk(isLoopback(a), a);
});

t.test('no answer names the server software or its version', async (t) => {
  const server = await hiddenDetails();
  for (const path of ['/api/v1/health', '/api/v1/market/symbols', '/no/such/endpoint', '/ws']) {
    const res = await fetch(`${server.http}${path}`);
    await res.arrayBuffer();
    const names = [...res.headers.keys()];
    t.notOk(names.some((n) => n === 'server' || n === 'x-powered-by' || n.startsWith('uwebsockets')), `${path}: headers ${names.join(', ')}`);
  }
});
