import * as path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { AuthService } from '../../src/auth/auth-service';
import { LEGACY_AUTH_DIR } from '../../src/store/legacy-auth-import';
import { pgliteClient } from '../../src/store/pglite-store';
import { seedPglite } from './pglite-template';

export interface LegacyAuthStore {
  clientId: string;
  apiKey: string;
  keyId: string;
  /** The audit chain's head (verify's `head`). */
  head: string;
}

/**
 * What an earlier version left in `dataDir`: its separate auth PGlite, `pglite-auth`, holding a
 * professional client, a key, a refresh token (from a password grant), a signing key and their
 * audit rows, made with `serverSecret` as that version's server did.
 */
export async function legacyAuthStore(dataDir: string, serverSecret: Uint8Array): Promise<LegacyAuthStore> {
  const dir = path.join(dataDir, LEGACY_AUTH_DIR);
  await seedPglite(dir);
  const db = pgliteClient(await PGlite.create(dir));
  try {
    const auth = new AuthService(db, { serverSecret, issuer: 'bookcast', tokenTtlS: 60, refreshTtlS: 600, clock: Date.now });
    await auth.start();
    const { client, clientSecret } = await auth.createClient('cli', { name: 'acme', clientType: 'partner', tier: 'professional' });
    const { key, apiKey } = await auth.createKey('cli', { clientId: client.clientId, name: 'prod' });
    await auth.grants.grant({ grant_type: 'password', client_id: client.clientId, client_secret: clientSecret }, '127.0.0.1');
    const verdict = await auth.audit.verify();
    if (!verdict.ok) throw new Error(`the legacy audit log is broken: ${verdict.reason}`);
    return { clientId: client.clientId, apiKey, keyId: key.keyId, head: verdict.head };
  } finally {
    await db.close();
  }
}
