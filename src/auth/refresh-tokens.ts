import { randomBytes } from 'node:crypto';
import { BookcastError } from '../errors';
import type { SqlClient } from '../store/sql-client';
import type { Permission } from './caller';
import { randomSecret, tokenHash } from './secret-hashes';

export interface RefreshGrant {
  clientId: string;
  keyId: string | null;
  scope: Permission[];
}

/**
 * Opaque refresh tokens (`rt_` + 256 random bits), stored as SHA-256, rotated on every use: a
 * use spends the token and issues its successor in the same family. Presenting a spent token
 * means two parties hold it (one of them stole it), so the whole family is revoked and the
 * honest party has to log in again (OAuth 2.0 Security BCP, refresh token rotation).
 */
export class RefreshTokens {
  constructor(
    private readonly db: SqlClient,
    private readonly ttlS: number,
    private readonly clock: () => number,
  ) {}

  /** A new family's first token. */
  issue(grant: RefreshGrant): Promise<string> {
    return this.insert(this.db, grant, `rf_${randomBytes(8).toString('hex')}`);
  }

  /**
   * Spends `token` and returns its grant with the successor; INVALID_GRANT for an unknown,
   * expired or revoked token, REFRESH_TOKEN_REUSED (after revoking the family) for a spent one.
   */
  async use(token: string): Promise<RefreshGrant & { token: string; familyId: string }> {
    if (!/^rt_[A-Za-z0-9_-]{43}$/.test(token)) throw new BookcastError('INVALID_GRANT', 'the refresh token is malformed');
    const hash = tokenHash(token);
    const outcome = await this.db.transaction(async (tx) => {
      const rows = await tx.rows('select family_id, client_id, key_id, scope, expires_at, used_at, revoked_at from refresh_tokens where token_hash = $1 for update', [hash]);
      if (rows.length === 0) return { refused: 'INVALID_GRANT' as const, familyId: null };
      const [familyId, clientId, keyId, scope, expiresAt, usedAt, revokedAt] = rows[0];
      if (revokedAt !== null) return { refused: 'INVALID_GRANT' as const, familyId: familyId as string };
      if (usedAt !== null) {
        // Committed, not rolled back with the refusal: the family stays revoked.
        await tx.rows('update refresh_tokens set revoked_at = now() where family_id = $1 and revoked_at is null', [familyId]);
        return { refused: 'REFRESH_TOKEN_REUSED' as const, familyId: familyId as string, clientId: clientId as string };
      }
      if (new Date(expiresAt as string).getTime() <= this.clock()) return { refused: 'INVALID_GRANT' as const, familyId: familyId as string };
      await tx.rows('update refresh_tokens set used_at = now() where token_hash = $1', [hash]);
      const grant: RefreshGrant = { clientId: clientId as string, keyId: keyId as string | null, scope: scope as Permission[] };
      return { refused: null, familyId: familyId as string, grant, token: await this.insert(tx, grant, familyId as string) };
    });
    if (outcome.refused !== null) {
      throw Object.assign(new BookcastError(outcome.refused, outcome.refused === 'INVALID_GRANT' ? 'the refresh token is unknown, expired or revoked' : undefined), {
        familyId: outcome.familyId,
        clientId: 'clientId' in outcome ? outcome.clientId : null,
      });
    }
    return { ...outcome.grant!, token: outcome.token!, familyId: outcome.familyId };
  }

  private async insert(db: SqlClient, grant: RefreshGrant, familyId: string): Promise<string> {
    const token = `rt_${randomSecret()}`;
    await db.rows('insert into refresh_tokens (token_hash, family_id, client_id, key_id, scope, expires_at) values ($1, $2, $3, $4, $5, $6)', [
      tokenHash(token),
      familyId,
      grant.clientId,
      grant.keyId,
      grant.scope,
      new Date(this.clock() + this.ttlS * 1000),
    ]);
    return token;
  }
}
