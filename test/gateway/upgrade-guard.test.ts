import t from 'tap';
import { startTestServer } from '../helpers/test-server';
import { openSocket, refusedUpgrade } from '../helpers/ws-connect';
import { clientKey } from '../../src/gateway/connection-limits';
import { loadConfig } from '../../src/config';

const TOKEN = 'origin-test-token-0123456789';

t.test('with --allowed-origins, other browser origins are refused 403 on every endpoint; listed ones and non-browser clients open', async (t) => {
  const srv = await startTestServer(['--source', 'ingest', '--publisher-token', TOKEN, '--allowed-origins', 'https://app.example.com, http://localhost:3000']);
  t.teardown(() => srv.server.stop());
  const urls = [`${srv.url}/ws`, `${srv.url}/api/v1/market-data/stream`, `${srv.url}/ingest?session=s1&token=${TOKEN}`];
  for (const url of urls) {
    t.same(await refusedUpgrade(url, {}, { origin: 'https://evil.example' }), { status: 403, code: 'ORIGIN_NOT_ALLOWED' }, `foreign origin: ${url}`);
    t.same(await refusedUpgrade(url, {}, { origin: 'https://app.example.com.evil.example' }), { status: 403, code: 'ORIGIN_NOT_ALLOWED' }, `look-alike origin: ${url}`);
  }
  for (const url of urls) {
    const listed = await openSocket(url, { origin: 'HTTPS://App.Example.com' });
    listed.terminate();
    const plain = await openSocket(url);
    plain.terminate();
  }
  t.pass('listed origins (any case) and clients without an Origin header open');
  const health = await srv.get('/api/v1/health');
  t.equal(health.body.connection_limits.refused_origin, 6, 'health counts the refusals');
});

t.test('connections are counted per IPv4 address, IPv6 per /64', async (t) => {
  t.equal(clientKey('127.0.0.2'), '127.0.0.2');
  t.equal(clientKey('::ffff:10.1.2.3'), '10.1.2.3');
  t.equal(clientKey('0000:0000:0000:0000:0000:ffff:0a01:0203'), '10.1.2.3');
  t.equal(clientKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
  t.equal(clientKey('2001:0DB8:0001:0002:bbbb:cccc:dddd:eeee'), '2001:db8:1:2::/64');
  t.equal(clientKey('0000:0000:0000:0000:0000:0000:0000:0001'), '0:0:0:0::/64');
});

t.test('--allowed-origins takes origins only', async (t) => {
  t.same(loadConfig([], {}).allowedOrigins, [], 'default: every origin');
  t.throws(() => loadConfig(['--allowed-origins', 'app.example.com'], {}), { code: 'CONFIG_INVALID', message: /allowed-origins/ });
  t.throws(() => loadConfig(['--allowed-origins', 'https://app.example.com/path'], {}), { code: 'CONFIG_INVALID' });
});
