import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, KeyObject, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { BookcastError } from '../errors';

/**
 * Ed25519 signatures over the exact bytes a client receives (a REST body, a WebSocket text frame
 * or binary frame), so a client holding the published public key can prove a book came from this
 * server. Ed25519 (RFC 8032): deterministic, 64-byte signatures, ~20-60 µs to sign here; node:crypto
 * signs with OpenSSL (one call, no per-message state).
 *
 * The key id is the first 16 hex digits of SHA-256 over the raw public key, so a client can tell
 * which published key to verify with after a rotation.
 */
export class SnapshotSigner {
  readonly keyId: string;
  /** The raw 32-byte public key, base64url (as in a JWK's `x`). */
  readonly publicKey: string;

  private constructor(private readonly key: KeyObject) {
    const pub = createPublicKey(key);
    const jwk = pub.export({ format: 'jwk' });
    this.publicKey = jwk.x!;
    this.keyId = createHash('sha256').update(new Uint8Array(Buffer.from(this.publicKey, 'base64url'))).digest('hex').slice(0, 16);
  }

  /** From a PEM (PKCS#8) Ed25519 private key file; or a fresh key when `file` is undefined. */
  static load(file: string | undefined): SnapshotSigner {
    if (file === undefined) return new SnapshotSigner(generateKeyPairSync('ed25519').privateKey);
    let key: KeyObject;
    try {
      key = createPrivateKey(readFileSync(file));
    } catch (err) {
      throw new BookcastError('CONFIG_INVALID', `--signing-key ${file}: ${(err as Error).message}`);
    }
    if (key.asymmetricKeyType !== 'ed25519') throw new BookcastError('CONFIG_INVALID', `--signing-key ${file} is a ${key.asymmetricKeyType} key; an Ed25519 key is needed`);
    return new SnapshotSigner(key);
  }

  /** The signature of `body` (its UTF-8 bytes when text), base64url. */
  sign(body: Uint8Array | string): string {
    return sign(null, (typeof body === 'string' ? Buffer.from(body, 'utf8') : body) as NodeJS.ArrayBufferView, this.key).toString('base64url');
  }

  /**
   * The frame that follows a signed WebSocket message (a snapshot, a heartbeat) on the same
   * connection: the signature over that message's exact bytes (a text frame's UTF-8, a binary
   * frame's bytes) and their SHA-256, so a client pairs the two by digest and never depends on
   * frame order. In the connection's dialect: `{"type":"signature","data":{…}}`, or for the
   * Market Data API `{"type":"SIGNATURE","payload":{…}}`.
   */
  frame(message: Uint8Array | string, marketData: boolean): string {
    const bytes = (typeof message === 'string' ? Buffer.from(message, 'utf8') : message) as Uint8Array;
    const body = `{"key_id":"${this.keyId}","sha256":"${createHash('sha256').update(bytes).digest('base64url')}","sig":"${this.sign(bytes)}"}`;
    return marketData ? `{"type":"SIGNATURE","payload":${body}}` : `{"type":"signature","data":${body}}`;
  }

  /** The public key as a JWK set (RFC 8037 OKP), as `/api/v1/signing-key` publishes it. */
  jwks(): object {
    return { keys: [{ kty: 'OKP', crv: 'Ed25519', x: this.publicKey, kid: this.keyId, use: 'sig', alg: 'EdDSA' }] };
  }
}
