import { readFileSync } from 'node:fs';
import { timingSafeEqual } from 'node:crypto';
import { BookcastError } from '../errors';
import { Permission, PERMISSIONS } from '../auth/caller';

/** Who logged on, and what market data they may request (the Caller permissions' names). */
export interface FixIdentity {
  readonly senderCompId: string;
  readonly permissions: ReadonlySet<Permission>;
}

/**
 * Proves a Logon's credentials. The seam for access control: the file-backed list below is one
 * implementation; an API-key one (Password (554) = the key, resolved by auth/ to a Caller whose
 * permissions apply) plugs in beside it through `FixAuthenticators` without touching the session.
 * A result may be a promise: the session holds further messages until it settles.
 */
export interface FixAuthenticator {
  authenticate(senderCompId: string, username: string | undefined, password: string | undefined): FixIdentity | null | Promise<FixIdentity | null>;
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
    return { senderCompId, permissions: e.permissions };
  }
}
