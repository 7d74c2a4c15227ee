import t from 'tap';
import * as https from 'node:https';
import * as tls from 'node:tls';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import WebSocket from 'ws';
import { loadConfig } from '../../src/config';
import { startServer } from '../../src/app/server';
import { seedDataDir } from '../helpers/pglite-template';
import { makeTestCa } from '../helpers/test-ca';

function httpsGet(url: string, ca: string): Promise<{ status: number; body: string; protocol: string | null }> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { ca, agent: false }, (res) => {
        let body = '';
        const protocol = (res.socket as tls.TLSSocket).getProtocol();
        res.setEncoding('utf8');
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, protocol }));
      })
      .on('error', reject);
  });
}

/** A TLS handshake with the given protocol bounds: the negotiated protocol, or the error code. */
function handshake(port: number, ca: string, version: tls.SecureVersion): Promise<string> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca, minVersion: version, maxVersion: version }, () => {
      resolve(socket.getProtocol() ?? 'none');
      socket.destroy();
    });
    socket.on('error', (err: NodeJS.ErrnoException) => resolve(`refused: ${err.code}`));
  });
}

t.test('--tls-cert/--tls-key: HTTPS and WSS with TLS 1.3 only, verified against a test CA', async (t) => {
  const ca = makeTestCa();
  t.teardown(() => ca.remove());
  const dataDir = mkdtempSync(path.join(tmpdir(), 'bookcast-tls-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const args = ['--port', '0', '--data-dir', dataDir, '--symbols', 'BTC/USD', '--workers', '1', '--rate', '200', '--tls-cert', ca.cert, '--tls-key', ca.encryptedKey, '--tls-passphrase', ca.passphrase];
  // Its stores start from the initialised template, as every test server's do (initdb in
  // WebAssembly took most of this test's three minutes on a loaded machine).
  await seedDataDir(args);
  const server = await startServer(loadConfig(args, {}));
  t.teardown(() => server.stop());
  t.equal(server.tls, true);
  const base = `https://127.0.0.1:${server.port}`;

  const symbols = await httpsGet(`${base}/api/v1/market/symbols`, ca.ca);
  t.equal(symbols.status, 200);
  t.equal(JSON.parse(symbols.body).symbols[0].symbol, 'BTC/USD');
  t.equal(symbols.protocol, 'TLSv1.3', 'HTTPS negotiates TLS 1.3');

  t.equal(await handshake(server.port, ca.ca, 'TLSv1.3'), 'TLSv1.3');
  t.match(await handshake(server.port, ca.ca, 'TLSv1.2'), /^refused: /, 'a client limited to TLS 1.2 cannot complete a handshake');
  t.match(await handshake(server.port, ca.ca, 'TLSv1.1'), /^refused: /, 'nor one limited to TLS 1.1');
  await t.rejects(httpsGet(`${base}/api/v1/market/symbols`, '') , 'a client that does not trust the test CA refuses the certificate');

  // WSS: subscribe, get the reply and the first ticker over the encrypted socket.
  const ws = new WebSocket(`wss://127.0.0.1:${server.port}/ws`, { ca: ca.ca });
  const messages: any[] = [];
  const got = new Promise<void>((resolve, reject) => {
    ws.on('message', (data) => {
      messages.push(JSON.parse(String(data)));
      if (messages.some((m) => m.type === 'ticker')) resolve();
    });
    ws.on('error', reject);
  });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  t.equal((ws as unknown as { _socket: tls.TLSSocket })._socket.getProtocol(), 'TLSv1.3', 'WSS negotiates TLS 1.3');
  ws.send(JSON.stringify({ type: 'subscribe', channels: ['ticker'], symbols: ['BTC/USD'] }));
  await got;
  const reply = messages.find((m) => m.type === 'subscribed');
  t.match(reply?.data, { channels: ['ticker'], symbols: ['BTC/USD'] }, 'the reply came over WSS');
  ws.close();
});

t.test('TLS options: refused before anything starts when the key cannot be used', async (t) => {
  const ca = makeTestCa();
  t.teardown(() => ca.remove());
  const dataDir = mkdtempSync(path.join(tmpdir(), 'bookcast-tls-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const args = ['--port', '0', '--data-dir', dataDir, '--symbols', 'BTC/USD', '--workers', '1'];
  await t.rejects(startServer(loadConfig([...args, '--tls-cert', ca.cert, '--tls-key', ca.encryptedKey, '--tls-passphrase', 'wrong'], {})), { code: 'CONFIG_INVALID' }, 'a wrong passphrase');
  await t.rejects(startServer(loadConfig([...args, '--tls-cert', ca.cert, '--tls-key', path.join(ca.dir, 'missing.key')], {})), { code: 'CONFIG_INVALID' }, 'a missing key file');
  t.throws(() => loadConfig([...args, '--tls-cert', ca.cert], {}), { code: 'CONFIG_INVALID' }, 'a certificate without a key');
});
