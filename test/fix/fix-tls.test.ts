import t, { type Test } from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { encodeFix } from '../helpers/fix-raw';
import { fixSessionsFile } from '../helpers/fix-sessions';
import { waitFor } from '../helpers/test-server';
import { startAuthServer } from '../auth/auth-server';

/**
 * The FIX port over TLS, with a certificate of its own (--fix-tls-cert/--fix-tls-key) or, without
 * one, the HTTPS certificate (--tls-cert/--tls-key): a client that checks the certificate logs on
 * and lists securities over it.
 */
const dir = mkdtempSync(path.join(tmpdir(), 'bookcast-fixtls-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const key = path.join(dir, 'key.pem');
const cert = path.join(dir, 'cert.pem');
execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
const sessions = fixSessionsFile([{ senderCompId: 'SECURE', password: 'tls-password-1' }]);

async function logOnOverTls(t: Test, tlsArgs: string[]): Promise<void> {
  const srv = await startAuthServer(['--auth', 'off', '--symbols', 'BTC/USD', '--fix-port', '0', '--fix-sessions', sessions, ...tlsArgs]);
  t.teardown(() => srv.stop());
  const socket = tls.connect({ host: '127.0.0.1', port: srv.server.fixPort!, ca: readFileSync(cert) });
  await new Promise<void>((resolve, reject) => socket.once('secureConnect', () => resolve()).once('error', reject));
  t.ok(socket.authorized, 'the certificate verifies against its CA');
  let received = '';
  socket.setEncoding('latin1');
  socket.on('data', (text: string) => (received += text));
  const header = (seq: number): [number, string | number][] => [[49, 'SECURE'], [56, 'BOOKCAST'], [34, seq], [52, '20261202-00:00:00.000']];
  socket.write(encodeFix('A', [...header(1), [98, 0], [108, 30], [141, 'Y'], [554, 'tls-password-1']]), 'latin1');
  socket.write(encodeFix('x', [...header(2), [320, 'all'], [559, 4]]), 'latin1');
  await waitFor('a Logon answer and a SecurityList', () => received.includes('\x0135=A\x01') && received.includes('\x0135=y\x01'));
  t.match(received, /\x0155=BTC\/USD\x01/);
  socket.destroy();
}

t.test('FIX over TLS with its own certificate', (t) => logOnOverTls(t, ['--fix-tls-cert', cert, '--fix-tls-key', key]));

t.test('FIX over TLS with the shared HTTPS certificate when it has none of its own', (t) => logOnOverTls(t, ['--tls-cert', cert, '--tls-key', key]));
