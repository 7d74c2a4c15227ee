import type { HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { BookcastError, ErrorCode } from '../errors';
import type { Caller } from '../auth/caller';
import type { AuthService, TokenRequest } from '../auth/auth-service';
import { ClientStore, ClientType, KeyRow, parseRateOverride, ClientRow } from '../auth/client-store';
import { readQuery, route, sendError, sendRefusal } from './http';

/** Largest token or admin request body. */
export const MAX_AUTH_BODY_BYTES = 8 * 1024;

/**
 * Reads a request body up to `max` bytes, then `answer` computes the reply; a larger body is
 * `tooLarge` (MESSAGE_TOO_LARGE, or for the token endpoint TOKEN_REQUEST_TOO_LARGE: a refused
 * token request is a 401 like every other), an aborted request is dropped. Must be called from the route handler
 * (uWS delivers the body only to an onData registered there).
 */
function withBody(res: HttpResponse, max: number, answer: (body: string) => Promise<{ status: number; body: unknown }>, tooLarge: ErrorCode = 'MESSAGE_TOO_LARGE'): void {
  let aborted = false;
  let done = false;
  const chunks: Uint8Array[] = [];
  let size = 0;
  res.onAborted(() => {
    aborted = true;
  });
  res.onData((chunk, isLast) => {
    if (aborted || done) return;
    size += chunk.byteLength;
    if (size > max) {
      done = true;
      sendError(res, tooLarge, `requests here are limited to ${max} bytes`);
      return;
    }
    chunks.push(new Uint8Array(chunk).slice());
    if (!isLast) return;
    done = true;
    answer(Buffer.concat(chunks).toString('utf8')).then(
      (out) => {
        if (!aborted) sendNoStore(res, out.status, JSON.stringify(out.body));
      },
      (err) => {
        if (!aborted) sendRefusal(res, err);
      },
    );
  });
}

/** An asynchronous answer without a body (GET). */
function later(res: HttpResponse, answer: Promise<unknown>): void {
  let aborted = false;
  res.onAborted(() => {
    aborted = true;
  });
  answer.then(
    (body) => {
      if (!aborted) sendNoStore(res, 200, JSON.stringify(body));
    },
    (err) => {
      if (!aborted) sendRefusal(res, err);
    },
  );
}

/** Credentials and secrets must not be kept by caches or proxies. */
function sendNoStore(res: HttpResponse, status: number, body: string): void {
  res.cork(() => {
    res.writeStatus(status === 201 ? '201 Created' : '200 OK').writeHeader('content-type', 'application/json').writeHeader('cache-control', 'no-store').end(body);
  });
}

/** A JSON object body, or an application/x-www-form-urlencoded one (OAuth clients send forms). */
function parseBody(text: string, contentType: string): Record<string, unknown> {
  if (contentType.startsWith('application/x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(text));
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new BookcastError('INVALID_TOKEN_REQUEST', 'the body is neither JSON nor a form');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new BookcastError('INVALID_TOKEN_REQUEST', 'the body is a JSON object');
  return body as Record<string, unknown>;
}

const TOKEN_FIELDS = ['grant_type', 'api_key', 'client_id', 'client_secret', 'refresh_token', 'scope'];

function tokenRequest(body: Record<string, unknown>): TokenRequest {
  for (const [k, v] of Object.entries(body)) {
    if (!TOKEN_FIELDS.includes(k)) throw new BookcastError('INVALID_TOKEN_REQUEST', `unknown field "${k.slice(0, 32)}"`);
    if (typeof v !== 'string') throw new BookcastError('INVALID_TOKEN_REQUEST', `"${k}" must be a string`);
  }
  if (body.grant_type === undefined) throw new BookcastError('INVALID_TOKEN_REQUEST', 'grant_type is missing');
  return body as TokenRequest;
}

function keyJson(k: KeyRow): Record<string, unknown> {
  return {
    key_id: k.keyId,
    client_id: k.clientId,
    name: k.name,
    permissions: k.permissions,
    rate_limit: k.rateLimit,
    expires_at: k.expiresAt?.toISOString() ?? null,
    status: k.status,
    created_at: k.createdAt.toISOString(),
    last_used: k.lastUsed?.toISOString() ?? null,
  };
}

function clientJson(c: ClientRow): Record<string, unknown> {
  return {
    client_id: c.clientId,
    name: c.name,
    client_type: c.clientType,
    tier: c.tier,
    permissions: c.permissions,
    rate_limit: c.rateLimit,
    status: c.status,
    locked: c.locked,
    created_at: c.createdAt.toISOString(),
    updated_at: c.updatedAt.toISOString(),
    last_activity: c.lastActivity?.toISOString() ?? null,
  };
}

function text(body: Record<string, unknown>, field: string, required: boolean): string | undefined {
  const v = body[field];
  if (v === undefined && !required) return undefined;
  if (typeof v !== 'string') throw new BookcastError('INVALID_PARAMETER', `"${field}" must be a string`);
  return v;
}

function permissionsField(body: Record<string, unknown>): string | undefined {
  const v = body.permissions;
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || !v.every((p) => typeof p === 'string')) throw new BookcastError('INVALID_PARAMETER', '"permissions" must be an array of permission names');
  return v.join(',');
}

function onlyFields(body: Record<string, unknown>, fields: readonly string[]): void {
  for (const k of Object.keys(body)) if (!fields.includes(k)) throw new BookcastError('INVALID_PARAMETER', `unknown field "${k.slice(0, 32)}"`);
}

function adminBody(text: string): Record<string, unknown> {
  let body: unknown;
  try {
    body = JSON.parse(text === '' ? '{}' : text);
  } catch {
    throw new BookcastError('INVALID_JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new BookcastError('INVALID_MESSAGE', 'the body is a JSON object');
  return body as Record<string, unknown>;
}

/** The actor an admin action is audited under. */
function actorOf(caller: Caller): string {
  return caller.clientId === null ? `ip:${caller.ip}` : `client:${caller.clientId}`;
}

/**
 * Access control over REST: the token endpoint, the caller's own keys, the JWKS, and the admin
 * endpoints (the `admin` permission; route-permissions.ts) that do what `bookcast clients` and
 * `bookcast keys` do. Secrets (a new key, a client secret) appear in exactly one answer.
 */
export class AuthRoutes {
  constructor(private readonly auth: AuthService) {}

  register(app: TemplatedApp): void {
    const auth = this.auth;
    route(app, 'post', '/api/v1/auth/token', (res, req, caller) => {
      readQuery(req, []);
      const contentType = req.getHeader('content-type');
      withBody(res, MAX_AUTH_BODY_BYTES, async (body) => ({ status: 200, body: await auth.grants.grant(tokenRequest(parseBody(body, contentType)), caller.ip) }), 'TOKEN_REQUEST_TOO_LARGE');
    });
    route(app, 'get', '/api/v1/auth/keys', (res, req, caller) => {
      readQuery(req, []);
      if (caller.clientId === null) throw new BookcastError('AUTH_REQUIRED', 'present an API key or a bearer token to list your keys');
      later(
        res,
        auth.clients.listKeys(caller.clientId).then((keys) => ({
          keys: keys.filter((k) => k.status === 'active').map((k) => ({ key_id: k.keyId, name: k.name, permissions: k.permissions, rate_limit: k.rateLimit, expires_at: k.expiresAt?.toISOString() ?? null, created_at: k.createdAt.toISOString() })),
        })),
      );
    });
    route(app, 'get', '/.well-known/jwks.json', (res, req) => {
      readQuery(req, []);
      res.cork(() => res.writeStatus('200 OK').writeHeader('content-type', 'application/json').writeHeader('cache-control', 'max-age=300').end(JSON.stringify(auth.issuer.jwks())));
    });
    this.registerAdmin(app);
  }

  private registerAdmin(app: TemplatedApp): void {
    const auth = this.auth;
    route(app, 'get', '/api/v1/admin/clients', (res, req) => {
      readQuery(req, []);
      later(res, auth.clients.listClients().then((clients) => ({ clients: clients.map(clientJson) })));
    });
    route(app, 'post', '/api/v1/admin/clients', (res, req, caller) => {
      readQuery(req, []);
      withBody(res, MAX_AUTH_BODY_BYTES, async (raw) => {
        const body = adminBody(raw);
        onlyFields(body, ['name', 'client_type', 'tier', 'permissions', 'rate_limit']);
        const made = await auth.createClient(actorOf(caller), {
          name: text(body, 'name', true)!,
          clientType: (text(body, 'client_type', false) ?? 'external') as ClientType,
          tier: text(body, 'tier', false) ?? 'standard',
          permissions: ClientStore.permissions(permissionsField(body)),
          rateLimit: parseRateOverride(body.rate_limit),
        });
        return { status: 201, body: { ...clientJson(made.client), client_secret: made.clientSecret } };
      });
    });
    for (const [action, status] of [['suspend', 'suspended'], ['activate', 'active']] as const) {
      route(app, 'post', `/api/v1/admin/clients/:client_id/${action}`, (res, req, caller) => {
        readQuery(req, []);
        const clientId = req.getParameter(0) ?? '';
        withBody(res, MAX_AUTH_BODY_BYTES, async () => ({ status: 200, body: clientJson(await auth.setClientStatus(actorOf(caller), clientId, status)) }));
      });
    }
    route(app, 'get', '/api/v1/admin/keys', (res, req) => {
      const query = readQuery(req, ['client_id']);
      later(res, auth.clients.listKeys(query.get('client_id') ?? null).then((keys) => ({ keys: keys.map(keyJson) })));
    });
    route(app, 'post', '/api/v1/admin/keys', (res, req, caller) => {
      readQuery(req, []);
      withBody(res, MAX_AUTH_BODY_BYTES, async (raw) => {
        const body = adminBody(raw);
        onlyFields(body, ['client_id', 'name', 'permissions', 'rate_limit', 'expires_at']);
        const expires = text(body, 'expires_at', false);
        const expiresAt = expires === undefined ? null : new Date(expires);
        if (expiresAt !== null && Number.isNaN(expiresAt.getTime())) throw new BookcastError('INVALID_PARAMETER', '"expires_at" must be an ISO-8601 time');
        const made = await auth.createKey(actorOf(caller), {
          clientId: text(body, 'client_id', true)!,
          name: text(body, 'name', false) ?? 'default',
          permissions: ClientStore.permissions(permissionsField(body)),
          rateLimit: parseRateOverride(body.rate_limit),
          expiresAt,
        });
        return { status: 201, body: { ...keyJson(made.key), api_key: made.apiKey } };
      });
    });
    route(app, 'post', '/api/v1/admin/keys/:key_id/revoke', (res, req, caller) => {
      readQuery(req, []);
      const keyId = req.getParameter(0) ?? '';
      withBody(res, MAX_AUTH_BODY_BYTES, async () => ({ status: 200, body: keyJson(await auth.revokeKey(actorOf(caller), keyId)) }));
    });
    route(app, 'post', '/api/v1/admin/keys/:key_id/rotate', (res, req, caller) => {
      readQuery(req, []);
      const keyId = req.getParameter(0) ?? '';
      withBody(res, MAX_AUTH_BODY_BYTES, async () => {
        const rotated = await auth.rotateKey(actorOf(caller), keyId);
        return { status: 201, body: { ...keyJson(rotated.key), api_key: rotated.apiKey, revoked_key_id: rotated.revoked.keyId } };
      });
    });
    route(app, 'get', '/api/v1/admin/audit/verify', (res, req) => {
      readQuery(req, []);
      later(res, auth.audit.verify());
    });
  }
}
