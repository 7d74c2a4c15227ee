import t from 'tap';
import { loadConfig, OPTIONS } from '../src/config';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

t.test('defaults, environment and flags, in that order of precedence', async (t) => {
  const d = loadConfig([], {});
  t.equal(d.host, '127.0.0.1');
  t.equal(d.port, 8080);
  t.equal(d.instruments.length, 5);
  t.same(d.source, { kind: 'simulator', rate: 500, seed: 1 });
  const e = loadConfig([], { BOOKCAST_PORT: '9000', BOOKCAST_SYMBOLS: 'eth-usd' });
  t.equal(e.port, 9000);
  t.same(e.instruments.map((i) => i.symbol), ['ETH/USD']);
  const f = loadConfig(['--port', '9100', '--symbols=', '--symbol-count', '3'], { BOOKCAST_PORT: '9000' });
  t.equal(f.port, 9100);
  t.same(f.instruments.map((i) => i.symbol), ['SIM001/USD', 'SIM002/USD', 'SIM003/USD']);
  t.ok(f.referencePrices['SIM002/USD']);
  const l = loadConfig(['--source', 'lobster:/x/AAPL_2012-06-21_34200000_57600000_message_1.csv', '--speed', '0'], {});
  t.same(l.source, { kind: 'lobster', path: '/x/AAPL_2012-06-21_34200000_57600000_message_1.csv', speed: 0, originalTime: false });
});

t.test('invalid options are CONFIG_INVALID with a message naming them', async (t) => {
  const bad: [string[], RegExp][] = [
    [['--port', '70000'], /port/],
    [['--port', '-1'], /port/],
    [['--workers', '0'], /workers/],
    [['--rate', '1.5'], /rate/],
    [['--nope', '1'], /unknown option --nope/],
    [['--port'], /needs a value/],
    [['stray'], /unexpected argument/],
    [['--symbols', 'DOGE/USD'], /unknown built-in symbol/],
    [['--symbols', ''], /no symbols/],
    [['--source', 'kafka'], /source must be/],
    [['--speed', '-2', '--source', 'lobster:x'], /speed/],
    [['--soft-backpressure', '4096', '--max-backpressure', '2048'], /max-backpressure/],
  ];
  for (const [argv, message] of bad) {
    t.throws(() => loadConfig(argv, {}), { code: 'CONFIG_INVALID', message }, argv.join(' '));
  }
});

t.test('the README documents every option with its environment variable', async (t) => {
  const readme = readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
  for (const o of OPTIONS) t.match(readme, new RegExp(`\\| \`--${o.flag}\` \\| \`${o.env}\` \\|`), o.flag);
});

t.test('FIX options: off by default, a port needs a sessions file under --auth off, TLS files go together', async (t) => {
  t.equal(loadConfig([], {}).fix, null);
  const f = loadConfig(['--fix-port', '0', '--fix-sessions', '/x/sessions.json'], { BOOKCAST_FIX_COMP_ID: 'VENUE' })!.fix!;
  t.same({ port: f.port, compId: f.compId, maxMessageBytes: f.maxMessageBytes, storeMessages: f.storeMessages }, { port: 0, compId: 'VENUE', maxMessageBytes: 16384, storeMessages: 10000 });
  t.equal(loadConfig(['--fix-port', '0'], {}).fix!.sessionsFile, '', 'with access control on, API keys log on without a sessions file');
  const shared = loadConfig(['--fix-port', '0', '--tls-cert', 'c.pem', '--tls-key', 'k.pem', '--tls-passphrase', 'pw'], {}).fix!;
  t.same([shared.tlsCert, shared.tlsKey, shared.tlsPassphrase], ['c.pem', 'k.pem', 'pw'], 'no FIX certificate: the shared one');
  const own = loadConfig(['--fix-port', '0', '--tls-cert', 'c.pem', '--tls-key', 'k.pem', '--fix-tls-cert', 'f.pem', '--fix-tls-key', 'fk.pem'], {}).fix!;
  t.same([own.tlsCert, own.tlsKey, own.tlsPassphrase], ['f.pem', 'fk.pem', ''], 'its own certificate first');
  const bad: [string[], RegExp][] = [
    [['--fix-port', '9878', '--auth', 'off'], /--fix-sessions/],
    [['--fix-port', '9878', '--fix-sessions', 's.json', '--fix-tls-cert', 'c.pem'], /go together/],
    [['--fix-port', '9878', '--fix-sessions', 's.json', '--fix-comp-id', 'has space'], /fix-comp-id/],
    [['--fix-port', '9878', '--fix-sessions', 's.json', '--fix-max-message-bytes', '10'], /fix-max-message-bytes/],
  ];
  for (const [argv, message] of bad) t.throws(() => loadConfig(argv, {}), { code: 'CONFIG_INVALID', message }, argv.join(' '));
});

t.test('bookcast standby: needs Redis, a lease and a publisher token; --lease-ms is off by default', async (t) => {
  t.equal(loadConfig([], {}).leaseMs, 0, 'no lease unless asked for');
  t.equal(loadConfig(['--lease-ms', '600'], {}).leaseMs, 600);
  const token = ['--publisher-token', 'a-token-of-16-chars'];
  const s = loadConfig(['--source', 'standby', '--redis-url', 'redis://r:6379', '--lease-ms', '600', ...token, '--symbols='], {});
  t.same(s.source, { kind: 'standby', redisUrl: 'redis://r:6379', ingest: { kind: 'ingest', token: 'a-token-of-16-chars', maxBatchEvents: 10000, maxBatchBytes: 4 * 1024 * 1024 } }, 'no symbols: they come from the primary');
  t.throws(() => loadConfig(['--source', 'standby', '--lease-ms', '600', ...token], {}), { code: 'CONFIG_INVALID', message: /--redis-url/ });
  t.throws(() => loadConfig(['--source', 'standby', '--redis-url', 'redis://r:6379', ...token], {}), { code: 'CONFIG_INVALID', message: /--lease-ms/ });
  t.throws(() => loadConfig(['--source', 'standby', '--redis-url', 'redis://r:6379', '--lease-ms', '600'], {}), { code: 'CONFIG_INVALID', message: /--publisher-token/ });
  t.throws(() => loadConfig(['--lease-ms', '-1'], {}), { code: 'CONFIG_INVALID' });
});
