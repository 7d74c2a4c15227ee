import { BookcastError } from '../errors';
import { Caller, Permission, PERMISSIONS, TierLimits } from './caller';

/**
 * The tiers a caller can be in: what each may reach and how much of it. Anonymous callers are
 * `public`; a client's tier is set when it is created (`bookcast clients create --tier`), and its
 * keys hold a subset of the tier's permissions. The limits (limits/) read `Caller.limits`.
 */
export interface Tier {
  readonly name: string;
  readonly permissions: readonly Permission[];
  readonly limits: TierLimits;
}

const DATA: readonly Permission[] = ['l1', 'l2', 'trades', 'candles'];

function limits(perSecond: number, burst: number, controlPerSecond: number, maxSubscriptions: number, heavyConcurrent: number): TierLimits {
  return {
    rate: { perSecond, perMinute: perSecond * 40, perHour: perSecond * 1200, perDay: perSecond * 14_400, burst },
    controlPerSecond,
    maxSubscriptions,
    heavyConcurrent,
  };
}

/** The tier table (README "Access control" mirrors it). */
export const TIERS: readonly Tier[] = [
  { name: 'public', permissions: DATA, limits: limits(10, 20, 5, 50, 0) },
  { name: 'standard', permissions: [...DATA, 'history', 'bulk'], limits: limits(50, 100, 20, 200, 1) },
  { name: 'professional', permissions: [...DATA, 'l3', 'history', 'bulk', 'book_at'], limits: limits(200, 400, 50, 1000, 2) },
  { name: 'partner', permissions: [...DATA, 'l3', 'history', 'bulk', 'book_at'], limits: limits(1000, 2000, 100, 5000, 4) },
  { name: 'internal', permissions: [...DATA, 'l3', 'history', 'bulk', 'book_at'], limits: limits(10_000, 20_000, 1000, 100_000, 8) },
  { name: 'admin', permissions: [...PERMISSIONS], limits: limits(10_000, 20_000, 1000, 100_000, 8) },
];

export const TIER_NAMES = TIERS.map((t) => t.name);

export function tierNamed(name: string): Tier {
  const tier = TIERS.find((t) => t.name === name);
  if (tier === undefined) throw new BookcastError('INVALID_PARAMETER', `tier must be one of ${TIER_NAMES.join(', ')}`);
  return tier;
}

/** Permissions from a comma-separated list, each a known one, or INVALID_PARAMETER. */
export function parsePermissions(text: string): Permission[] {
  const list = text.split(',').map((p) => p.trim()).filter((p) => p !== '');
  for (const p of list) {
    if (!(PERMISSIONS as readonly string[]).includes(p)) throw new BookcastError('INVALID_PARAMETER', `unknown permission "${p}"; permissions are ${PERMISSIONS.join(', ')}`);
  }
  return [...new Set(list)] as Permission[];
}

const PUBLIC = tierNamed('public');
const ADMIN = tierNamed('admin');
const PUBLIC_SET: ReadonlySet<Permission> = new Set(PUBLIC.permissions);
const EVERYTHING: ReadonlySet<Permission> = new Set(PERMISSIONS);

/** An anonymous caller from `ip`: the public tier, counted per address. */
export function anonymousCaller(ip: string, limits: TierLimits = PUBLIC.limits): Caller {
  return { kind: 'anonymous', clientId: null, keyId: null, ip, tier: PUBLIC.name, permissions: PUBLIC_SET, limits, subject: `ip:${ip}` };
}

/** Everyone under `--auth off`: every permission, counted per address as before access control. */
export function unrestrictedCaller(ip: string, limits: TierLimits = ADMIN.limits): Caller {
  return { kind: 'anonymous', clientId: null, keyId: null, ip, tier: ADMIN.name, permissions: EVERYTHING, limits, subject: `ip:${ip}` };
}
