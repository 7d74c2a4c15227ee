import { BookcastError } from '../errors';
import type { SqlClient } from '../store/sql-client';

/**
 * Failed password logins counted per client address, across every client id it tries (the
 * per-client count in api_clients never sees guesses at client ids that do not exist, nor one
 * address trying a few secrets on each of many clients). After ADDRESS_BACKOFF_AFTER failures
 * each further try from the address must wait 2^(failures - ADDRESS_BACKOFF_AFTER) s (at most
 * MAX_BACKOFF_S); at ADDRESS_LOCK_AFTER the address is refused for ADDRESS_LOCK_S.
 *
 * The thresholds are higher than a client's (token-grants.ts) and the lock lapses by itself,
 * because one address may carry many honest users (a NAT, a proxy): an attacker's address is
 * slowed and then shut out, its neighbours only for an hour, and no administrator is needed.
 * A success from the address clears its count; failures older than ADDRESS_WINDOW_S are forgotten.
 * Kept in the auth database (login_failures), so every process behind one database counts together.
 */
export const ADDRESS_BACKOFF_AFTER = 10;
export const ADDRESS_LOCK_AFTER = 30;
export const ADDRESS_LOCK_S = 3600;
const ADDRESS_WINDOW_S = 3600;
export const MAX_BACKOFF_S = 900;

const COUNT_FAILURE = `insert into login_failures as f (ip, failures, last_failure) values ($1, 1, $2)
on conflict (ip) do update set
  failures = case when f.last_failure < $2::timestamptz - interval '${ADDRESS_WINDOW_S} seconds' and (f.locked_until is null or f.locked_until < $2) then 1 else f.failures + 1 end,
  last_failure = $2
returning failures`;

/** The wait before the next try after `failures` consecutive failures, or null while below `after`. */
export function backoffUntil(now: number, failures: number, after: number): Date | null {
  return failures >= after ? new Date(now + Math.min(MAX_BACKOFF_S, 2 ** (failures - after)) * 1000) : null;
}

export class AddressGuard {
  constructor(
    private readonly db: SqlClient,
    private readonly clock: () => number,
  ) {}

  /** Throws ADDRESS_LOCKED or LOGIN_BACKOFF while the address must wait; the try is then not checked. */
  async check(ip: string): Promise<void> {
    const rows = await this.db.rows('select retry_after, locked_until from login_failures where ip = $1', [ip]);
    if (rows.length === 0) return;
    const now = this.clock();
    const [retryAfter, lockedUntil] = rows[0] as [Date | null, Date | null];
    if (lockedUntil !== null && new Date(lockedUntil).getTime() > now) {
      throw new BookcastError('ADDRESS_LOCKED', `too many failed logins from this address; try again after ${new Date(lockedUntil).toISOString()}`);
    }
    if (retryAfter !== null && new Date(retryAfter).getTime() > now) {
      throw new BookcastError('LOGIN_BACKOFF', `too many failed logins from this address; try again after ${new Date(retryAfter).toISOString()}`);
    }
  }

  /** Counts a failure; true when it locked the address. */
  async failed(ip: string): Promise<boolean> {
    const now = this.clock();
    const failures = Number((await this.db.rows(COUNT_FAILURE, [ip, new Date(now)]))[0][0]);
    const lock = failures >= ADDRESS_LOCK_AFTER;
    await this.db.rows('update login_failures set retry_after = $2, locked_until = $3 where ip = $1', [ip, backoffUntil(now, failures, ADDRESS_BACKOFF_AFTER), lock ? new Date(now + ADDRESS_LOCK_S * 1000) : null]);
    return lock && failures === ADDRESS_LOCK_AFTER;
  }

  async succeeded(ip: string): Promise<void> {
    await this.db.rows('delete from login_failures where ip = $1', [ip]);
  }
}
