import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BookcastError } from '../errors';

export const SECRET_FILE = 'auth-secret';

/**
 * The server secret that keys API-key hashes and seals the token-signing keys: `--auth-secret`
 * when given, else `<data-dir>/auth-secret`, made once (32 random bytes) readable by its owner
 * only. Every process that shares a database must share the secret (give them the same
 * --auth-secret): a key hashed under one secret is unknown under another.
 */
export function loadServerSecret(configured: string, dataDir: string): Buffer {
  if (configured !== '') return Buffer.from(configured, 'utf8');
  const file = join(dataDir, SECRET_FILE);
  mkdirSync(dataDir, { recursive: true });
  try {
    // Exclusive create: two processes starting at once cannot each write a different secret.
    writeFileSync(file, randomBytes(32).toString('base64url'), { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const mode = statSync(file).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new BookcastError('CONFIG_INVALID', `${file} is readable by others (mode ${mode.toString(8)}); chmod 600 it`);
  }
  const secret = readFileSync(file, 'utf8').trim();
  if (secret.length < 32) throw new BookcastError('CONFIG_INVALID', `${file} holds fewer than 32 characters`);
  return Buffer.from(secret, 'utf8');
}
