import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { calculateJwkThumbprint, decodeProtectedHeader, errors, exportJWK, generateKeyPair, importJWK, JWK, JWTPayload, jwtVerify, KeyLike, SignJWT } from 'jose';
import { BookcastError } from '../errors';
import type { SqlClient } from '../store/sql-client';

/** The one algorithm tokens are signed and accepted with: Ed25519. Pinned, so `none` and HS256 never pass. */
const ALGORITHM = 'EdDSA';
/** A token naming an unknown kid makes at most one reload of the key table per this long. */
const RELOAD_MS = 5_000;
/** Longest token accepted for verification at all. */
export const MAX_TOKEN_CHARS = 4096;

interface SigningKey {
  kid: string;
  publicJwk: JWK;
  publicKey: KeyLike | Uint8Array;
  privateKey: KeyLike | Uint8Array | null;
  createdAt: number;
}

/** What an access token says (besides iss, aud, iat, nbf, exp, jti). */
export interface AccessClaims {
  /** client_id */
  sub: string;
  /** The api_keys row it was issued for, or null (password grant). */
  key: string | null;
  /** Space-separated permissions. */
  scope: string;
  tier: string;
}

/**
 * Signs and verifies access tokens (JWT, EdDSA over Ed25519, through jose). Key pairs live in
 * signing_keys, the private half sealed (AES-256-GCM) under a key derived from the server secret,
 * so every process sharing the database signs and verifies alike. `rotate` adds a key and signs
 * with it from then on; the previous one stays published (JWKS) and accepted until retired, so
 * tokens already issued keep working. Verification pins the algorithm, checks iss, aud, exp and
 * nbf against the injected clock, and refuses a kid it does not hold.
 */
export class TokenIssuer {
  private keys = new Map<string, SigningKey>();
  private current: SigningKey | null = null;
  private lastReload = 0;
  private readonly sealKey: Uint8Array;

  constructor(
    private readonly db: SqlClient,
    serverSecret: Uint8Array,
    readonly issuer: string,
    private readonly clock: () => number,
  ) {
    this.sealKey = new Uint8Array(hkdfSync('sha256', serverSecret, new Uint8Array(0), 'bookcast token signing keys', 32));
  }

  /** Loads the keys; makes the first one if there is none. */
  async start(): Promise<void> {
    await this.reload();
    if (this.current === null) await this.rotate();
  }

  /** Adds a new signing key and signs with it; keys older than the previous one are retired. */
  async rotate(): Promise<string> {
    const { publicKey, privateKey } = await generateKeyPair(ALGORITHM, { crv: 'Ed25519', extractable: true });
    const publicJwk = await exportJWK(publicKey);
    const kid = await calculateJwkThumbprint(publicJwk);
    const privateJwk = await exportJWK(privateKey);
    await this.db.transaction(async (tx) => {
      await tx.rows('insert into signing_keys (kid, public_jwk, private_sealed) values ($1, $2, $3)', [kid, JSON.stringify(publicJwk), this.seal(JSON.stringify(privateJwk))]);
      await tx.rows('update signing_keys set retired_at = now() where retired_at is null and kid not in (select kid from signing_keys order by created_at desc limit 2)', []);
    });
    await this.reload();
    return kid;
  }

  /** The public keys to verify tokens with: the JWKS document. */
  jwks(): { keys: JWK[] } {
    return { keys: [...this.keys.values()].map((k) => ({ ...k.publicJwk, kid: k.kid, alg: ALGORITHM, use: 'sig' })) };
  }

  async sign(claims: AccessClaims, ttlS: number, jti: string): Promise<{ token: string; issuedAt: number; expiresAt: number }> {
    const key = this.current;
    if (key === null || key.privateKey === null) throw new BookcastError('INTERNAL', 'no signing key');
    const issuedAt = Math.floor(this.clock() / 1000);
    const token = await new SignJWT({ scope: claims.scope, key: claims.key, tier: claims.tier })
      .setProtectedHeader({ alg: ALGORITHM, kid: key.kid, typ: 'at+jwt' })
      .setIssuer(this.issuer)
      .setAudience(this.issuer)
      .setSubject(claims.sub)
      .setIssuedAt(issuedAt)
      .setNotBefore(issuedAt)
      .setExpirationTime(issuedAt + ttlS)
      .setJti(jti)
      .sign(key.privateKey);
    return { token, issuedAt, expiresAt: issuedAt + ttlS };
  }

  /** The token's claims if it is ours and current; else INVALID_TOKEN, TOKEN_EXPIRED or TOKEN_NOT_YET_VALID. */
  async verify(token: string): Promise<AccessClaims & { exp: number }> {
    if (token.length > MAX_TOKEN_CHARS) throw new BookcastError('INVALID_TOKEN', 'the token is too long');
    let kid: string | undefined;
    try {
      const header = decodeProtectedHeader(token);
      if (header.alg !== ALGORITHM) throw new BookcastError('INVALID_TOKEN', `tokens are signed with ${ALGORITHM}, not ${String(header.alg).slice(0, 20)}`);
      kid = header.kid;
    } catch (err) {
      if (err instanceof BookcastError) throw err;
      throw new BookcastError('INVALID_TOKEN', 'the token is not a JWT');
    }
    if (typeof kid !== 'string') throw new BookcastError('INVALID_TOKEN', 'the token names no key (kid)');
    let key = this.keys.get(kid);
    if (key === undefined && this.clock() - this.lastReload > RELOAD_MS) {
      // Another process may have rotated: look once, not on every forged kid.
      await this.reload();
      key = this.keys.get(kid);
    }
    if (key === undefined) throw new BookcastError('INVALID_TOKEN', 'the token was signed by a key this server does not hold');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, key.publicKey, {
        algorithms: [ALGORITHM],
        issuer: this.issuer,
        audience: this.issuer,
        currentDate: new Date(this.clock()),
        requiredClaims: ['sub', 'exp', 'iat', 'nbf'],
      }));
    } catch (err) {
      if (err instanceof errors.JWTExpired) throw new BookcastError('TOKEN_EXPIRED');
      if (err instanceof errors.JWTClaimValidationFailed && err.claim === 'nbf') throw new BookcastError('TOKEN_NOT_YET_VALID');
      if (err instanceof errors.JWTClaimValidationFailed) throw new BookcastError('INVALID_TOKEN', `the token's "${err.claim}" claim is not accepted here`);
      throw new BookcastError('INVALID_TOKEN');
    }
    if (typeof payload.scope !== 'string' || typeof payload.tier !== 'string' || (payload.key !== null && typeof payload.key !== 'string')) {
      throw new BookcastError('INVALID_TOKEN', 'the token lacks scope, tier or key');
    }
    return { sub: payload.sub!, key: payload.key as string | null, scope: payload.scope, tier: payload.tier, exp: payload.exp! };
  }

  private async reload(): Promise<void> {
    this.lastReload = this.clock();
    const rows = await this.db.rows('select kid, public_jwk, private_sealed, created_at from signing_keys where retired_at is null order by created_at', []);
    const keys = new Map<string, SigningKey>();
    let current: SigningKey | null = null;
    for (const [kid, publicJwk, sealed, createdAt] of rows) {
      const pub = JSON.parse(publicJwk as string) as JWK;
      const key: SigningKey = {
        kid: kid as string,
        publicJwk: pub,
        publicKey: await importJWK(pub, ALGORITHM),
        privateKey: await importJWK(JSON.parse(this.unseal(new Uint8Array(sealed as Uint8Array))) as JWK, ALGORITHM),
        createdAt: new Date(createdAt as string).getTime(),
      };
      keys.set(key.kid, key);
      current = key;
    }
    this.keys = keys;
    this.current = current;
  }

  private seal(text: string): Uint8Array {
    const iv = new Uint8Array(randomBytes(12));
    const cipher = createCipheriv('aes-256-gcm', this.sealKey, iv);
    const body = Buffer.concat([new Uint8Array(cipher.update(text, 'utf8')), new Uint8Array(cipher.final())]);
    return new Uint8Array(Buffer.concat([iv, new Uint8Array(cipher.getAuthTag()), new Uint8Array(body)]));
  }

  private unseal(sealed: Uint8Array): string {
    const decipher = createDecipheriv('aes-256-gcm', this.sealKey, sealed.subarray(0, 12));
    decipher.setAuthTag(sealed.subarray(12, 28));
    try {
      return Buffer.concat([new Uint8Array(decipher.update(sealed.subarray(28))), new Uint8Array(decipher.final())]).toString('utf8');
    } catch {
      throw new BookcastError('CONFIG_INVALID', 'the token signing keys were sealed under another server secret; give every process the same --auth-secret');
    }
  }
}
