import type { Caller, LimitDecision, LimitHook, RouteInfo } from '../auth/caller';
import { rateHeaders } from './rate-limit-headers';
import type { RateLimiter } from './rate-limiter';
import type { RateRollup } from './rate-rollup';
import { planOf, RateDecision, WINDOW_NAMES } from './rate-windows';

/**
 * Routes no request budget applies to: liveness probes poll health, and WebSocket upgrades are
 * held by the connection caps (connection-limits.ts) instead; their control messages have a
 * per-connection budget of their own (the tier's controlPerSecond).
 */
const UNCOUNTED = new Set(['/api/v1/health']);

const ALLOWED: LimitDecision = { allowed: true };

/**
 * The limit hook admission calls for every REST request (auth/admission.ts): one check of the
 * caller's request budget (its tier's RatePolicy, bucket `rest`, counted per caller.subject),
 * synchronous in process, one Redis round trip with --redis-url. A refusal is 429 RATE_LIMITED
 * with Retry-After and the RateLimit headers; an allowed request carries the RateLimit headers too.
 * Each decision is counted in `rollup` (rate_limit_buckets; null without usage accounting).
 */
export function rateLimitHook(limiter: RateLimiter, rollup: RateRollup | null): LimitHook {
  return (caller: Caller, route: RouteInfo) => {
    if (route.method === 'WS' || UNCOUNTED.has(route.pattern) || !planOf(caller.limits.rate).limited) return ALLOWED;
    const decision = limiter.check(caller.subject, 'rest', caller.limits.rate);
    return decision instanceof Promise ? decision.then((d) => limitDecision(caller, d, rollup)) : limitDecision(caller, decision, rollup);
  };
}

function limitDecision(caller: Caller, d: RateDecision, rollup: RateRollup | null): LimitDecision {
  rollup?.count(caller.subject, caller.clientId, 'rest', caller.limits.rate, d.allowed);
  const h = rateHeaders(caller.limits.rate, d);
  if (h.retryAfter === null) return { allowed: true, headers: [['ratelimit-policy', h.policy], ['ratelimit', h.state]] };
  const count = d.local ? "this server's count" : 'the shared count';
  return {
    allowed: false,
    code: 'RATE_LIMITED',
    message: `request budget of the ${WINDOW_NAMES[d.window]} window spent (${count}); retry after ${h.retryAfter} s`,
    headers: [['retry-after', h.retryAfter], ['ratelimit-policy', h.policy], ['ratelimit', h.state]],
  };
}
