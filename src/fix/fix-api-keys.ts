import { BookcastError } from '../errors';
import { andThen, CallerResolver } from '../auth/admission';
import { isApiKeyText } from '../auth/api-key-format';
import type { Caller } from '../auth/caller';
import type { FixAuthenticator, FixIdentity } from './fix-credentials';

/**
 * Distinct SenderCompIDs one client may log on with through its keys in this process. Each is a
 * FIX session with files and a resend ring of its own; a key holder must not be able to make
 * them without bound.
 */
export const MAX_KEY_SESSIONS_PER_CLIENT = 8;

/** A key id as the Username (553) carries it: the public half of `bk_<key id>_<secret>`. */
const KEY_ID = /^[0-9a-f]{16}$/;

/**
 * The key a Logon presents, or null when it presents none: either Password (554) holds the whole
 * key text, or Username (553) holds its key id and Password its secret (for FIX engines whose
 * configuration keeps the two apart).
 */
export function presentedKey(username: string | undefined, password: string | undefined): string | null {
  if (password === undefined) return null;
  if (isApiKeyText(password)) return password;
  if (username !== undefined && KEY_ID.test(username)) {
    const text = `bk_${username}_${password}`;
    if (isApiKeyText(text)) return text;
  }
  return null;
}

/**
 * FIX Logon under access control (`--auth optional|required`): a Logon that presents an API key
 * is checked by the auth service like an X-API-Key header (revoked, expired, suspended, brute-force
 * backoff), and the session gets the key's permissions (its tier's, or the subset the key holds).
 * Any other Logon goes to the configured sessions (`--fix-sessions`), when there are some.
 *
 * A key's FIX session is named by its client and the SenderCompID, so a client's keys (a rotated
 * one included) continue the same sequence, and no client reaches another's session or resend log.
 */
export class FixApiKeys implements FixAuthenticator {
  /** Client id → the SenderCompIDs its keys have logged on with. */
  private readonly senders = new Map<string, Set<string>>();

  constructor(
    private readonly resolver: CallerResolver,
    private readonly fixed: FixAuthenticator | null,
  ) {}

  authenticate(senderCompId: string, username: string | undefined, password: string | undefined, ip: string): FixIdentity | null | Promise<FixIdentity | null> {
    const key = presentedKey(username, password);
    if (key === null) return this.fixed === null ? null : this.fixed.authenticate(senderCompId, username, password, ip);
    return andThen(this.resolver.fromApiKey(key, ip), (caller) => this.identity(senderCompId, caller));
  }

  private identity(senderCompId: string, caller: Caller): FixIdentity {
    const clientId = caller.clientId!;
    let senders = this.senders.get(clientId);
    if (senders === undefined) this.senders.set(clientId, (senders = new Set()));
    if (!senders.has(senderCompId)) {
      if (senders.size >= MAX_KEY_SESSIONS_PER_CLIENT) {
        throw new BookcastError('FIX_LOGON_REFUSED', `client ${clientId} already has ${MAX_KEY_SESSIONS_PER_CLIENT} FIX sessions (SenderCompIDs); log on with one of them`);
      }
      senders.add(senderCompId);
    }
    return { senderCompId, sessionKey: `key.${clientId}.${senderCompId}`, permissions: caller.permissions, caller };
  }
}
