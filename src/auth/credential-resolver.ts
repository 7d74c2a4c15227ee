import { LRUCache } from 'lru-cache';
import { BookcastError } from '../errors';
import type { CallerResolver } from './admission';
import { isApiKeyText } from './api-key-format';
import { Caller, Permission, PERMISSIONS, TierLimits } from './caller';
import type { ClientRow, ClientStore, KeyRecord } from './client-store';
import { keyHash, sameHash, tokenHash } from './secret-hashes';
import type { SharedAuthCache } from './shared-auth-cache';
import { tierNamed } from './tiers';
import type { TokenIssuer } from './token-issuer';

/** Cached verifications. Without Redis, another process's revocation reaches this one within RECORD_TTL_MS. */
const CACHE_ENTRIES = 10_000;
const RECORD_TTL_MS = 30_000;
/**
 * Well-formed keys refused (unknown key id, or a secret that does not match) are refused again
 * from memory for this long, so a client retrying a wrong key in a loop costs a map lookup, not
 * an HMAC and a database read each time. Safe: a key's text is 256 random bits made at its
 * creation, so no text refused here can become valid later (rotation makes a new text).
 */
const REFUSED_TTL_MS = 60_000;

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
 * Presented keys and tokens to Callers, cached so that a known one is a map lookup: the request
 * path of access control. Key and client rows come from the ClientStore (or, with Redis, from the
 * shared cache), tokens are verified by the TokenIssuer. `forget` drops what a revocation or a
 * status change made stale.
 */
export class CredentialResolver implements CallerResolver {
  /** Presented key text → its key id, once the text's hash matched the row. */
  private readonly keyTexts = new LRUCache<string, string>({ max: CACHE_ENTRIES });
  /** Key texts refused lately (REFUSED_TTL_MS). */
  private readonly refused = new LRUCache<string, true>({ max: CACHE_ENTRIES, ttl: REFUSED_TTL_MS });
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
  shared: SharedAuthCache | null = null;
  /**
   * Told of every key revoked and client suspended, here or (through Redis) in another process:
   * the WebSocket gateway closes the connections they opened, which were admitted only once.
   */
  onRevoked: ((kind: 'key' | 'client', id: string) => void) | null = null;

  constructor(
    private readonly clients: ClientStore,
    private readonly issuer: TokenIssuer,
    private readonly serverSecret: Uint8Array,
    /** ms since the epoch; tests inject one they move. */
    private readonly clock: () => number,
  ) {}

  fromApiKey(text: string, ip: string): Caller | Promise<Caller> {
    const keyId = this.keyTexts.get(text);
    const entry = keyId === undefined ? undefined : this.record(keyId);
    if (entry !== undefined) return this.keyCaller(entry, ip);
    // Not of the key format, or refused within the last REFUSED_TTL_MS: no HMAC, no database read.
    if (!isApiKeyText(text) || this.refused.has(text)) throw new BookcastError('INVALID_API_KEY');
    return this.once(text, ip, () => this.loadKey(text, ip));
  }

  fromToken(token: string, ip: string): Caller | Promise<Caller> {
    const entry = this.tokens.get(token);
    if (entry !== undefined) {
      if (entry.caller.expiresAt! <= this.clock()) {
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
    const hash = keyHash(this.serverSecret, text);
    const hashHex = Buffer.from(hash).toString('hex');
    let record = this.shared === null ? null : await this.shared.key(hashHex);
    if (record === null) {
      record = await this.clients.keyRecord(text);
      if (record !== null && sameHash(hash, record.keyHash)) this.shared?.storeKey(hashHex, record);
    }
    if (record === null || !sameHash(hash, record.keyHash)) {
      this.refused.set(text, true);
      throw new BookcastError('INVALID_API_KEY');
    }
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
    if (record.expiresAt !== null && record.expiresAt.getTime() <= this.clock()) throw new BookcastError('API_KEY_EXPIRED');
    if (record.client.status !== 'active') throw new BookcastError('CLIENT_SUSPENDED', `client ${record.client.clientId} is ${record.client.status}`);
    if (entry.caller.ip !== ip) entry.caller = { ...entry.caller, ip };
    return entry.caller;
  }

  private async loadToken(token: string, ip: string): Promise<Caller> {
    const hashHex = Buffer.from(tokenHash(token)).toString('hex');
    const nowS = this.clock() / 1000;
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
}
