import type { Config } from '../config';
import { CandleSeal } from '../cache/candle-seal';
import type { HistoryCache } from '../cache/history-cache';
import { HistoryReads } from '../cache/history-reads';
import { MemoryHistoryCache } from '../cache/memory-history-cache';
import { RedisHistoryCache } from '../cache/redis-history-cache';
import type { Persistence } from '../store/persistence';

/** The history cache: in Redis, shared, with --redis-url; in this process otherwise. */
export function openHistoryCache(config: Config, persistence: Persistence): { cache: HistoryCache; reads: HistoryReads } {
  const cache = config.redisUrl === undefined ? new MemoryHistoryCache() : new RedisHistoryCache(config.redisUrl, config.cachePrefix);
  return { cache, reads: new HistoryReads(cache, new CandleSeal(persistence)) };
}
