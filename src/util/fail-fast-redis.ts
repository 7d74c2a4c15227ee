import Redis from 'ioredis';

/**
 * A Redis client for a request's path: a command waits at most `commandTimeoutMs`, nothing is
 * queued while disconnected (the caller falls back at once instead of holding a client's request),
 * and it reconnects by itself, 100 ms more each attempt up to 1 s.
 */
export function failFastRedis(url: string, commandTimeoutMs: number): Redis {
  return new Redis(url, {
    commandTimeout: commandTimeoutMs,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: (times) => Math.min(times * 100, 1000),
    lazyConnect: false,
  });
}
