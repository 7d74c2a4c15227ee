import type { Caller, Permission, TierLimits } from '../auth/caller';
import type { CallerResolver } from './admission';
import { clientKey } from './connection-limits';

/** What anonymous callers may reach (the public tier). */
const PUBLIC_PERMISSIONS: ReadonlySet<Permission> = new Set<Permission>(['l1', 'l2', 'trades', 'candles']);

/**
 * Every caller as an anonymous `public` caller, counted by its address (IPv6 by /64, as the
 * connection caps count): the resolver in use until access control (auth/) resolves keys and
 * tokens; it is what auth's resolver falls back to for a request that presents neither.
 */
export function peerCaller(tier: TierLimits): CallerResolver {
  return (_req, ip) => anonymousCaller(ip, tier);
}

export function anonymousCaller(ip: string, tier: TierLimits): Caller {
  return {
    kind: 'anonymous',
    clientId: null,
    keyId: null,
    ip,
    tier: 'public',
    permissions: PUBLIC_PERMISSIONS,
    limits: tier,
    subject: `ip:${clientKey(ip)}`,
  };
}
