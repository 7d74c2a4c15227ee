import { randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { BookcastError } from '../errors';
import type { SqlClient } from '../store/sql-client';
import type { CallerResolver } from './admission';
import { AuditLog } from './audit-log';
import { Caller, Permission, PERMISSIONS, TierLimits } from './caller';
import { ClientRow, ClientStore, KeyRecord } from './client-store';
import { RefreshTokens } from './refresh-tokens';
import { keyHash, sameHash, tokenHash, verifyPassword } from './secret-hashes';
import { SharedAuthCache } from './shared-auth-cache';
import { keyIdOf } from './api-key-format';
import { tierNamed } from './tiers';
import { TokenIssuer } from './token-issuer';

export interface AuthServiceOptions {
  serverSecret: Uint8Array;
  issuer: string;
  tokenTtlS: number;
  refreshTtlS: number;
  /** ms since the epoch; tests inject one they move. */
  clock: () => number;
}

/** What POST /api/v1/auth/token answers. */
export interface TokenAnswer {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token?: string;
  scope: string;
  issued_at: string;
}

/** A token request, already parsed from JSON or a form (auth-routes). */
export interface TokenRequest {
  grant_type?: string;
  api_key?: string;
  client_id?: string;
  client_secret?: string;
  refresh_token?: string;
  scope?: string;
}

/**
 * Password-grant brute-force policy: after BACKOFF_AFTER consecutive failures each further try
 * must wait 2^(failures - BACKOFF_AFTER) s (at most MAX_BACKOFF_S); at LOCK_AFTER the client is
 * locked until an administrator activates it again. Tries during a wait are refused unchecked.
 */
export const BACKOFF_AFTER = 3;
export const LOCK_AFTER = 8;
const MAX_BACKOFF_S = 900;
/** A well-formed hash nothing matches (checked against for unknown clients). */
const UNKNOWN_CLIENT_HASH = `scrypt$16384$8$1$${'A'.repeat(22)}$${'A'.repeat(43)}`;

/** Cached verifications. Without Redis, another process's revocation reaches this one within RECORD_TTL_MS. */
const CACHE_ENTRIES = 10_000;
const RECORD_TTL_MS = 30_000;

interface TokenEntry {
  caller: Caller;
  keyId: string | null;
  clientId: string;
}

/** A parsed scope: known permissions only. */
function scopeOf(text: string): Permission[] {
  return text.split(' ').filter((p): p is Permission => (PERMISSIONS as readonly string[]).includes(p));
}

/** The tier's limits, with a client's and then a key's rate override on top. */
function limitsOf(tierLimits: TierLimits, ...overrides: (Partial<TierLimits['rate']> | null)[]): TierLimits {
  let rate = tierLimits.rate;
  for (const o of overrides) if (o !== null) rate = { ...rate, ...o };
  return rate === tierLimits.rate ? tierLimits : { ...tierLimits, rate };
}

/**
 * Access control's working half: resolves presented keys and tokens to Callers (CallerResolver,
 * cached so that a known one is a map lookup), answers the token grants, and makes every change
 * to clients and keys (for the CLI and the admin REST alike) with its audit row and the cache
 * invalidation it needs.
 */
export class AuthService implements CallerResolver {
  readonly clients: ClientStore;
  readonly audit: AuditLog;
  readonly issuer: TokenIssuer;
  private readonly refresh: RefreshTokens;
  /** Presented key text → its key id, once the text's hash matched the row. */
  private readonly keyTexts = new LRUCache<string, string>({ max: CACHE_ENTRIES });
  /**
   * Key rows and client rows go stale after RECORD_TTL_MS and are then re-read in the background
   * while the stale row keeps answering (stale-while-revalidate): the request path never waits
   * for a refresh. Revocations through this process (or Redis) delete them at once.
   */
  private readonly records = new LRUCache<string, { record: KeyRecord; caller: Caller }>({ max: CACHE_ENTRIES, ttl: RECORD_TTL_MS, allowStale: true, noDeleteOnStaleGet: true });
  private readonly clientRows = new LRUCache<string, ClientRow>({ max: CACHE_ENTRIES, ttl: RECORD_TTL_MS, allowStale: true, noDeleteOnStaleGet: true });
  /** Verified tokens until they expire (checked on every use), each resting on its key or client row. */
  private readonly tokens = new LRUCache<string, TokenEntry>({ max: CACHE_ENTRIES });
  /** Verifications in progress, so a burst of requests with one new credential makes one, not hundreds. */
  private readonly inflight = new Map<string, Promise<Caller>>();
  private readonly refreshing = new Set<string>();
  /** Shared with other processes through Redis (--redis-url); null: this process alone. */
  private shared: SharedAuthCache | null = null;
  /**
   * Told of every key revoked and client suspended, here or (through Redis) in another process:
   * the WebSocket gateway closes the connections they opened, which were admitted only once.
   */
  onRevoked: ((kind: 'key' | 'client', id: string) => void) | null = null;

  constructor(
    readonly db: SqlClient,
    private readonly options: AuthServiceOptions,
  ) {
    this.clients = new ClientStore(db, options.serverSecret);
    this.audit = new AuditLog(db, options.clock);
    this.issuer = new TokenIssuer(db, options.serverSecret, options.issuer, options.clock);
    this.refresh = new RefreshTokens(db, options.refreshTtlS, options.clock);
  }

  async start(): Promise<void> {
    await this.issuer.start();
  }

  /** Shares verified keys and tokens, and revocations, with every process on the same Redis. */
  async share(redisUrl: string): Promise<void> {
    const shared = new SharedAuthCache(redisUrl, (kind, id, revoked) => this.forget(kind, id, revoked));
    try {
      await shared.start();
    } catch (err) {
      await shared.close();
      throw err;
    }
    this.shared = shared;
  }

  async close(): Promise<void> {
    await this.shared?.close();
    await this.db.close();
  }

  // --- CallerResolver -------------------------------------------------------------------------

  fromApiKey(text: string, ip: string): Caller | Promise<Caller> {
    const keyId = this.keyTexts.get(text);
    const entry = keyId === undefined ? undefined : this.record(keyId);
    if (entry !== undefined) return this.keyCaller(entry, ip);
    return this.once(text, ip, () => this.loadKey(text, ip));
  }

  fromToken(token: string, ip: string): Caller | Promise<Caller> {
    const entry = this.tokens.get(token);
    if (entry !== undefined) {
      if (entry.caller.expiresAt! <= this.options.clock()) {
        this.tokens.delete(token);
        throw new BookcastError('TOKEN_EXPIRED');
      }
      // The key or client it rests on, as this process last knew it (revoked, expired, suspended).
      if (entry.keyId !== null) {
        const key = this.record(entry.keyId);
        if (key !== undefined) {
          this.keyCaller(key, ip);
          return entry.caller.ip === ip ? entry.caller : { ...entry.caller, ip };
        }
      } else {
        const client = this.clientRow(entry.clientId);
        if (client !== undefined) {
          if (client.status !== 'active') throw new BookcastError('CLIENT_SUSPENDED', `client ${client.clientId} is ${client.status}`);
          return entry.caller.ip === ip ? entry.caller : { ...entry.caller, ip };
        }
      }
    }
    return this.once(token, ip, () => this.loadToken(token, ip));
  }

  /** One verification per credential at a time; later askers share it (with their own address). */
  private once(credential: string, ip: string, load: () => Promise<Caller>): Promise<Caller> {
    let pending = this.inflight.get(credential);
    if (pending === undefined) {
      pending = load().finally(() => this.inflight.delete(credential));
      this.inflight.set(credential, pending);
      return pending;
    }
    return pending.then((caller) => (caller.ip === ip ? caller : { ...caller, ip }));
  }

  /** A cached key row, stale or not; a stale one is re-read in the background. */
  private record(keyId: string): { record: KeyRecord; caller: Caller } | undefined {
    const entry = this.records.get(keyId);
    if (entry !== undefined && this.records.getRemainingTTL(keyId) <= 0) this.revalidate(`key:${keyId}`, () => this.loadRecord(keyId));
    return entry;
  }

  private clientRow(clientId: string): ClientRow | undefined {
    const row = this.clientRows.get(clientId);
    if (row !== undefined && this.clientRows.getRemainingTTL(clientId) <= 0) {
      this.revalidate(`client:${clientId}`, async () => this.clientRows.set(clientId, await this.clients.client(clientId)));
    }
    return row;
  }

  private revalidate(id: string, load: () => Promise<unknown>): void {
    if (this.refreshing.has(id)) return;
    this.refreshing.add(id);
    // A row gone from the database is refused by its next verification; a failed read keeps the stale row.
    load().then(
      () => this.refreshing.delete(id),
      () => this.refreshing.delete(id),
    );
  }

  private async loadKey(text: string, ip: string): Promise<Caller> {
    const hash = keyHash(this.options.serverSecret, text);
    const hashHex = Buffer.from(hash).toString('hex');
    let record = this.shared === null || keyIdOf(text) === null ? null : await this.shared.key(hashHex);
    if (record === null) {
      record = await this.clients.keyRecord(text);
      if (record !== null && sameHash(hash, record.keyHash)) this.shared?.storeKey(hashHex, record);
    }
    if (record === null || !sameHash(hash, record.keyHash)) throw new BookcastError('INVALID_API_KEY');
    const entry = { record, caller: this.callerOf(record.client, record, 'key', null, ip) };
    this.records.set(record.keyId, entry);
    this.keyTexts.set(text, record.keyId);
    // last_used: once per cache fill, not once per request.
    this.clients.touchKey(record.keyId).catch(() => undefined);
    return this.keyCaller(entry, ip);
  }

  /** Throws for a revoked or expired key and a client that is not active. */
  private keyCaller(entry: { record: KeyRecord; caller: Caller }, ip: string): Caller {
    const { record } = entry;
    if (record.status !== 'active') throw new BookcastError('API_KEY_REVOKED');
    if (record.expiresAt !== null && record.expiresAt.getTime() <= this.options.clock()) throw new BookcastError('API_KEY_EXPIRED');
    if (record.client.status !== 'active') throw new BookcastError('CLIENT_SUSPENDED', `client ${record.client.clientId} is ${record.client.status}`);
    if (entry.caller.ip !== ip) entry.caller = { ...entry.caller, ip };
    return entry.caller;
  }

  private async loadToken(token: string, ip: string): Promise<Caller> {
    const hashHex = Buffer.from(tokenHash(token)).toString('hex');
    const nowS = this.options.clock() / 1000;
    let claims = this.shared === null ? null : await this.shared.token(hashHex);
    if (claims === null || claims.exp <= nowS) {
      claims = await this.issuer.verify(token);
      this.shared?.storeToken(hashHex, claims, Math.floor(claims.exp - nowS));
    }
    let caller: Caller;
    if (claims.key !== null) {
      const entry = this.record(claims.key) ?? (await this.loadRecord(claims.key));
      this.keyCaller(entry, ip);
      caller = this.callerOf(entry.record.client, entry.record, 'token', scopeOf(claims.scope), ip, claims.exp * 1000);
    } else {
      const client = await this.activeClient(claims.sub);
      caller = this.callerOf(client, null, 'token', scopeOf(claims.scope), ip, claims.exp * 1000);
    }
    this.tokens.set(token, { caller, keyId: claims.key, clientId: claims.sub });
    return caller;
  }

  private async loadRecord(keyId: string): Promise<{ record: KeyRecord; caller: Caller }> {
    const record = await this.clients.keyRecordById(keyId);
    if (record === null) throw new BookcastError('INVALID_TOKEN', 'the token names a key that does not exist');
    const entry = { record, caller: this.callerOf(record.client, record, 'key', null, '') };
    this.records.set(keyId, entry);
    return entry;
  }

  private async activeClient(clientId: string): Promise<ClientRow> {
    let client = this.clientRow(clientId);
    if (client === undefined) {
      client = await this.clients.client(clientId).catch(() => {
        throw new BookcastError('INVALID_TOKEN', 'the token names a client that does not exist');
      });
      this.clientRows.set(clientId, client);
    }
    if (client.status !== 'active') throw new BookcastError('CLIENT_SUSPENDED', `client ${clientId} is ${client.status}`);
    return client;
  }

  /** Permissions: the tier's ∩ the client's ∩ the key's ∩ (for a token) its scope. */
  private callerOf(client: ClientRow, key: KeyRecord | null, kind: 'key' | 'token', scope: Permission[] | null, ip: string, expiresAt?: number): Caller {
    const tier = tierNamed(client.tier);
    const permissions = new Set<Permission>();
    for (const p of tier.permissions) {
      if (client.permissions.includes(p) && (key === null || key.permissions.includes(p)) && (scope === null || scope.includes(p))) permissions.add(p);
    }
    const keyExpiry = key?.expiresAt?.getTime();
    const expiry = expiresAt === undefined ? keyExpiry : keyExpiry === undefined ? expiresAt : Math.min(expiresAt, keyExpiry);
    return {
      kind,
      clientId: client.clientId,
      keyId: key?.keyId ?? null,
      ip,
      tier: tier.name,
      permissions,
      limits: limitsOf(tier.limits, client.rateLimit, key?.rateLimit ?? null),
      subject: client.clientId,
      ...(expiry === undefined ? {} : { expiresAt: expiry }),
    };
  }

  // --- invalidation ---------------------------------------------------------------------------

  /**
   * Drops what this process cached about a key or a client (and every token resting on it);
   * `revoked`: the key was revoked or the client suspended, so its open connections end too.
   */
  forget(kind: 'key' | 'client', id: string, revoked: boolean): void {
    // Collected first, deleted after: the caches are not changed while they are walked.
    const drop = <K extends {}, V extends {}>(cache: LRUCache<K, V>, match: (v: V) => boolean): void => {
      const keys: K[] = [];
      for (const [k, v] of cache.entries()) if (match(v)) keys.push(k);
      for (const k of keys) cache.delete(k);
    };
    if (kind === 'key') {
      this.records.delete(id);
      drop(this.keyTexts, (keyId) => keyId === id);
    } else {
      this.clientRows.delete(id);
      drop(this.records, (entry) => entry.record.clientId === id);
    }
    drop(this.tokens, (entry) => (kind === 'key' ? entry.keyId === id : entry.clientId === id));
    if (revoked) this.onRevoked?.(kind, id);
  }

  /** Forgets here, and with Redis deletes the shared entries and tells every other process. */
  private async invalidate(kind: 'key' | 'client', id: string, revoked: boolean): Promise<void> {
    this.forget(kind, id, revoked);
    const shared = this.shared;
    if (shared === null) return;
    const keyIds = kind === 'key' ? [id] : (await this.clients.listKeys(id)).map((k) => k.keyId);
    const hashes: string[] = [];
    for (const keyId of keyIds) {
      const record = await this.clients.keyRecordById(keyId);
      if (record !== null) hashes.push(Buffer.from(record.keyHash).toString('hex'));
    }
    await shared.invalidate(kind, id, revoked, hashes);
  }

  // --- token grants ---------------------------------------------------------------------------

  async grant(request: TokenRequest, ip: string): Promise<TokenAnswer> {
    switch (request.grant_type) {
      case 'api_key':
        return this.apiKeyGrant(request, ip);
      case 'password':
        return this.passwordGrant(request, ip);
      case 'refresh_token':
        return this.refreshGrant(request, ip);
      default:
        throw new BookcastError('UNSUPPORTED_GRANT_TYPE');
    }
  }

  private async apiKeyGrant(request: TokenRequest, ip: string): Promise<TokenAnswer> {
    if (typeof request.api_key !== 'string' || request.api_key === '') throw new BookcastError('INVALID_TOKEN_REQUEST', 'grant_type api_key needs "api_key"');
    const caller = await this.fromApiKey(request.api_key, ip);
    const scope = this.narrow(caller.permissions, request.scope);
    await this.audit.append({ actor: `client:${caller.clientId}`, action: 'token_issued', subject: caller.keyId, ip, detail: { grant: 'api_key', scope } });
    return this.issue(caller.clientId!, caller.keyId, caller.tier, scope, false);
  }

  private async passwordGrant(request: TokenRequest, ip: string): Promise<TokenAnswer> {
    const clientId = request.client_id;
    const secret = request.client_secret;
    if (typeof clientId !== 'string' || typeof secret !== 'string' || clientId === '' || secret === '' || clientId.length > 64 || secret.length > 256) {
      throw new BookcastError('INVALID_TOKEN_REQUEST', 'grant_type password needs "client_id" and "client_secret"');
    }
    const found = await this.clients.clientWithSecret(clientId);
    const now = this.options.clock();
    if (found === null || found.secretHash === null) {
      // As slow as a wrong password, so timing does not tell which client ids exist.
      await verifyPassword(secret, UNKNOWN_CLIENT_HASH);
      throw new BookcastError('INVALID_GRANT');
    }
    const { client } = found;
    if (client.locked) {
      await this.audit.append({ actor: `ip:${ip}`, action: 'login_refused_locked', subject: clientId, ip, detail: {} });
      throw new BookcastError('LOGIN_LOCKED');
    }
    if (found.retryAfter !== null && found.retryAfter.getTime() > now) {
      await this.audit.append({ actor: `ip:${ip}`, action: 'login_refused_backoff', subject: clientId, ip, detail: { retry_after: found.retryAfter.toISOString() } });
      throw new BookcastError('LOGIN_BACKOFF', `too many failed logins; try again after ${found.retryAfter.toISOString()}`);
    }
    if (!(await verifyPassword(secret, found.secretHash))) {
      const failures = found.failedLogins + 1;
      const lock = failures >= LOCK_AFTER;
      const retryAfter = failures >= BACKOFF_AFTER ? new Date(now + Math.min(MAX_BACKOFF_S, 2 ** (failures - BACKOFF_AFTER)) * 1000) : null;
      await this.clients.loginFailed(clientId, retryAfter, lock);
      await this.audit.append({ actor: `ip:${ip}`, action: lock ? 'login_locked' : 'login_failed', subject: clientId, ip, detail: { failures } });
      throw new BookcastError('INVALID_GRANT');
    }
    if (client.status !== 'active') throw new BookcastError('CLIENT_SUSPENDED', `client ${clientId} is ${client.status}`);
    await this.clients.loginSucceeded(clientId);
    const scope = this.narrow(new Set(client.permissions.filter((p) => tierNamed(client.tier).permissions.includes(p))), request.scope);
    await this.audit.append({ actor: `client:${clientId}`, action: 'login', subject: clientId, ip, detail: { grant: 'password', scope } });
    return this.issue(clientId, null, client.tier, scope, true);
  }

  private async refreshGrant(request: TokenRequest, ip: string): Promise<TokenAnswer> {
    if (typeof request.refresh_token !== 'string' || request.refresh_token === '') throw new BookcastError('INVALID_TOKEN_REQUEST', 'grant_type refresh_token needs "refresh_token"');
    let used;
    try {
      used = await this.refresh.use(request.refresh_token);
    } catch (err) {
      if (err instanceof BookcastError && err.code === 'REFRESH_TOKEN_REUSED') {
        const e = err as BookcastError & { familyId: string; clientId: string | null };
        await this.audit.append({ actor: `ip:${ip}`, action: 'refresh_reused_family_revoked', subject: e.clientId, ip, detail: { family: e.familyId } });
      }
      throw err;
    }
    const client = await this.clients.client(used.clientId);
    if (client.status !== 'active') throw new BookcastError('CLIENT_SUSPENDED', `client ${client.clientId} is ${client.status}`);
    if (used.keyId !== null) {
      const key = await this.clients.key(used.keyId);
      if (key.status !== 'active') throw new BookcastError('API_KEY_REVOKED');
    }
    await this.audit.append({ actor: `client:${client.clientId}`, action: 'token_refreshed', subject: client.clientId, ip, detail: { family: used.familyId } });
    const access = await this.access(client.clientId, used.keyId, client.tier, used.scope);
    return { ...access, refresh_token: used.token };
  }

  /** The requested scope, which may only narrow what the caller holds. */
  private narrow(held: ReadonlySet<Permission>, requested: string | undefined): Permission[] {
    if (requested === undefined || requested === '') return [...held];
    const wanted = requested.split(' ').filter((p) => p !== '');
    for (const p of wanted) if (!held.has(p as Permission)) throw new BookcastError('PERMISSION_DENIED', `the scope asks for "${p.slice(0, 32)}", which this caller does not hold`);
    return wanted as Permission[];
  }

  private async issue(clientId: string, keyId: string | null, tier: string, scope: Permission[], withRefresh: boolean): Promise<TokenAnswer> {
    const access = await this.access(clientId, keyId, tier, scope);
    if (!withRefresh) return access;
    return { ...access, refresh_token: await this.refresh.issue({ clientId, keyId, scope }) };
  }

  private async access(clientId: string, keyId: string | null, tier: string, scope: Permission[]): Promise<TokenAnswer> {
    const ttl = this.options.tokenTtlS;
    const signed = await this.issuer.sign({ sub: clientId, key: keyId, scope: scope.join(' '), tier }, ttl, randomBytes(12).toString('base64url'));
    return { access_token: signed.token, token_type: 'Bearer', expires_in: ttl, scope: scope.join(' '), issued_at: new Date(signed.issuedAt * 1000).toISOString() };
  }

  // --- administration (CLI and admin REST) ----------------------------------------------------

  async createClient(actor: string, spec: Parameters<ClientStore['createClient']>[0]) {
    const made = await this.clients.createClient(spec);
    await this.audit.append({ actor, action: 'client_created', subject: made.client.clientId, ip: null, detail: { name: spec.name, client_type: spec.clientType, tier: made.client.tier, permissions: made.client.permissions } });
    return made;
  }

  async setClientStatus(actor: string, clientId: string, status: 'active' | 'suspended' | 'inactive') {
    const client = await this.clients.setClientStatus(clientId, status);
    await this.audit.append({ actor, action: status === 'active' ? 'client_activated' : `client_${status}`, subject: clientId, ip: null, detail: {} });
    await this.invalidate('client', clientId, status !== 'active');
    return client;
  }

  async createKey(actor: string, spec: Parameters<ClientStore['createKey']>[0]) {
    const made = await this.clients.createKey(spec);
    await this.audit.append({ actor, action: 'key_created', subject: made.key.keyId, ip: null, detail: { client: spec.clientId, name: spec.name, permissions: made.key.permissions, expires_at: made.key.expiresAt?.toISOString() ?? null } });
    return made;
  }

  async revokeKey(actor: string, keyId: string) {
    const key = await this.clients.revokeKey(keyId);
    await this.audit.append({ actor, action: 'key_revoked', subject: keyId, ip: null, detail: { client: key.clientId } });
    await this.invalidate('key', keyId, true);
    return key;
  }

  async rotateKey(actor: string, keyId: string) {
    const rotated = await this.clients.rotateKey(keyId);
    await this.audit.append({ actor, action: 'key_rotated', subject: keyId, ip: null, detail: { client: rotated.key.clientId, new_key: rotated.key.keyId } });
    await this.invalidate('key', keyId, true);
    return rotated;
  }

  async rotateSigningKey(actor: string): Promise<string> {
    const kid = await this.issuer.rotate();
    await this.audit.append({ actor, action: 'signing_key_rotated', subject: kid, ip: null, detail: {} });
    return kid;
  }
}
