import { randomBytes } from 'node:crypto';

/**
 * API keys as clients hold them: `bk_<key id>_<secret>`. The key id (8 random bytes, hex) is
 * public: it names the api_keys row, so a key is found by id and then its secret checked, never
 * searched for by hash. The secret is 32 random bytes (256 bits), base64url; only its keyed hash
 * (key-hash.ts) is stored.
 */
const API_KEY = /^bk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

export function isApiKeyText(text: string): boolean {
  return API_KEY.test(text);
}

/** The key id of a well-formed key, or null. */
export function keyIdOf(text: string): string | null {
  const m = API_KEY.exec(text);
  return m === null ? null : m[1];
}

export function newKeyId(): string {
  return randomBytes(8).toString('hex');
}

/** A fresh key for `keyId`: shown to its owner once, never stored. */
export function newApiKey(keyId: string): string {
  return `bk_${keyId}_${randomBytes(32).toString('base64url')}`;
}
