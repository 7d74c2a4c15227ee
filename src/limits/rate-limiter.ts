import type { RatePolicy } from '../auth/caller';
import type { RateDecision } from './rate-windows';

/**
 * Counts requests per subject (a client, or `ip:<address>` for anonymous callers) in a bucket
 * (`rest` for REST requests). The in-process limiter answers synchronously; the Redis one needs a
 * round trip. Neither ever rejects: trouble with a shared store is the limiter's to absorb.
 */
export interface RateLimiter {
  check(subject: string, bucket: string, policy: RatePolicy): RateDecision | Promise<RateDecision>;
  /** Counters for health. */
  health(): object;
  close(): Promise<void>;
}
