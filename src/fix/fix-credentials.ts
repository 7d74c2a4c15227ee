import { readFileSync } from 'node:fs';
import { timingSafeEqual } from 'node:crypto';
import { BookcastError } from '../errors';
import { Caller, Permission, PERMISSIONS } from '../auth/caller';

/** Who logged on, and what market data they may request (the Caller permissions' names). */
export interface FixIdentity {
  readonly senderCompId: string;
  /**
   * The FIX session this Logon continues: its persisted sequence numbers and resend log, and the
   * one live connection it may have. A configured session's is its SenderCompID; an API key's is
   * scoped to the key's client (fix-api-keys.ts), so no key holder can reach another's session.
   */
  readonly sessionKey: string;
  readonly permissions: ReadonlySet<Permission>;
  /** The access-control caller behind an API-key Logon (revocation ends the session); null for a configured session. */
  readonly caller: Caller | null;
}

/**
 * Proves a Logon's credentials: the configured list below (`--fix-sessions`), or API keys checked
 * by access control (fix-api-keys.ts, which falls back to the list). A result may be a promise:
 * the session holds further messages until it settles. null, a throw or a rejection refuses the
 * Logon (a BookcastError's code is named in the Logout's Text).
 */
export interface FixAuthenticator {
  authenticate(senderCompId: string, username: string | undefined, password: string | undefined, ip: string): FixIdentity | null | Promise<FixIdentity | null>;
}

/** Market data permissions a session entry gets when it lists none. */
const DEFAULT_PERMISSIONS: readonly Permission[] = ['l1', 'l2', 'l3', 'trades'];

interface SessionEntry {
  senderCompId: string;
  password: string;
  permissions: ReadonlySet<Permission>;
}

/**
 * `--fix-sessions <file>`: JSON `{"sessions": [{"senderCompId": "CLIENT1", "password": "…",
 * "permissions": ["l1", "l2", "trades"]}]}`. A Logon must name a listed SenderCompID (49) and
 * carry its password in Password (554); Username (553), when present, must equal the SenderCompID.
 */
export class FixSessionList implements FixAuthenticator {
  private readonly entries = new Map<string, SessionEntry>();

  constructor(file: string) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new BookcastError('CONFIG_INVALID', `--fix-sessions ${file}: ${(err as Error).message}`);
    }
    const list = (parsed as { sessions?: unknown }).sessions;
    if (!Array.isArray(list)) throw new BookcastError('CONFIG_INVALID', `--fix-sessions ${file}: expected {"sessions": [...]}`);
    for (const e of list as Record<string, unknown>[]) {
      const sender = e.senderCompId;
      const password = e.password;
      const permissions = e.permissions ?? DEFAULT_PERMISSIONS;
      if (typeof sender !== 'string' || !/^[\x21-\x7e]{1,64}$/.test(sender) || typeof password !== 'string' || password.length < 8) {
        throw new BookcastError('CONFIG_INVALID', `--fix-sessions ${file}: each session needs a senderCompId (printable ASCII) and a password of 8+ characters`);
      }
      // API-key sessions are stored as `key.<client>.<SenderCompID>` (fix-api-keys.ts): that prefix is theirs.
      if (sender.startsWith('key.')) throw new BookcastError('CONFIG_INVALID', `--fix-sessions ${file}: a senderCompId may not start with "key."`);
      if (!Array.isArray(permissions) || !permissions.every((p) => (PERMISSIONS as readonly string[]).includes(p))) {
        throw new BookcastError('CONFIG_INVALID', `--fix-sessions ${file}: permissions of ${sender} must be among ${PERMISSIONS.join(', ')}`);
      }
      this.entries.set(sender, { senderCompId: sender, password, permissions: new Set(permissions as Permission[]) });
    }
  }

  authenticate(senderCompId: string, username: string | undefined, password: string | undefined): FixIdentity | null {
    const e = this.entries.get(senderCompId);
    if (e === undefined || password === undefined || (username !== undefined && username !== senderCompId)) return null;
    const a = new TextEncoder().encode(password);
    const b = new TextEncoder().encode(e.password);
    if (a.length !== b.length || !timingSafeEqual(a, b)) return null;
    return { senderCompId, sessionKey: senderCompId, permissions: e.permissions, caller: null };
  }
}
