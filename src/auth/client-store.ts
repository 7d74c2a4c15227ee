import { randomBytes } from 'node:crypto';
import { BookcastError } from '../errors';
import type { SqlClient } from '../store/sql-client';
import type { Permission, RatePolicy } from './caller';
import { keyIdOf, newApiKey, newKeyId } from './api-key-format';
import { hashPassword, keyHash, randomSecret } from './secret-hashes';
import { parsePermissions, tierNamed } from './tiers';

export const CLIENT_TYPES = ['internal', 'external', 'partner'] as const;
export type ClientType = (typeof CLIENT_TYPES)[number];
export type ClientStatus = 'active' | 'suspended' | 'inactive';

/** A per-client or per-key override of the tier's request budget; absent fields keep the tier's. */
export type RateOverride = Partial<RatePolicy>;

export interface ClientRow {
  clientId: string;
  name: string;
  clientType: ClientType;
  tier: string;
  permissions: Permission[];
  rateLimit: RateOverride | null;
  status: ClientStatus;
  /** Password-grant lockout after repeated failures (auth-service.ts). */
  locked: boolean;
  createdAt: Date;
  updatedAt: Date;
  lastActivity: Date | null;
}

export interface KeyRow {
  keyId: string;
  clientId: string;
  name: string;
  permissions: Permission[];
  rateLimit: RateOverride | null;
  expiresAt: Date | null;
  status: 'active' | 'revoked';
  createdAt: Date;
  lastUsed: Date | null;
}

/** A key with its hash and its client, as admission needs it. */
export interface KeyRecord extends KeyRow {
  keyHash: Uint8Array;
  client: ClientRow;
}

const CLIENT_COLUMNS = 'c.client_id, c.name, c.client_type, c.tier, c.permissions, c.rate_limit, c.status, c.locked, c.created_at, c.updated_at, c.last_activity';
const KEY_COLUMNS = 'k.key_id, k.client_id, k.name, k.permissions, k.rate_limit, k.expires_at, k.status, k.created_at, k.last_used';

function date(value: unknown): Date {
  return value instanceof Date ? value : new Date(value as string);
}

function optionalDate(value: unknown): Date | null {
  return value === null || value === undefined ? null : date(value);
}

function clientRow(r: unknown[]): ClientRow {
  return {
    clientId: r[0] as string,
    name: r[1] as string,
    clientType: r[2] as ClientType,
    tier: r[3] as string,
    permissions: r[4] as Permission[],
    rateLimit: (r[5] as RateOverride | null) ?? null,
    status: r[6] as ClientStatus,
    locked: r[7] as boolean,
    createdAt: date(r[8]),
    updatedAt: date(r[9]),
    lastActivity: optionalDate(r[10]),
  };
}

function keyRow(r: unknown[]): KeyRow {
  return {
    keyId: r[0] as string,
    clientId: r[1] as string,
    name: r[2] as string,
    permissions: r[3] as Permission[],
    rateLimit: (r[4] as RateOverride | null) ?? null,
    expiresAt: optionalDate(r[5]),
    status: r[6] as 'active' | 'revoked',
    createdAt: date(r[7]),
    lastUsed: optionalDate(r[8]),
  };
}

/** Rate overrides from JSON: known fields, positive integers. */
export function parseRateOverride(value: unknown): RateOverride | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value)) throw new BookcastError('INVALID_PARAMETER', 'rate_limit is an object {perSecond, perMinute, perHour, perDay, burst}');
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(value)) {
    if (!['perSecond', 'perMinute', 'perHour', 'perDay', 'burst'].includes(k)) throw new BookcastError('INVALID_PARAMETER', `unknown rate_limit field "${k}"`);
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw new BookcastError('INVALID_PARAMETER', `rate_limit.${k} must be a positive integer`);
    out[k] = v;
  }
  return out;
}

export interface NewClient {
  name: string;
  clientType: ClientType;
  tier: string;
  /** Defaults to the tier's; must stay within it. */
  permissions?: Permission[];
  rateLimit?: RateOverride | null;
}

export interface NewKey {
  clientId: string;
  name: string;
  /** Defaults to the client's; must stay within them. */
  permissions?: Permission[];
  rateLimit?: RateOverride | null;
  expiresAt?: Date | null;
}

/**
 * The api_clients and api_keys rows: creation (secrets returned once, only hashes stored),
 * listing, status changes, and the lookups admission and the token grants make.
 */
export class ClientStore {
  constructor(
    private readonly db: SqlClient,
    private readonly serverSecret: Uint8Array,
  ) {}

  /** Creates a client with a fresh client secret (for the password grant), returned once. */
  async createClient(spec: NewClient): Promise<{ client: ClientRow; clientSecret: string }> {
    if (!/^[\w .@-]{1,100}$/.test(spec.name)) throw new BookcastError('INVALID_PARAMETER', 'a client name is 1 to 100 letters, digits, spaces and . _ @ -');
    if (!(CLIENT_TYPES as readonly string[]).includes(spec.clientType)) throw new BookcastError('INVALID_PARAMETER', `client_type must be one of ${CLIENT_TYPES.join(', ')}`);
    const tier = tierNamed(spec.tier);
    const permissions = spec.permissions ?? [...tier.permissions];
    for (const p of permissions) if (!tier.permissions.includes(p)) throw new BookcastError('INVALID_PARAMETER', `tier ${tier.name} does not include "${p}"`);
    const clientId = `cl_${randomBytes(8).toString('hex')}`;
    const clientSecret = randomSecret();
    const existing = await this.db.rows('select 1 from api_clients where name = $1', [spec.name]);
    if (existing.length > 0) throw new BookcastError('INVALID_PARAMETER', `a client named "${spec.name}" exists`);
    const rows = await this.db.rows(
      `insert into api_clients as c (client_id, client_secret_hash, name, client_type, tier, permissions, rate_limit) values ($1, $2, $3, $4, $5, $6, $7) returning ${CLIENT_COLUMNS}`,
      [clientId, await hashPassword(clientSecret), spec.name, spec.clientType, tier.name, permissions, spec.rateLimit ?? null],
    );
    return { client: clientRow(rows[0]), clientSecret };
  }

  async listClients(): Promise<ClientRow[]> {
    return (await this.db.rows(`select ${CLIENT_COLUMNS} from api_clients c order by c.created_at, c.client_id`, [])).map(clientRow);
  }

  async client(clientId: string): Promise<ClientRow> {
    const rows = await this.db.rows(`select ${CLIENT_COLUMNS} from api_clients c where c.client_id = $1`, [clientId]);
    if (rows.length === 0) throw new BookcastError('UNKNOWN_CLIENT', `no client "${clientId.slice(0, 64)}"`);
    return clientRow(rows[0]);
  }

  /** The client and its password hash, for the password grant (null hash: no password). */
  async clientWithSecret(clientId: string): Promise<{ client: ClientRow; secretHash: string | null; failedLogins: number; retryAfter: Date | null } | null> {
    const rows = await this.db.rows(`select ${CLIENT_COLUMNS}, c.client_secret_hash, c.failed_logins, c.retry_after from api_clients c where c.client_id = $1`, [clientId]);
    if (rows.length === 0) return null;
    return { client: clientRow(rows[0]), secretHash: rows[0][11] as string | null, failedLogins: Number(rows[0][12]), retryAfter: optionalDate(rows[0][13]) };
  }

  /** Active, suspended (refused until activated again) or inactive; unlocking clears login failures. */
  async setClientStatus(clientId: string, status: ClientStatus): Promise<ClientRow> {
    const rows = await this.db.rows(
      `update api_clients c set status = $2, updated_at = now(), locked = case when $2 = 'active' then false else c.locked end, failed_logins = case when $2 = 'active' then 0 else c.failed_logins end, retry_after = case when $2 = 'active' then null else c.retry_after end where c.client_id = $1 returning ${CLIENT_COLUMNS}`,
      [clientId, status],
    );
    if (rows.length === 0) throw new BookcastError('UNKNOWN_CLIENT', `no client "${clientId.slice(0, 64)}"`);
    return clientRow(rows[0]);
  }

  /** Counts a failed password login; returns the count. `retryAfter`: when the next try is allowed; `lock`: lock for good. */
  async loginFailed(clientId: string, retryAfter: Date | null, lock: boolean): Promise<void> {
    await this.db.rows('update api_clients set failed_logins = failed_logins + 1, retry_after = $2, locked = locked or $3, updated_at = now() where client_id = $1', [clientId, retryAfter, lock]);
  }

  async loginSucceeded(clientId: string): Promise<void> {
    await this.db.rows('update api_clients set failed_logins = 0, retry_after = null, last_activity = now() where client_id = $1', [clientId]);
  }

  /** Creates a key for an active client; the key text is returned once. */
  async createKey(spec: NewKey): Promise<{ key: KeyRow; apiKey: string }> {
    if (!/^[\w .@-]{1,100}$/.test(spec.name)) throw new BookcastError('INVALID_PARAMETER', 'a key name is 1 to 100 letters, digits, spaces and . _ @ -');
    const client = await this.client(spec.clientId);
    const permissions = spec.permissions ?? client.permissions;
    for (const p of permissions) if (!client.permissions.includes(p)) throw new BookcastError('INVALID_PARAMETER', `client ${client.clientId} does not hold "${p}"`);
    if (spec.expiresAt && !(spec.expiresAt.getTime() > 0)) throw new BookcastError('INVALID_PARAMETER', 'expires_at must be a time');
    const keyId = newKeyId();
    const apiKey = newApiKey(keyId);
    const rows = await this.db.rows(
      `insert into api_keys as k (key_id, key_hash, client_id, name, permissions, rate_limit, expires_at) values ($1, $2, $3, $4, $5, $6, $7) returning ${KEY_COLUMNS}`,
      [keyId, keyHash(this.serverSecret, apiKey), client.clientId, spec.name, permissions, spec.rateLimit ?? null, spec.expiresAt ?? null],
    );
    return { key: keyRow(rows[0]), apiKey };
  }

  async listKeys(clientId: string | null): Promise<KeyRow[]> {
    const rows = await this.db.rows(
      `select ${KEY_COLUMNS} from api_keys k ${clientId === null ? '' : 'where k.client_id = $1'} order by k.created_at, k.key_id`,
      clientId === null ? [] : [clientId],
    );
    return rows.map(keyRow);
  }

  async key(keyId: string): Promise<KeyRow> {
    const rows = await this.db.rows(`select ${KEY_COLUMNS} from api_keys k where k.key_id = $1`, [keyId]);
    if (rows.length === 0) throw new BookcastError('UNKNOWN_KEY', `no key "${keyId.slice(0, 64)}"`);
    return keyRow(rows[0]);
  }

  async revokeKey(keyId: string): Promise<KeyRow> {
    const rows = await this.db.rows(`update api_keys k set status = 'revoked' where k.key_id = $1 returning ${KEY_COLUMNS}`, [keyId]);
    if (rows.length === 0) throw new BookcastError('UNKNOWN_KEY', `no key "${keyId.slice(0, 64)}"`);
    // Tokens issued for the key stop refreshing with it.
    await this.db.rows('update refresh_tokens set revoked_at = now() where key_id = $1 and revoked_at is null', [keyId]);
    return keyRow(rows[0]);
  }

  /** A new key with the old one's client, name, permissions, limits and expiry; the old one is revoked. */
  async rotateKey(keyId: string): Promise<{ key: KeyRow; apiKey: string; revoked: KeyRow }> {
    const old = await this.key(keyId);
    if (old.status !== 'active') throw new BookcastError('API_KEY_REVOKED', `key ${keyId} is revoked; create a new one`);
    const made = await this.createKey({ clientId: old.clientId, name: old.name, permissions: old.permissions, rateLimit: old.rateLimit, expiresAt: old.expiresAt });
    return { ...made, revoked: await this.revokeKey(keyId) };
  }

  /** The key a presented key text names, with its client; null if there is no such key id. */
  async keyRecord(apiKey: string): Promise<KeyRecord | null> {
    const keyId = keyIdOf(apiKey);
    if (keyId === null) return null;
    return this.keyRecordById(keyId);
  }

  async keyRecordById(keyId: string): Promise<KeyRecord | null> {
    const rows = await this.db.rows(`select ${KEY_COLUMNS}, k.key_hash, ${CLIENT_COLUMNS} from api_keys k join api_clients c on c.client_id = k.client_id where k.key_id = $1`, [keyId]);
    if (rows.length === 0) return null;
    return { ...keyRow(rows[0]), keyHash: new Uint8Array(rows[0][9] as Uint8Array), client: clientRow(rows[0].slice(10)) };
  }

  /** Records use; called once per cache fill, not per request. */
  async touchKey(keyId: string): Promise<void> {
    await this.db.rows('update api_keys set last_used = now() where key_id = $1', [keyId]);
  }

  /** Parses a comma-separated permission list (CLI and admin REST). */
  static permissions(text: string | undefined): Permission[] | undefined {
    return text === undefined ? undefined : parsePermissions(text);
  }
}
