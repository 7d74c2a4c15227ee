import type { SqlClient } from '../store/sql-client';
import type { CallerResolver } from './admission';
import { AuditLog } from './audit-log';
import type { Caller } from './caller';
import { ClientStore } from './client-store';
import { CredentialResolver } from './credential-resolver';
import { SharedAuthCache } from './shared-auth-cache';
import { TokenGrants } from './token-grants';
import { TokenIssuer } from './token-issuer';

export type { TokenAnswer, TokenRequest } from './token-grants';

export interface AuthServiceOptions {
  serverSecret: Uint8Array;
  issuer: string;
  tokenTtlS: number;
  refreshTtlS: number;
  /** ms since the epoch; tests inject one they move. */
  clock: () => number;
}

/**
 * Access control's parts on one database, for the server and the CLI alike: the cached
 * resolution of keys and tokens (credential-resolver.ts, the request path), the token grants
 * (token-grants.ts), and here every change to clients and keys with its audit row and the cache
 * invalidation it needs, in this process and (with Redis) in every other.
 */
export class AuthService implements CallerResolver {
  readonly clients: ClientStore;
  readonly audit: AuditLog;
  readonly issuer: TokenIssuer;
  readonly resolver: CredentialResolver;
  readonly grants: TokenGrants;
  /** Shared with other processes through Redis (--redis-url); null: this process alone. */
  private shared: SharedAuthCache | null = null;

  constructor(
    readonly db: SqlClient,
    options: AuthServiceOptions,
  ) {
    this.clients = new ClientStore(db, options.serverSecret);
    this.audit = new AuditLog(db, options.clock);
    this.issuer = new TokenIssuer(db, options.serverSecret, options.issuer, options.clock);
    this.resolver = new CredentialResolver(this.clients, this.issuer, options.serverSecret, options.clock);
    this.grants = new TokenGrants(db, this.clients, this.resolver, this.issuer, this.audit, options.tokenTtlS, options.refreshTtlS, options.clock);
  }

  async start(): Promise<void> {
    await this.issuer.start();
  }

  /** Shares verified keys and tokens, and revocations, with every process on the same Redis. */
  async share(redisUrl: string): Promise<void> {
    const shared = new SharedAuthCache(redisUrl, (kind, id, revoked) => this.resolver.forget(kind, id, revoked));
    try {
      await shared.start();
    } catch (err) {
      await shared.close();
      throw err;
    }
    this.shared = shared;
    this.resolver.shared = shared;
  }

  async close(): Promise<void> {
    await this.shared?.close();
    await this.db.close();
  }

  fromApiKey(text: string, ip: string): Caller | Promise<Caller> {
    return this.resolver.fromApiKey(text, ip);
  }

  fromToken(token: string, ip: string): Caller | Promise<Caller> {
    return this.resolver.fromToken(token, ip);
  }

  /** The WebSocket gateway's hook: told of every key revoked and client suspended (credential-resolver.ts). */
  set onRevoked(hook: ((kind: 'key' | 'client', id: string) => void) | null) {
    this.resolver.onRevoked = hook;
  }

  /** Forgets here, and with Redis deletes the shared entries and tells every other process. */
  private async invalidate(kind: 'key' | 'client', id: string, revoked: boolean): Promise<void> {
    this.resolver.forget(kind, id, revoked);
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
