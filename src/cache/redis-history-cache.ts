import type Redis from 'ioredis';
import { failFastRedis } from '../util/fail-fast-redis';
import { log } from '../util/log';
import { BookcastError } from '../errors';
import { escapeGlob } from './cache-pattern';
import { CacheStats, HISTORICAL, HISTORY_TTL_S, HistoryCache } from './history-cache';

/**
 * Any one Redis command past this is given up (commandTimeout): a lookup then falls back to the
 * store, so a hung Redis costs a history request at most this much, and never blocks anything.
 */
export const CACHE_COMMAND_TIMEOUT_MS = 250;
/** Keys a SCAN step asks for (Redis's hint, not a bound). */
const SCAN_COUNT = 1000;
/** Hits and misses of every process, in one hash beside (not under) the historical keys. */
const COUNTS_KEY = 'cache_stats:historical';

/** GET, counting a hit or a miss in the shared hash: one round trip. */
const GET_COUNTED = `
local body = redis.call('GET', KEYS[1])
if body then redis.call('HINCRBY', KEYS[2], 'hits', 1) else redis.call('HINCRBY', KEYS[2], 'misses', 1) end
return body`;

type WithGetCounted = Redis & { bookcastGetCounted(key: string, counts: string): Promise<string | null> };

/**
 * The cache with --redis-url: answers in Redis, shared by every process on it, under
 * `{prefix}historical:…` (--cache-prefix; empty by default) for HISTORY_TTL_S.
 *
 * Redis stopped, restarting or slow is never a client's error and never blocks the process: the
 * offline queue is off and every command has CACHE_COMMAND_TIMEOUT_MS, so while Redis is away a
 * lookup is a miss answered by the store (counted as `bypassed`), answers are not kept, and
 * ioredis reconnects by itself (retryStrategy: every 100 ms to 1 s); the cache is used again as
 * soon as the connection is ready. Only an invalidation fails (CACHE_UNAVAILABLE), since saying
 * "removed" when nothing was would be a lie.
 */
export class RedisHistoryCache implements HistoryCache {
  readonly backend = 'redis';
  private readonly redis: WithGetCounted;
  private bypassed = 0;
  private lastError: string | null = null;

  constructor(
    url: string,
    private readonly prefix: string,
  ) {
    this.redis = failFastRedis(url, CACHE_COMMAND_TIMEOUT_MS) as WithGetCounted;
    this.redis.defineCommand('bookcastGetCounted', { numberOfKeys: 2, lua: GET_COUNTED });
    this.redis.on('error', (err: Error) => this.note(err));
    this.redis.on('ready', () => {
      if (this.lastError !== null) log.info('history cache: Redis is back');
      this.lastError = null;
    });
  }

  /** Whether commands can be sent now. */
  get ready(): boolean {
    return this.redis.status === 'ready';
  }

  async get(key: string): Promise<string | undefined> {
    if (!this.ready) {
      this.bypassed++;
      return undefined;
    }
    try {
      return (await this.redis.bookcastGetCounted(this.prefix + key, this.prefix + COUNTS_KEY)) ?? undefined;
    } catch (err) {
      this.note(err as Error);
      this.bypassed++;
      return undefined;
    }
  }

  set(key: string, body: string): void {
    if (!this.ready) return;
    this.redis.set(this.prefix + key, body, 'EX', HISTORY_TTL_S).catch((err: Error) => this.note(err));
  }

  async stats(): Promise<CacheStats> {
    const out: CacheStats = { backend: this.backend, state: 'unavailable', hits: 0, misses: 0, evictions: 0, evictionLookups: 0, memoryBytes: 0, keys: 0, bypassed: this.bypassed };
    if (!this.ready) return out;
    try {
      const [counts, info] = await Promise.all([this.redis.hgetall(this.prefix + COUNTS_KEY), this.redis.info('stats')]);
      out.hits = Number(counts.hits ?? 0);
      out.misses = Number(counts.misses ?? 0);
      // Redis counts evictions per server (every key, every user), against all its lookups.
      out.evictions = infoNumber(info, 'evicted_keys');
      out.evictionLookups = infoNumber(info, 'keyspace_hits') + infoNumber(info, 'keyspace_misses');
      await this.scan('*', async (keys) => {
        const sizes = this.redis.pipeline();
        for (const k of keys) sizes.call('MEMORY', 'USAGE', k);
        for (const [err, bytes] of (await sizes.exec()) ?? []) {
          // A key that expired between SCAN and MEMORY USAGE has no size (null): not counted.
          if (err === null && typeof bytes === 'number') {
            out.keys++;
            out.memoryBytes += bytes;
          }
        }
      });
      out.state = 'ready';
      return out;
    } catch (err) {
      this.note(err as Error);
      return { ...out, hits: 0, misses: 0, evictions: 0, evictionLookups: 0, memoryBytes: 0, keys: 0 };
    }
  }

  async invalidate(pattern: string): Promise<number> {
    if (!this.ready) throw new BookcastError('CACHE_UNAVAILABLE');
    let removed = 0;
    try {
      await this.scan(pattern, async (keys) => {
        removed += await this.redis.unlink(...keys);
      });
    } catch (err) {
      this.note(err as Error);
      throw new BookcastError('CACHE_UNAVAILABLE', `the shared cache failed after removing ${removed} keys; send the request again`);
    }
    return removed;
  }

  /**
   * Walks the historical keys matching `pattern` with SCAN (never KEYS, which stops Redis for
   * the whole keyspace), a batch at a time; `each` gets the full key names of a non-empty batch.
   */
  private async scan(pattern: string, each: (keys: string[]) => Promise<void>): Promise<void> {
    const match = escapeGlob(this.prefix) + pattern;
    const mine = this.prefix + HISTORICAL;
    let cursor = '0';
    do {
      const [next, found] = await this.redis.scan(cursor, 'MATCH', match, 'COUNT', SCAN_COUNT);
      cursor = next;
      const keys = found.filter((k) => k.startsWith(mine));
      if (keys.length > 0) await each(keys);
    } while (cursor !== '0');
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }

  private note(err: Error): void {
    const text = `${err.name}: ${err.message}`;
    if (text !== this.lastError) log.warn(`history cache: Redis unavailable, answering from the store: ${text}`);
    this.lastError = text;
  }
}

function infoNumber(info: string, field: string): number {
  const m = new RegExp(`^${field}:(\\d+)`, 'm').exec(info);
  return m === null ? 0 : Number(m[1]);
}
