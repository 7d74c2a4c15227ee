import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import { clientKey } from './connection-limits';

/**
 * Who sees `/api/v1/health` beyond `{status, uptime_s}`: the details name publisher sessions,
 * sequences, symbols per worker, the store and its last error's text — an operator's view, not
 * an anonymous client's.
 *   none   nobody (the public answer only)
 *   local  requests from a loopback address that no proxy forwarded (the default)
 *   all    everyone (a private network)
 */
export const HEALTH_DETAILS = ['none', 'local', 'all'] as const;
export type HealthDetails = (typeof HEALTH_DETAILS)[number];

/** Headers a reverse proxy adds: behind one on the same host every request looks local. */
const PROXY_HEADERS = ['forwarded', 'x-forwarded-for', 'x-real-ip'] as const;

/**
 * The one decision on showing health details; access control will make it "has the admin
 * permission". Reads `req` synchronously, as uWS requires.
 */
export function showsHealthDetails(policy: HealthDetails, res: HttpResponse, req: HttpRequest): boolean {
  if (policy === 'all') return true;
  if (policy === 'none') return false;
  if (PROXY_HEADERS.some((h) => req.getHeader(h) !== '')) return false;
  return isLoopback(Buffer.from(res.getRemoteAddressAsText()).toString());
}

/** 127.0.0.0/8 and ::1, in the forms uWS writes them (IPv4, IPv4-mapped, full or short IPv6). */
export function isLoopback(address: string): boolean {
  const key = clientKey(address);
  return key.startsWith('127.') || /^(0{1,4}:){7}0{0,3}1$/.test(address) || address === '::1';
}
