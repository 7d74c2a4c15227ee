import { randomBytes } from 'node:crypto';
import { BookcastError } from '../errors';
import type { SqlClient } from '../store/sql-client';
import { AddressGuard, backoffUntil } from './address-guard';
import type { AuditLog } from './audit-log';
import type { Permission } from './caller';
import type { ClientStore } from './client-store';
import type { CredentialResolver } from './credential-resolver';
import { RefreshTokens } from './refresh-tokens';
import { verifyPassword } from './secret-hashes';
import { tierNamed } from './tiers';
import type { TokenIssuer } from './token-issuer';

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
 * Password-grant brute-force policy per client: after BACKOFF_AFTER consecutive failures each
 * further try must wait 2^(failures - BACKOFF_AFTER) s (at most 900 s); at LOCK_AFTER the client
 * is locked until an administrator activates it again. Tries during a wait are refused unchecked.
 * The address the tries come from is counted too (address-guard.ts).
 */
export const BACKOFF_AFTER = 3;
export const LOCK_AFTER = 8;
/** A well-formed hash nothing matches (checked against for unknown clients). */
const UNKNOWN_CLIENT_HASH = `scrypt$16384$8$1$${'A'.repeat(22)}$${'A'.repeat(43)}`;

/**
 * POST /api/v1/auth/token: the api_key, password and refresh_token grants, each audited, with
 * the password grant's brute-force policy and refresh-token rotation.
 */
export class TokenGrants {
  private readonly refresh: RefreshTokens;
  private readonly addresses: AddressGuard;

  constructor(
    db: SqlClient,
    private readonly clients: ClientStore,
    private readonly resolver: CredentialResolver,
    private readonly issuer: TokenIssuer,
    private readonly audit: AuditLog,
    private readonly tokenTtlS: number,
    refreshTtlS: number,
    private readonly clock: () => number,
  ) {
    this.refresh = new RefreshTokens(db, refreshTtlS, clock);
    this.addresses = new AddressGuard(db, clock);
  }

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
    const caller = await this.resolver.fromApiKey(request.api_key, ip);
    const scope = this.narrow(caller.permissions, request.scope);
    await this.audit.append({ actor: `client:${caller.clientId}`, action: 'token_issued', subject: caller.keyId, ip, detail: { grant: 'api_key', scope } });
    return this.issue(caller.clientId!, caller.keyId, caller.tier, scope, false);
  }

  /**
   * The address is checked first (address-guard.ts), then the client; a try refused for either is
   * not checked at all, so backoff really slows a guesser. Every failure counts for both.
   */
  private async passwordGrant(request: TokenRequest, ip: string): Promise<TokenAnswer> {
    const clientId = request.client_id;
    const secret = request.client_secret;
    if (typeof clientId !== 'string' || typeof secret !== 'string' || clientId === '' || secret === '' || clientId.length > 64 || secret.length > 256) {
      throw new BookcastError('INVALID_TOKEN_REQUEST', 'grant_type password needs "client_id" and "client_secret"');
    }
    try {
      await this.addresses.check(ip);
    } catch (err) {
      await this.audit.append({ actor: `ip:${ip}`, action: 'login_refused_address', subject: clientId, ip, detail: { code: (err as BookcastError).code } });
      throw err;
    }
    const found = await this.clients.clientWithSecret(clientId);
    const now = this.clock();
    if (found === null || found.secretHash === null) {
      // As slow as a wrong password, so timing does not tell which client ids exist.
      await verifyPassword(secret, UNKNOWN_CLIENT_HASH);
      await this.addressFailed(ip, clientId, null);
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
      await this.clients.loginFailed(clientId, backoffUntil(now, failures, BACKOFF_AFTER), lock);
      await this.addressFailed(ip, clientId, { failures, lock });
      throw new BookcastError('INVALID_GRANT');
    }
    if (client.status !== 'active') throw new BookcastError('CLIENT_SUSPENDED', `client ${clientId} is ${client.status}`);
    await this.clients.loginSucceeded(clientId);
    await this.addresses.succeeded(ip);
    const scope = this.narrow(new Set(client.permissions.filter((p) => tierNamed(client.tier).permissions.includes(p))), request.scope);
    await this.audit.append({ actor: `client:${clientId}`, action: 'login', subject: clientId, ip, detail: { grant: 'password', scope } });
    return this.issue(clientId, null, client.tier, scope, true);
  }

  /** A failed login, counted for the address and audited (with the client's count when the client exists). */
  private async addressFailed(ip: string, clientId: string, client: { failures: number; lock: boolean } | null): Promise<void> {
    const addressLocked = await this.addresses.failed(ip);
    const action = client?.lock ? 'login_locked' : addressLocked ? 'login_address_locked' : 'login_failed';
    await this.audit.append({ actor: `ip:${ip}`, action, subject: clientId, ip, detail: client === null ? { unknown_client: true } : { failures: client.failures } });
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
    const ttl = this.tokenTtlS;
    const signed = await this.issuer.sign({ sub: clientId, key: keyId, scope: scope.join(' '), tier }, ttl, randomBytes(12).toString('base64url'));
    return { access_token: signed.token, token_type: 'Bearer', expires_in: ttl, scope: scope.join(' '), issued_at: new Date(signed.issuedAt * 1000).toISOString() };
  }
}
