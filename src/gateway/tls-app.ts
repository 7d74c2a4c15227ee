import { accessSync, constants } from 'node:fs';
import type { TemplatedApp } from 'uWebSockets.js';
import { BookcastError } from '../errors';

type Uws = typeof import('uWebSockets.js');

export interface TlsFiles {
  cert: string;
  key: string;
  passphrase: string | undefined;
}

/**
 * TLS 1.2 cipher suites allowed: pre-shared-key suites only, and no pre-shared key is configured,
 * so no TLS 1.2 handshake can complete (the client gets handshake_failure). uWS's options have no
 * minimum protocol version, but TLS 1.3's suites are negotiated apart from this list (and the TLS
 * library refuses 1.1 and older by itself), so this is how "TLS 1.3 only" is enforced through
 * uWS. Checked by test/gateway/tls.test.ts with a client limited to TLS 1.2.
 */
const NO_TLS12_SUITES = 'PSK';

/** uWS's App, or its SSLApp (HTTPS and WSS, TLS 1.3 only) when a certificate and key are given. Throws CONFIG_INVALID. */
export function makeApp(uws: Uws, tls: TlsFiles | null): TemplatedApp {
  if (tls === null) return uws.App();
  for (const file of [tls.cert, tls.key]) {
    try {
      accessSync(file, constants.R_OK);
    } catch {
      throw new BookcastError('CONFIG_INVALID', `cannot read ${file} (--tls-cert / --tls-key)`);
    }
  }
  try {
    return uws.SSLApp({ cert_file_name: tls.cert, key_file_name: tls.key, passphrase: tls.passphrase, ssl_ciphers: NO_TLS12_SUITES });
  } catch (err) {
    throw new BookcastError('CONFIG_INVALID', `TLS: ${(err as Error).message} (a certificate and key in PEM that match, and the key's passphrase if it has one)`);
  }
}
