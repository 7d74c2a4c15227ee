/**
 * The cache of historical answers (history pages, candles): one interface, kept in this process
 * (memory-history-cache.ts) or in Redis shared by every process (redis-history-cache.ts).
 *
 * Only answers that can no longer change are put in it (candle-seal.ts decides which), so an
 * entry is right for as long as the store keeps its rows; it lives HISTORY_TTL_S at most, and an
 * operator removes entries early with DELETE /api/v1/cache/{pattern} (after deleting or
 * re-importing rows by hand, say).
 */

/** How long an answer is kept: one hour. */
export const HISTORY_TTL_S = 3600;

/** Every key this cache holds starts with this; an invalidation pattern never reaches other keys. */
export const HISTORICAL = 'historical:';

/** Counters and sizes, as GET /api/v1/cache/stats reports them. */
export interface CacheStats {
  backend: 'memory' | 'redis';
  /** `unavailable`: Redis cannot be reached; every lookup is answered by the store meanwhile. */
  state: 'ready' | 'unavailable';
  hits: number;
  misses: number;
  evictions: number;
  /** Lookups the evictions are counted against (Redis counts evictions per server, not per key). */
  evictionLookups: number;
  memoryBytes: number;
  keys: number;
  /** Lookups this process answered from the store because Redis was unavailable (not in hits or misses). */
  bypassed: number;
}

export interface HistoryCache {
  readonly backend: 'memory' | 'redis';
  /** The kept answer, or undefined: not kept, or the cache cannot answer now (never an error). */
  get(key: string): Promise<string | undefined>;
  /** Keeps an answer for HISTORY_TTL_S; best effort, never an error. */
  set(key: string, body: string): void;
  stats(): Promise<CacheStats>;
  /** Removes the keys matching a Redis glob pattern (among HISTORICAL keys only); how many. */
  invalidate(pattern: string): Promise<number>;
  close(): Promise<void>;
}

/**
 * A cache key: `historical:{symbol}:{interval}:{start}:{end}:{fields}:{format}:{limit}:{offset}`,
 * times in µs since the epoch, `start` inclusive and `end` exclusive. Everything the answer
 * depends on is in it; `fields` and `format` also tell the two routes' answers apart (the Data
 * Feed's candles are `candles:feed`).
 */
export function historicalKey(symbol: string, interval: string, start: number, end: number, fields: string, format: string, limit: number, offset: number): string {
  return `${HISTORICAL}${symbol}:${interval}:${start}:${end}:${fields}:${format}:${limit}:${offset}`;
}

/** The share of `part` in `whole`; 0 when nothing was counted yet. */
export function rate(part: number, whole: number): number {
  return whole === 0 ? 0 : part / whole;
}
