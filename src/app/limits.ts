import type { TierLimits } from '../auth/caller';
import type { Config } from '../config';
import { MemoryRateLimiter } from '../limits/memory-rate-limiter';
import type { RateLimiter } from '../limits/rate-limiter';
import { RedisRateLimiter } from '../limits/redis-rate-limiter';

/** What anonymous callers get: --public-rate, and the per-connection and heavy-request options. */
export function publicTier(config: Config): TierLimits {
  return {
    rate: config.publicRate,
    controlPerSecond: config.maxMessagesPerSecond,
    maxSubscriptions: config.maxSubscriptionsPerConnection,
    heavyConcurrent: config.heavyPerClient,
  };
}

/** Counters in Redis with --redis-url (this process's own while it fails), else in this process. */
export function rateLimiter(config: Config): RateLimiter {
  const local = new MemoryRateLimiter();
  return config.redisUrl === undefined ? local : new RedisRateLimiter({ url: config.redisUrl, timeoutMs: config.redisTimeoutMs }, local);
}
