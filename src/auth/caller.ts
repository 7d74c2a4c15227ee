/**
 * Who is asking, as every front end sees it once the request or connection is admitted. Access
 * control (auth/) resolves a Caller from a key, a token or the peer address; rate limits (limits/),
 * accounting and the feeds read it and nothing else, so they never learn how it was proven.
 */

/** What a caller may reach. Anonymous callers hold the public set. */
export const PERMISSIONS = ['l1', 'l2', 'l3', 'trades', 'candles', 'history', 'bulk', 'book_at', 'admin'] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** Request budgets (the specification's RateLimit): sustained rates per window and a burst. */
export interface RatePolicy {
  readonly perSecond: number;
  readonly perMinute: number;
  readonly perHour: number;
  readonly perDay: number;
  /** Requests allowed at once above the per-second rate. */
  readonly burst: number;
}

/** What a tier allows beyond the request budget. */
export interface TierLimits {
  readonly rate: RatePolicy;
  /** WebSocket control messages (subscribe, unsubscribe, ping) per second per connection. */
  readonly controlPerSecond: number;
  /** Streams one connection may hold. */
  readonly maxSubscriptions: number;
  /** Heavy requests (`?at=`, history CSV, bulk) in progress at once. */
  readonly heavyConcurrent: number;
}

export interface Caller {
  readonly kind: 'anonymous' | 'key' | 'token';
  /** The api_clients row, or null for an anonymous caller. */
  readonly clientId: string | null;
  /** The api_keys row the caller proved (directly or through the token it was issued for). */
  readonly keyId: string | null;
  /** Peer address as the socket saw it (text form). */
  readonly ip: string;
  /** Tier name: `public` for anonymous callers. */
  readonly tier: string;
  readonly permissions: ReadonlySet<Permission>;
  readonly limits: TierLimits;
  /** The subject that rate limits and heavy-work caps count against: the client, or `ip:<address>`. */
  readonly subject: string;
  /** When the credential runs out (ms since the epoch: a token's exp, a key's expires_at); absent: never. */
  readonly expiresAt?: number;
}

/** What an admitted request or upgrade is, as the limit hook sees it. */
export interface RouteInfo {
  /** `GET`, `POST`, or `WS` for a WebSocket upgrade. */
  readonly method: string;
  /** The registered pattern (`/api/v1/market/:symbol/orderbook`), not the concrete URL. */
  readonly pattern: string;
  /** The permission the route needs (null: none, such as /api/v1/health). */
  readonly permission: Permission | null;
}

/**
 * The answer of a limit hook. `allowed: false` refuses the request with `code` (an ErrorCode of
 * the catalog, e.g. RATE_LIMITED) before the route runs; `headers` go on the refusal.
 */
export interface LimitDecision {
  readonly allowed: boolean;
  readonly code?: string;
  readonly message?: string;
  readonly headers?: ReadonlyArray<readonly [string, string]>;
}

/**
 * Called once per admitted REST request and WebSocket upgrade, after the caller is resolved and
 * its permission checked (limits/ implements it). A synchronous answer keeps the request on the
 * synchronous path; a promise defers it like a cache miss does.
 */
export type LimitHook = (caller: Caller, route: RouteInfo) => LimitDecision | Promise<LimitDecision>;
