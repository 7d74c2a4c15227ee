import Redis from 'ioredis';
import type { Permission } from './caller';
import type { ClientRow, KeyRecord } from './client-store';

/** Verified keys are shared for an hour, verified tokens' claims for 15 minutes. */
export const KEY_TTL_S = 3600;
export const TOKEN_TTL_S = 900;
/** Revocations and status changes, published to every process. */
export const INVALIDATE_CHANNEL = 'bookcast:auth:invalidate';
/** A Redis answer slower than this is not waited for: the database answers instead. */
const COMMAND_TIMEOUT_MS = 200;
const SUBSCRIBE_WAIT_MS = 3000;

/** What a verified token said, as shared between processes (the signature need not be checked again). */
export interface SharedClaims {
  sub: string;
  key: string | null;
  scope: string;
  tier: string;
  exp: number;
}

type Json = Record<string, unknown>;

function recordJson(r: KeyRecord): string {
  return JSON.stringify({ ...r, keyHash: Buffer.from(r.keyHash).toString('hex') });
}

function date(v: unknown): Date | null {
  return v === null || v === undefined ? null : new Date(v as string);
}

function recordOf(text: string): KeyRecord {
  const j = JSON.parse(text) as Json;
  const c = j.client as Json;
  const client: ClientRow = {
    clientId: c.clientId as string,
    name: c.name as string,
    clientType: c.clientType as ClientRow['clientType'],
    tier: c.tier as string,
    permissions: c.permissions as Permission[],
    rateLimit: (c.rateLimit as ClientRow['rateLimit']) ?? null,
    status: c.status as ClientRow['status'],
    locked: c.locked as boolean,
    createdAt: date(c.createdAt)!,
    updatedAt: date(c.updatedAt)!,
    lastActivity: date(c.lastActivity),
  };
  return {
    keyId: j.keyId as string,
    clientId: j.clientId as string,
    name: j.name as string,
    permissions: j.permissions as Permission[],
    rateLimit: (j.rateLimit as KeyRecord['rateLimit']) ?? null,
    expiresAt: date(j.expiresAt),
    status: j.status as KeyRecord['status'],
    createdAt: date(j.createdAt)!,
    lastUsed: date(j.lastUsed),
    keyHash: new Uint8Array(Buffer.from(j.keyHash as string, 'hex')),
    client,
  };
}

/**
 * The auth cache several bookcast processes share through Redis (`--redis-url`):
 * `api_key:{key_hash}` (1 h) and `auth:{token_hash}` (15 min), both hex SHA-256/HMAC digests, never
 * a key or token itself. A revocation deletes the shared entries and is published on
 * INVALIDATE_CHANNEL; every process drops its own LRU entries when told, so a revoked key is
 * refused everywhere within a message's flight. Redis failing is never a client error: every read
 * falls back to the database, and writes are best effort.
 */
export class SharedAuthCache {
  private readonly redis: Redis;
  private readonly subscriber: Redis;

  constructor(url: string, onInvalidate: (kind: 'key' | 'client', id: string, revoked: boolean) => void) {
    const options = { maxRetriesPerRequest: 1, enableOfflineQueue: false, commandTimeout: COMMAND_TIMEOUT_MS, lazyConnect: false };
    this.redis = new Redis(url, options);
    this.subscriber = new Redis(url, { ...options, commandTimeout: undefined, enableOfflineQueue: true, maxRetriesPerRequest: null });
    // Errors are retried by ioredis; without a listener they would be printed as unhandled.
    this.redis.on('error', () => undefined);
    this.subscriber.on('error', () => undefined);
    this.subscriber.on('message', (_channel: string, text: string) => {
      try {
        const { kind, id, revoked } = JSON.parse(text) as { kind: 'key' | 'client'; id: string; revoked: boolean };
        if ((kind === 'key' || kind === 'client') && typeof id === 'string') onInvalidate(kind, id, revoked === true);
      } catch {
        // Not ours: ignored.
      }
    });
  }

  /**
   * Resolves once subscribed (no invalidation published after that is missed), or after
   * SUBSCRIBE_WAIT_MS with Redis unreachable: the server starts anyway, its cache entries then
   * expire by themselves (30 s), and ioredis subscribes again when Redis comes back.
   */
  async start(): Promise<void> {
    const subscribed = this.subscriber.subscribe(INVALIDATE_CHANNEL).then(() => true, () => false);
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), SUBSCRIBE_WAIT_MS)));
    await Promise.race([subscribed, waited]);
    clearTimeout(timer);
  }

  async key(hashHex: string): Promise<KeyRecord | null> {
    const text = await this.redis.get(`api_key:${hashHex}`).catch(() => null);
    return text === null ? null : recordOf(text);
  }

  storeKey(hashHex: string, record: KeyRecord): void {
    this.redis.set(`api_key:${hashHex}`, recordJson(record), 'EX', KEY_TTL_S).catch(() => undefined);
  }

  async token(hashHex: string): Promise<SharedClaims | null> {
    const text = await this.redis.get(`auth:${hashHex}`).catch(() => null);
    return text === null ? null : (JSON.parse(text) as SharedClaims);
  }

  storeToken(hashHex: string, claims: SharedClaims, ttlS: number): void {
    if (ttlS <= 0) return;
    this.redis.set(`auth:${hashHex}`, JSON.stringify(claims), 'EX', Math.min(TOKEN_TTL_S, ttlS)).catch(() => undefined);
  }

  /** Deletes the shared key entries, then tells every process (this one included) to forget. */
  async invalidate(kind: 'key' | 'client', id: string, revoked: boolean, keyHashesHex: readonly string[]): Promise<void> {
    if (keyHashesHex.length > 0) await this.redis.del(...keyHashesHex.map((h) => `api_key:${h}`)).catch(() => undefined);
    await this.redis.publish(INVALIDATE_CHANNEL, JSON.stringify({ kind, id, revoked })).catch(() => undefined);
  }

  async close(): Promise<void> {
    this.redis.disconnect();
    this.subscriber.disconnect();
  }
}
