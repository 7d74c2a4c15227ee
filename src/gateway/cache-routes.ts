import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { BookcastError } from '../errors';
import { checkPattern } from '../cache/cache-pattern';
import { HISTORY_TTL_S, HistoryCache, rate } from '../cache/history-cache';
import { log } from '../util/log';
import { readQuery, route, sendError, sendJson } from './http';

/**
 * The history cache's two endpoints: GET /api/v1/cache/stats (hit, miss and eviction rates, the
 * memory and keys it holds) and DELETE /api/v1/cache/{pattern} (admin: removes the keys matching
 * a Redis glob pattern, among the historical ones only).
 */
export class CacheRoutes {
  constructor(private readonly cache: HistoryCache) {}

  register(app: TemplatedApp): void {
    route(app, 'get', '/api/v1/cache/stats', (res, req) => this.stats(res, req));
    route(app, 'delete', '/api/v1/cache/:pattern', (res, req) => this.invalidate(res, req));
  }

  private stats(res: HttpResponse, req: HttpRequest): void {
    readQuery(req, []);
    answerLater(res, async () => {
      const s = await this.cache.stats();
      const lookups = s.hits + s.misses;
      return {
        backend: s.backend,
        state: s.state,
        hit_rate: rate(s.hits, lookups),
        miss_rate: rate(s.misses, lookups),
        eviction_rate: rate(s.evictions, s.evictionLookups),
        memory_usage_bytes: s.memoryBytes,
        key_count: s.keys,
        hits: s.hits,
        misses: s.misses,
        evictions: s.evictions,
        bypassed: s.bypassed,
        ttl_seconds: HISTORY_TTL_S,
      };
    });
  }

  private invalidate(res: HttpResponse, req: HttpRequest): void {
    readQuery(req, []);
    const raw = req.getParameter(0) ?? '';
    let pattern: string;
    try {
      pattern = decodeURIComponent(raw);
    } catch {
      throw new BookcastError('INVALID_PARAMETER', 'the cache pattern is not valid percent-encoding');
    }
    checkPattern(pattern);
    answerLater(res, async () => {
      const removed = await this.cache.invalidate(pattern);
      log.info({ pattern, removed }, 'history cache invalidated');
      return { pattern, removed };
    });
  }
}

/** Answers `res` with what `work` resolves to, corked; a coded error as its answer; nothing if the client left. */
function answerLater(res: HttpResponse, work: () => Promise<object>): void {
  let aborted = false;
  res.onAborted(() => {
    aborted = true;
  });
  work().then(
    (body) => {
      if (!aborted) res.cork(() => sendJson(res, 200, JSON.stringify(body)));
    },
    (err: unknown) => {
      if (aborted) return;
      res.cork(() => {
        if (err instanceof BookcastError) sendError(res, err.code, err.message);
        else {
          log.error({ err }, 'a cache request failed');
          sendError(res, 'INTERNAL');
        }
      });
    },
  );
}
