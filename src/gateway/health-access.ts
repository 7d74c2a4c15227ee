import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import { remoteAddress } from './answer-meter';
import { clientKey } from './connection-limits';
import type { HealthDetails } from '../config';
import type { Caller } from '../auth/caller';

/** Headers a reverse proxy adds: behind one on the same host every request looks local. */
const PROXY_HEADERS = ['forwarded', 'x-forwarded-for', 'x-real-ip'] as const;

/**
 * The one decision on showing health details: a caller that proved the admin permission (a key or
 * token, not `--auth off`'s everyone) always sees them; others as --health-details says. Reads
 * `req` synchronously, as uWS requires.
 */
export function showsHealthDetails(policy: HealthDetails, res: HttpResponse, req: HttpRequest, caller: Caller | null = null): boolean {
  if (caller !== null && caller.kind !== 'anonymous' && caller.permissions.has('admin')) return true;
  if (policy === 'all') return true;
  if (policy === 'none') return false;
  if (PROXY_HEADERS.some((h) => req.getHeader(h) !== '')) return false;
  return isLoopback(remoteAddress(res));
}

/** 127.0.0.0/8 and ::1, in the forms uWS writes them (IPv4, IPv4-mapped, full or short IPv6). */
export function isLoopback(address: string): boolean {
  const key = clientKey(address);
  return key.startsWith('127.') || /^(0{1,4}:){7}0{0,3}1$/.test(address) || address === '::1';
}
