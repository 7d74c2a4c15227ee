import type { Permission } from './caller';

/**
 * What each REST route and WebSocket endpoint needs, in one table (README "Access control"
 * mirrors it). `null`: any admitted caller (anonymous ones too, unless --auth required). A route
 * not listed here needs no permission either; what a handler needs beyond its route
 * (`orderbook?at=` needs book_at, `trades?start=` history) it checks itself (`requirePermission`).
 */
export const ROUTE_PERMISSIONS: Readonly<Record<string, Permission | null>> = {
  '/api/v1/market/symbols': null,
  '/api/v1/market/:symbol/ticker': 'l1',
  '/api/v1/market/:symbol/orderbook': 'l2',
  '/api/v1/market/:symbol/trades': 'trades',
  '/api/v1/market/:symbol/candles': 'candles',
  // Input events name every order: order-level (L3) data.
  '/api/v1/market/:symbol/events': 'l3',
  '/api/v1/market-data/symbols': null,
  '/api/v1/market-data/:symbol/latest': 'l1',
  '/api/v1/market-data/bulk': 'bulk',
  '/api/v1/market-data/:symbol/history': 'history',
  '/api/v1/auth/keys': null,
  '/api/v1/admin/clients': 'admin',
  '/api/v1/admin/clients/:client_id': 'admin',
  '/api/v1/admin/clients/:client_id/suspend': 'admin',
  '/api/v1/admin/clients/:client_id/activate': 'admin',
  '/api/v1/admin/keys': 'admin',
  '/api/v1/admin/keys/:key_id/revoke': 'admin',
  '/api/v1/admin/keys/:key_id/rotate': 'admin',
  '/api/v1/admin/audit/verify': 'admin',
  // The history cache: its figures for anyone admitted, invalidation for admins.
  '/api/v1/cache/stats': null,
  '/api/v1/cache/:pattern': 'admin',
  // Streams are checked per channel when subscribed (stream-permissions in ws-gateway).
  '/ws': null,
  '/api/v1/market-data/stream': null,
};

/**
 * Reachable by anyone in every mode: liveness probes, getting a token (its credentials are in the
 * body), and the public keys that verify tokens. Credentials sent to them are not checked: a
 * probe with an expired key must not fail its health check.
 */
export const OPEN_ROUTES: ReadonlySet<string> = new Set(['/api/v1/health', '/api/v1/auth/token', '/.well-known/jwks.json']);

export function routePermission(pattern: string): Permission | null {
  return ROUTE_PERMISSIONS[pattern] ?? null;
}
