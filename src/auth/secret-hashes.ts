import { createHash, createHmac, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/**
 * The three ways access control keeps a secret it must recognise later:
 * - API keys: HMAC-SHA-256 under the server secret. Keys are 256-bit random, so a fast hash
 *   loses nothing to guessing, and the server secret means a stolen table alone cannot be
 *   checked against candidate keys.
 * - Refresh tokens: plain SHA-256 (also 256-bit random; they never outlive their family).
 * - Client secrets (the password grant): scrypt, slow on purpose, since people choose passwords.
 * Every comparison is timing-safe.
 */
export function keyHash(secret: Uint8Array, key: string): Uint8Array {
  return new Uint8Array(createHmac('sha256', secret).update(key).digest());
}

export function tokenHash(token: string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(token).digest());
}

export function sameHash(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** scrypt cost: N = 2^14, r = 8, p = 1 (16 MiB, tens of ms a check). */
const SCRYPT = { N: 16384, r: 8, p: 1, keyLength: 32 } as const;

function scryptAsync(password: string, salt: Uint8Array, n: number, r: number, p: number, length: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, length, { N: n, r, p, maxmem: 64 * 1024 * 1024 }, (err, key) => (err ? reject(err) : resolve(new Uint8Array(key))));
  });
}

/** `scrypt$N$r$p$salt$hash` (base64url), so the cost can rise later without breaking old hashes. */
export async function hashPassword(password: string): Promise<string> {
  const salt = new Uint8Array(randomBytes(16));
  const hash = await scryptAsync(password, salt, SCRYPT.N, SCRYPT.r, SCRYPT.p, SCRYPT.keyLength);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${Buffer.from(salt).toString('base64url')}$${Buffer.from(hash).toString('base64url')}`;
}

/** Whether `password` matches a stored hash; false for anything malformed. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [n, r, p] = parts.slice(1, 4).map(Number);
  const expected = new Uint8Array(Buffer.from(parts[5], 'base64url'));
  if (![n, r, p].every(Number.isSafeInteger) || expected.length === 0) return false;
  const actual = await scryptAsync(password, new Uint8Array(Buffer.from(parts[4], 'base64url')), n, r, p, expected.length);
  return sameHash(actual, expected);
}

/** A random secret for clients and refresh tokens: 32 bytes, base64url. */
export function randomSecret(): string {
  return randomBytes(32).toString('base64url');
}
