import t from 'tap';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import WebSocket from 'ws';
import { createLocalJWKSet, exportJWK, generateKeyPair, jwtVerify, SignJWT, UnsecuredJWT, base64url } from 'jose';
import { authCommand } from '../../src/cli/auth-commands';
import { seedDataDir } from '../helpers/pglite-template';
import { AuthServer, startAuthServer, TestClock } from './auth-server';
import { closeOf, openSocket, refusedUpgrade } from '../helpers/ws-connect';
import { waitFor } from '../helpers/test-server';

/** Runs a CLI command in this process; its printed lines and exit code. */
async function cli(command: string, args: string[]): Promise<{ code: number; lines: string[] }> {
  await seedDataDir(args);
  const lines: string[] = [];
  const code = await authCommand(command, args, (l) => lines.push(l));
  return { code, lines };
}

async function cliJson(command: string, args: string[]): Promise<any> {
  const r = await cli(command, [...args, '--json']);
  if (r.code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${r.code}`);
  return JSON.parse(r.lines[0]);
}

function inbox(ws: WebSocket): any[] {
  const messages: any[] = [];
  ws.on('message', (data, binary) => {
    if (!binary) messages.push(JSON.parse(data.toString()));
  });
  return messages;
}

const dir = mkdtempSync(path.join(tmpdir(), 'bookcast-auth-keys-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const store = ['--data-dir', dir];

t.test('keys, tokens, admin REST, brute force and WebSocket auth against one server', async (t) => {
  // CLI round trip before the server starts (the embedded store has one owner at a time).
  const admin = await cliJson('clients', ['create', '--name', 'ops', '--type', 'internal', '--tier', 'admin', ...store]);
  t.match(admin.client_id, /^cl_[0-9a-f]{16}$/);
  t.equal((statSync(path.join(dir, 'auth-secret')).mode & 0o777).toString(8), '600', 'the generated server secret is readable by its owner only');
  const adminKey = await cliJson('keys', ['create', '--client', admin.client_id, '--name', 'ops-key', ...store]);
  t.match(adminKey.api_key, /^bk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/, 'a key: public id, 256-bit secret');
  const pro = await cliJson('clients', ['create', '--name', 'quant', '--tier', 'professional', ...store]);
  const proKey = await cliJson('keys', ['create', '--client', pro.client_id, ...store]);
  const std = await cliJson('clients', ['create', '--name', 'retail', '--tier', 'standard', ...store]);
  const stdKey = await cliJson('keys', ['create', '--client', std.client_id, '--permissions', 'l1,l2', ...store]);
  const listed = await cliJson('keys', ['list', ...store]);
  t.equal(listed.keys.length, 3, 'keys list shows the three keys');
  t.notOk(JSON.stringify(listed).includes(proKey.api_key.slice(20)), 'a listed key never shows its secret');
  t.equal((await cli('keys', ['create', '--client', std.client_id, '--permissions', 'l3', ...store])).code, 1, 'a key cannot exceed its client');
  t.equal((await cli('clients', ['create', ...store])).code, 2, 'bad usage exits 2');
  t.equal((await cliJson('keys', ['list', ...store])).keys.length, 3, 'refused commands changed nothing');

  const clock = new TestClock();
  const s: AuthServer = await startAuthServer(['--auth-token-ttl', '300'], { clock: clock.read }, dir);
  t.teardown(() => s.stop());

  t.test('while the server holds the embedded store, the CLI refuses with AUTH_STORE_LOCKED and changes nothing', async (t) => {
    const said: string[] = [];
    const error = console.error;
    console.error = (line: string) => said.push(line);
    let code: number;
    try {
      code = (await cli('clients', ['create', '--name', 'late', ...store])).code;
    } finally {
      console.error = error;
    }
    t.equal(code, 1, 'exit code 1');
    t.match(said.join('\n'), /AUTH_STORE_LOCKED: .*\/api\/v1\/admin/, 'the coded error points at the admin endpoints');
    const clients = await s.request('/api/v1/admin/clients', { headers: { 'x-api-key': adminKey.api_key } });
    t.notOk(JSON.stringify(clients.body).includes('"late"'), 'no client was made');
  });

  const withKey = (key: string) => ({ headers: { 'x-api-key': key } });
  const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });
  const post = (p: string, body: unknown, headers: Record<string, string> = {}) =>
    s.request(p, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });

  t.test('API keys unlock by permission', async (t) => {
    t.equal((await s.request('/api/v1/market/BTC-USD/events', withKey(proKey.api_key))).body.error?.code, 'EVENTS_DISABLED', 'professional key: L3 events pass admission');
    const denied = await s.request('/api/v1/market/BTC-USD/events', withKey(stdKey.api_key));
    t.equal(denied.status, 403);
    t.equal(denied.body.error.code, 'PERMISSION_DENIED', 'a key without l3: 403');
    t.equal((await s.request('/api/v1/market/BTC-USD/orderbook?depth=1', withKey(stdKey.api_key))).status, 200, 'l2 with the standard key');
    const unknown = await s.request('/api/v1/market/BTC-USD/ticker', withKey(`bk_${'0'.repeat(16)}_${'A'.repeat(43)}`));
    t.equal(unknown.status, 401);
    t.equal(unknown.body.error.code, 'INVALID_API_KEY');
    t.equal((await s.request('/api/v1/market/BTC-USD/ticker', withKey('not-a-key'))).body.error.code, 'INVALID_API_KEY', 'malformed key');
    const forged = proKey.api_key.slice(0, -4) + (proKey.api_key.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    t.equal((await s.request('/api/v1/market/BTC-USD/ticker', withKey(forged))).body.error.code, 'INVALID_API_KEY', 'right key id, wrong secret');
    const mine = await s.request('/api/v1/auth/keys', withKey(stdKey.api_key));
    t.same(mine.body.keys.map((k: any) => Object.keys(k).sort()), [['created_at', 'expires_at', 'key_id', 'name', 'permissions', 'rate_limit']]);
    t.equal(mine.body.keys[0].key_id, stdKey.key_id, "GET /auth/keys lists the caller's own keys");
    t.equal((await s.request('/api/v1/auth/keys')).body.error.code, 'AUTH_REQUIRED');
    const health = await s.request('/api/v1/health', { headers: { ...withKey(adminKey.api_key).headers, 'x-forwarded-for': '203.0.113.1' } });
    t.ok('workers' in health.body, 'an admin key sees health details even through a proxy');
  });

  let access = '';
  t.test('token grants, JWKS and bad tokens', async (t) => {
    const grant = await post('/api/v1/auth/token', { grant_type: 'api_key', api_key: proKey.api_key });
    t.equal(grant.status, 200);
    t.same(Object.keys(grant.body).sort(), ['access_token', 'expires_in', 'issued_at', 'scope', 'token_type']);
    t.equal(grant.headers.get('cache-control'), 'no-store');
    access = grant.body.access_token;
    const jwks = (await s.request('/.well-known/jwks.json')).body;
    const { payload, protectedHeader } = await jwtVerify(access, createLocalJWKSet(jwks), { issuer: 'bookcast', audience: 'bookcast' });
    t.equal(protectedHeader.alg, 'EdDSA');
    t.equal(payload.sub, pro.client_id, 'the JWKS verifies the token (jose, in the test)');
    t.equal((await s.request('/api/v1/market/BTC-USD/events', bearer(access))).body.error?.code, 'EVENTS_DISABLED', 'bearer token: L3 passes');
    const narrow = await post('/api/v1/auth/token', { grant_type: 'api_key', api_key: proKey.api_key, scope: 'l1 l2' });
    t.equal(narrow.body.scope, 'l1 l2');
    t.equal((await s.request('/api/v1/market/BTC-USD/events', bearer(narrow.body.access_token))).body.error.code, 'PERMISSION_DENIED', 'a narrowed scope holds');
    t.equal((await post('/api/v1/auth/token', { grant_type: 'api_key', api_key: stdKey.api_key, scope: 'l3' })).body.error.code, 'PERMISSION_DENIED', 'a scope cannot widen');

    // Forged and broken tokens.
    const [header, body] = access.split('.');
    const none = new UnsecuredJWT({ sub: pro.client_id, scope: 'l3', tier: 'admin', key: null }).setIssuer('bookcast').setAudience('bookcast').setIssuedAt().setExpirationTime('1h').encode();
    const publicJwk = jwks.keys[0];
    const hs256 = await new SignJWT({ scope: 'l3', tier: 'admin', key: null })
      .setProtectedHeader({ alg: 'HS256', kid: publicJwk.kid })
      .setSubject(pro.client_id).setIssuer('bookcast').setAudience('bookcast').setIssuedAt().setNotBefore('0s').setExpirationTime('1h')
      .sign(new TextEncoder().encode(JSON.stringify(publicJwk)));
    const other = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const wrongKey = await new SignJWT({ scope: 'l3', tier: 'admin', key: null })
      .setProtectedHeader({ alg: 'EdDSA', kid: publicJwk.kid })
      .setSubject(pro.client_id).setIssuer('bookcast').setAudience('bookcast').setIssuedAt().setNotBefore('0s').setExpirationTime('1h')
      .sign(other.privateKey);
    const tampered = `${header}.${base64url.encode(JSON.stringify({ ...JSON.parse(new TextDecoder().decode(base64url.decode(body))), scope: 'admin' }))}.${access.split('.')[2]}`;
    t.ok(await exportJWK(other.publicKey));
    for (const [name, token] of [['alg none', none], ['HS256 keyed with the public key', hs256], ['wrongly signed', wrongKey], ['tampered claims', tampered], ['not a JWT', 'abc.def'], ['garbage', '%%%']] as const) {
      const r = await s.request('/api/v1/market/BTC-USD/ticker', bearer(token));
      t.equal(r.status, 401, `${name}: 401`);
      t.equal(r.body.error.code, 'INVALID_TOKEN', `${name}: INVALID_TOKEN`);
    }

    // Expiry and not-before, with the server's injected clock.
    clock.advance(301_000);
    const expired = await s.request('/api/v1/market/BTC-USD/ticker', bearer(access));
    t.equal(expired.body.error.code, 'TOKEN_EXPIRED', 'past exp: TOKEN_EXPIRED');
    const fresh = (await post('/api/v1/auth/token', { grant_type: 'api_key', api_key: proKey.api_key })).body.access_token;
    clock.advance(-3_600_000);
    t.equal((await s.request('/api/v1/market/BTC-USD/ticker', bearer(fresh))).body.error.code, 'TOKEN_NOT_YET_VALID', 'before nbf: TOKEN_NOT_YET_VALID');
    clock.advance(3_600_000);
    t.equal((await s.request('/api/v1/market/BTC-USD/ticker', bearer(fresh))).status, 200);
    access = fresh;

    // Malformed and oversize token requests: each a 401 with its code.
    for (const [body, code, why] of [
      ['not json', 'INVALID_TOKEN_REQUEST', 'not JSON'],
      [{ api_key: 'x' }, 'INVALID_TOKEN_REQUEST', 'no grant_type'],
      [{ grant_type: 'client_credentials' }, 'UNSUPPORTED_GRANT_TYPE', 'an unknown grant'],
      [{ grant_type: 'api_key', api_key: 'x', extra: 1 }, 'INVALID_TOKEN_REQUEST', 'an unknown field'],
      [{ grant_type: 'api_key', api_key: 'x'.repeat(20_000) }, 'TOKEN_REQUEST_TOO_LARGE', 'over 8 KiB'],
    ] as const) {
      const r = await post('/api/v1/auth/token', body);
      t.equal(r.status, 401, `${why}: 401`);
      t.equal(r.body.error.code, code, `${why}: ${code}`);
    }
    const form = await s.request('/api/v1/auth/token', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `grant_type=api_key&api_key=${encodeURIComponent(stdKey.api_key)}` });
    t.equal(form.status, 200, 'a form body works too');
  });

  t.test('password grant, refresh rotation and reuse', async (t) => {
    const login = await post('/api/v1/auth/token', { grant_type: 'password', client_id: pro.client_id, client_secret: pro.client_secret });
    t.equal(login.status, 200);
    t.match(login.body.refresh_token, /^rt_/);
    const first = login.body.refresh_token;
    const second = await post('/api/v1/auth/token', { grant_type: 'refresh_token', refresh_token: first });
    t.equal(second.status, 200, 'a refresh token works once');
    t.not(second.body.refresh_token, first, 'and is rotated');
    const reuse = await post('/api/v1/auth/token', { grant_type: 'refresh_token', refresh_token: first });
    t.equal(reuse.status, 401);
    t.equal(reuse.body.error.code, 'REFRESH_TOKEN_REUSED', 'a spent token: REFRESH_TOKEN_REUSED');
    const after = await post('/api/v1/auth/token', { grant_type: 'refresh_token', refresh_token: second.body.refresh_token });
    t.equal(after.body.error.code, 'INVALID_GRANT', 'the whole family is revoked');
    t.equal((await post('/api/v1/auth/token', { grant_type: 'refresh_token', refresh_token: 'rt_' + 'A'.repeat(43) })).body.error.code, 'INVALID_GRANT');
    t.equal((await post('/api/v1/auth/token', { grant_type: 'password', client_id: 'cl_nobody', client_secret: 'x' })).body.error.code, 'INVALID_GRANT');
  });

  t.test('brute force on the password grant: backoff, then lockout, audited', async (t) => {
    const attempt = () => post('/api/v1/auth/token', { grant_type: 'password', client_id: std.client_id, client_secret: 'wrong' });
    const codes: string[] = [];
    for (let i = 0; i < 3; i++) codes.push((await attempt()).body.error.code);
    t.same(codes, ['INVALID_GRANT', 'INVALID_GRANT', 'INVALID_GRANT']);
    const waiting = await attempt();
    t.equal(waiting.status, 403);
    t.equal(waiting.body.error.code, 'LOGIN_BACKOFF', 'after three failures: backoff');
    const right = await post('/api/v1/auth/token', { grant_type: 'password', client_id: std.client_id, client_secret: std.client_secret });
    t.equal(right.body.error.code, 'LOGIN_BACKOFF', 'even the right secret waits');
    let last = '';
    for (let i = 0; i < 10 && last !== 'LOGIN_LOCKED'; i++) {
      clock.advance(1_000_000);
      last = (await attempt()).body.error.code;
    }
    t.equal(last, 'LOGIN_LOCKED', 'then locked');
    clock.advance(1_000_000);
    t.equal((await post('/api/v1/auth/token', { grant_type: 'password', client_id: std.client_id, client_secret: std.client_secret })).body.error.code, 'LOGIN_LOCKED', 'locked stays locked');
    const activated = await post(`/api/v1/admin/clients/${std.client_id}/activate`, {}, withKey(adminKey.api_key).headers);
    t.equal(activated.status, 200, 'an admin unlocks');
    t.equal((await post('/api/v1/auth/token', { grant_type: 'password', client_id: std.client_id, client_secret: std.client_secret })).status, 200);
  });

  t.test('brute force from one address across client ids: backoff, then the address is locked for an hour, others unaffected', async (t) => {
    // From 127.0.0.2 (loopback takes any 127/8 source): every guess names a client id that does not exist.
    const fromOther = (body: unknown) =>
      new Promise<{ status: number; code: string }>((resolve, reject) => {
        const payload = JSON.stringify(body);
        const req = httpRequest(`${s.http}/api/v1/auth/token`, { method: 'POST', localAddress: '127.0.0.2', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } }, (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode!, code: JSON.parse(text).error?.code ?? 'OK' }));
        });
        req.on('error', reject);
        req.end(payload);
      });
    const guess = (i: number) => fromOther({ grant_type: 'password', client_id: `cl_guess${i}`, client_secret: 'wrong' });
    const codes: string[] = [];
    for (let i = 0; i < 10; i++) codes.push((await guess(i)).code);
    t.same(codes, new Array(10).fill('INVALID_GRANT'), 'ten guesses at unknown clients are checked');
    const waiting = await fromOther({ grant_type: 'password', client_id: pro.client_id, client_secret: pro.client_secret });
    t.same(waiting, { status: 403, code: 'LOGIN_BACKOFF' }, 'then the address waits, even with a right secret');
    let last = '';
    for (let i = 10; i < 40 && last !== 'ADDRESS_LOCKED'; i++) {
      clock.advance(1_000_000);
      last = (await guess(i)).code;
    }
    t.equal(last, 'ADDRESS_LOCKED', 'after 30 failures the address is locked');
    clock.advance(1_000_000);
    t.same(await fromOther({ grant_type: 'password', client_id: pro.client_id, client_secret: pro.client_secret }), { status: 403, code: 'ADDRESS_LOCKED' }, 'locked stays locked within the hour');
    t.equal((await post('/api/v1/auth/token', { grant_type: 'password', client_id: pro.client_id, client_secret: pro.client_secret })).status, 200, 'the client logs in from its own address meanwhile');
    clock.advance(3_700_000);
    t.equal((await fromOther({ grant_type: 'password', client_id: pro.client_id, client_secret: pro.client_secret })).status, 200, 'an hour later the address may log in again');
    t.equal((await guess(99)).code, 'INVALID_GRANT', 'and its count started over');
  });

  t.test('admin REST: clients and keys, revocation and suspension take effect at once', async (t) => {
    const h = withKey(adminKey.api_key).headers;
    t.equal((await s.request('/api/v1/admin/clients', withKey(proKey.api_key))).body.error.code, 'PERMISSION_DENIED', 'admin needs the admin permission');
    const made = await post('/api/v1/admin/keys', { client_id: pro.client_id, name: 'second' }, h);
    t.equal(made.status, 201);
    const key2 = made.body.api_key;
    t.equal((await s.request('/api/v1/market/BTC-USD/ticker', withKey(key2))).status, 200);
    const tokenOfKey2 = (await post('/api/v1/auth/token', { grant_type: 'api_key', api_key: key2 })).body.access_token;
    t.equal((await post(`/api/v1/admin/keys/${made.body.key_id}/revoke`, {}, h)).status, 200);
    t.equal((await s.request('/api/v1/market/BTC-USD/ticker', withKey(key2))).body.error.code, 'API_KEY_REVOKED', 'a revoked key: refused at once');
    t.equal((await s.request('/api/v1/market/BTC-USD/ticker', bearer(tokenOfKey2))).body.error.code, 'API_KEY_REVOKED', 'and so are its tokens');
    const rotated = await post(`/api/v1/admin/keys/${proKey.key_id}/rotate`, {}, h);
    t.equal(rotated.status, 201);
    t.equal((await s.request('/api/v1/market/BTC-USD/ticker', withKey(proKey.api_key))).body.error.code, 'API_KEY_REVOKED', 'rotation revokes the old key');
    t.equal((await s.request('/api/v1/market/BTC-USD/events', withKey(rotated.body.api_key))).body.error.code, 'EVENTS_DISABLED', 'the new one has the same permissions');
    const expiring = await post('/api/v1/admin/keys', { client_id: pro.client_id, name: 'short', expires_at: new Date(clock.now + 60_000).toISOString() }, h);
    t.equal((await s.request('/api/v1/market/BTC-USD/ticker', withKey(expiring.body.api_key))).status, 200);
    clock.advance(61_000);
    t.equal((await s.request('/api/v1/market/BTC-USD/ticker', withKey(expiring.body.api_key))).body.error.code, 'API_KEY_EXPIRED');

    const before = (await s.request('/api/v1/admin/keys', { headers: h })).body.keys.length;
    t.equal((await post('/api/v1/admin/keys/nokey/revoke', {}, h)).body.error.code, 'UNKNOWN_KEY');
    t.equal((await post('/api/v1/admin/keys', { client_id: 'cl_nobody' }, h)).body.error.code, 'UNKNOWN_CLIENT');
    t.equal((await post('/api/v1/admin/keys', { client_id: pro.client_id, permissions: ['root'] }, h)).body.error.code, 'INVALID_PARAMETER');
    t.equal((await post('/api/v1/admin/keys', '{', h)).body.error.code, 'INVALID_JSON');
    t.equal((await s.request('/api/v1/admin/keys', { headers: h })).body.keys.length, before, 'refused admin requests changed nothing');

    const suspended = await post(`/api/v1/admin/clients/${pro.client_id}/suspend`, {}, h);
    t.equal(suspended.body.status, 'suspended');
    const refused = await s.request('/api/v1/market/BTC-USD/ticker', withKey(rotated.body.api_key));
    t.equal(refused.status, 403);
    t.equal(refused.body.error.code, 'CLIENT_SUSPENDED', 'a suspended client: 403 at once');
    t.equal((await post('/api/v1/auth/token', { grant_type: 'password', client_id: pro.client_id, client_secret: pro.client_secret })).body.error.code, 'CLIENT_SUSPENDED');
    await post(`/api/v1/admin/clients/${pro.client_id}/activate`, {}, h);
    proKey.api_key = rotated.body.api_key;
    t.equal((await s.request('/api/v1/market/BTC-USD/ticker', withKey(proKey.api_key))).status, 200, 'active again');

    const created = await post('/api/v1/admin/clients', { name: 'newco', tier: 'partner', client_type: 'partner' }, h);
    t.equal(created.status, 201);
    t.ok(created.body.client_secret, 'the client secret is in the creation answer');
    const list = await s.request('/api/v1/admin/clients', { headers: h });
    t.notOk(JSON.stringify(list.body).includes(created.body.client_secret), 'and nowhere after');
    const verdict = await s.request('/api/v1/admin/audit/verify', { headers: h });
    t.equal(verdict.body.ok, true, 'the audit chain is whole');
    t.ok(verdict.body.rows > 10, 'with the logins, failures and admin actions in it');
  });

  t.test('WebSocket: token at upgrade, l3 for public refused, expiry closes unless re-authenticated', async (t) => {
    const anonymous = await openSocket(`${s.ws}/ws`);
    const anonGot = inbox(anonymous);
    anonymous.send(JSON.stringify({ type: 'subscribe', channels: ['l3'], symbols: ['BTC/USD'] }));
    await waitFor('the refusal', () => anonGot.some((m) => m.type === 'error'));
    t.equal(anonGot.find((m) => m.type === 'error').data.code, 'AUTH_REQUIRED');
    t.equal(anonymous.readyState, WebSocket.OPEN);
    anonymous.close();

    t.same(await refusedUpgrade(`${s.ws}/ws?token=garbage.token.here`), { status: 401, code: 'INVALID_TOKEN' }, 'a bad token refuses the upgrade');
    const token = () => post('/api/v1/auth/token', { grant_type: 'api_key', api_key: proKey.api_key }).then((r) => r.body.access_token as string);
    const viaQuery = await openSocket(`${s.ws}/ws?token=${await token()}`);
    const queryGot = inbox(viaQuery);
    viaQuery.send(JSON.stringify({ type: 'subscribe', channels: ['l3'], symbols: ['BTC/USD'] }));
    await waitFor('the l3 subscription', () => queryGot.some((m) => m.type === 'subscribed' || m.type === 'error'));
    t.equal(queryGot.find((m) => m.type === 'subscribed' || m.type === 'error').type, 'subscribed', 'a professional token subscribes to l3');
    const viaProtocol = new WebSocket(`${s.ws}/ws`, ['bookcast.v1', `bookcast.token.${await token()}`]);
    await new Promise((resolve, reject) => {
      viaProtocol.once('open', resolve);
      viaProtocol.once('error', reject);
    });
    t.equal(viaProtocol.protocol, 'bookcast.v1', 'the token subprotocol is accepted and the plain one answered');
    const protoGot = inbox(viaProtocol);
    const viaKey = await openSocket(`${s.ws}/ws`, { headers: { 'x-api-key': proKey.api_key } });

    // Near expiry, one connection re-authenticates in-band; the other does not.
    clock.advance(290_000);
    viaProtocol.send(JSON.stringify({ type: 'auth', token: await token() }));
    await waitFor('re-authentication', () => protoGot.some((m) => m.type === 'authenticated'));
    viaProtocol.send(JSON.stringify({ type: 'auth', token: 'bad' }));
    await waitFor('the bad re-authentication refused', () => protoGot.some((m) => m.type === 'error'));
    t.equal(protoGot.find((m) => m.type === 'error').data.code, 'INVALID_TOKEN', 'a bad in-band token: coded error, connection kept');
    const closed = closeOf(viaQuery);
    clock.advance(20_000);
    const { code, reason } = await closed;
    t.equal(code, 4401, 'the expired connection is closed with 4401');
    t.match(reason, /^TOKEN_EXPIRED/);
    t.equal(viaProtocol.readyState, WebSocket.OPEN, 'the re-authenticated one stays open');
    t.equal(viaKey.readyState, WebSocket.OPEN, 'a key that does not expire keeps its connection');
    viaProtocol.close();
    viaKey.close();

    // A revocation ends the connections the key opened, though they were admitted only once.
    const made = await post('/api/v1/admin/keys', { client_id: pro.client_id, name: 'ws' }, withKey(adminKey.api_key).headers);
    const doomed = await openSocket(`${s.ws}/ws?token=${made.body.api_key}`);
    const bystander = await openSocket(`${s.ws}/ws`, { headers: { 'x-api-key': proKey.api_key } });
    const ended = closeOf(doomed);
    t.equal((await post(`/api/v1/admin/keys/${made.body.key_id}/revoke`, {}, withKey(adminKey.api_key).headers)).status, 200);
    t.same(await ended, { code: 4403, reason: 'API_KEY_REVOKED' }, 'closed with 4403 API_KEY_REVOKED');
    t.equal(bystander.readyState, WebSocket.OPEN, "another key's connection stays");
    bystander.close();
  });
});
