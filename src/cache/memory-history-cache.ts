import { LRUCache } from 'lru-cache';
import { globRegExp } from './cache-pattern';
import { CacheStats, HISTORICAL, HISTORY_TTL_S, HistoryCache } from './history-cache';

/** Bytes of answers kept in the process, at most: past it the least recently used go first. */
export const MEMORY_CACHE_BYTES = 64 * 1024 * 1024;

/**
 * The cache without --redis-url: an LRU in this process, bounded in bytes (a JavaScript string
 * costs about two bytes a character) and in age (HISTORY_TTL_S). Evictions are what the bound
 * pushed out, not what aged out.
 */
export class MemoryHistoryCache implements HistoryCache {
  readonly backend = 'memory';
  private readonly entries: LRUCache<string, string>;
  private hits = 0;
  private misses = 0;
  private evictions = 0;

  constructor(maxBytes = MEMORY_CACHE_BYTES) {
    this.entries = new LRUCache<string, string>({
      maxSize: maxBytes,
      sizeCalculation: (body, key) => 2 * (body.length + key.length),
      ttl: HISTORY_TTL_S * 1000,
      dispose: (_body, _key, reason) => {
        if (reason === 'evict') this.evictions++;
      },
    });
  }

  get(key: string): Promise<string | undefined> {
    const body = this.entries.get(key);
    if (body === undefined) this.misses++;
    else this.hits++;
    return Promise.resolve(body);
  }

  set(key: string, body: string): void {
    this.entries.set(key, body);
  }

  stats(): Promise<CacheStats> {
    this.entries.purgeStale();
    const lookups = this.hits + this.misses;
    return Promise.resolve({
      backend: this.backend,
      state: 'ready',
      hits: this.hits,
      misses: this.misses,
      evictions: this.evictions,
      evictionLookups: lookups,
      memoryBytes: this.entries.calculatedSize,
      keys: this.entries.size,
      bypassed: 0,
    });
  }

  invalidate(pattern: string): Promise<number> {
    const match = globRegExp(pattern);
    let removed = 0;
    for (const key of [...this.entries.keys()]) {
      if (key.startsWith(HISTORICAL) && match.test(key) && this.entries.delete(key)) removed++;
    }
    return Promise.resolve(removed);
  }

  close(): Promise<void> {
    this.entries.clear();
    return Promise.resolve();
  }
}
