import type { RatePolicy } from '../auth/caller';
import { planOf, RateDecision, WINDOW_NAMES } from './rate-windows';

/**
 * The answer's rate-limit headers, as the IETF draft "RateLimit header fields for HTTP"
 * (draft-ietf-httpapi-ratelimit-headers, revision 10) defines them:
 *   RateLimit-Policy: "second";q=150;w=1, "minute";q=3000;w=60, ...   (every window: quota, seconds)
 *   RateLimit: "minute";r=2987;t=60                                    (the binding window: left, seconds to full)
 * and Retry-After (RFC 9110, whole seconds, at least 1) on a refusal.
 */
export interface RateHeaders {
  policy: string;
  state: string;
  /** Seconds, or null when the request was allowed. */
  retryAfter: string | null;
}

export function rateHeaders(policy: RatePolicy, d: RateDecision): RateHeaders {
  const seconds = Math.max(d.allowed ? 0 : 1, Math.ceil(d.waitUs / 1e6));
  return {
    policy: planOf(policy).policyHeader,
    state: `"${WINDOW_NAMES[d.window]}";r=${d.remaining};t=${seconds}`,
    retryAfter: d.allowed ? null : String(seconds),
  };
}
