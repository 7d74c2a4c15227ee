import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

export interface TestCa {
  dir: string;
  /** The CA's certificate (PEM text): what a client trusts. */
  ca: string;
  /** Files for --tls-cert / --tls-key: a server certificate for 127.0.0.1 and localhost, signed by the CA. */
  cert: string;
  key: string;
  /** The same key encrypted with `passphrase`. */
  encryptedKey: string;
  passphrase: string;
  remove(): void;
}

/** A throwaway certificate authority and a server certificate it signed, made by openssl in a temp dir. */
export function makeTestCa(): TestCa {
  const dir = mkdtempSync(path.join(tmpdir(), 'bookcast-ca-'));
  const at = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=bookcast test CA');
  openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost');
  openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', writeExt(dir));
  const passphrase = 'correct horse battery';
  openssl('pkey', '-in', 'server.key', '-aes256', '-passout', `pass:${passphrase}`, '-out', 'server.enc.key');
  return {
    dir,
    ca: readFileSync(at('ca.pem'), 'utf8'),
    cert: at('server.pem'),
    key: at('server.key'),
    encryptedKey: at('server.enc.key'),
    passphrase,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

function writeExt(dir: string): string {
  const file = path.join(dir, 'server.ext');
  require('node:fs').writeFileSync(file, 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  return file;
}
