import t from 'tap';
import { globRegExp } from '../../src/cache/cache-pattern';
import { historicalKey } from '../../src/cache/history-cache';
import { MemoryHistoryCache } from '../../src/cache/memory-history-cache';

/**
 * The cache without Redis (`npm start`'s default): the same key space, glob patterns meaning what
 * Redis's MATCH means, a byte bound that evicts the least recently used, and the stats it reports.
 */
t.test('glob patterns as Redis MATCH reads them', async (t) => {
  const k = historicalKey('BTC/USD', '1m', 1, 2, 'close', 'json', 500, 0);
  t.equal(k, 'historical:BTC/USD:1m:1:2:close:json:500:0');
  t.ok(globRegExp('historical:*').test(k));
  t.ok(globRegExp('historical:BTC/USD:*').test(k));
  t.notOk(globRegExp('historical:ETH/USD:*').test(k));
  t.ok(globRegExp('historical:BTC?USD:1?:*').test(k));
  t.ok(globRegExp('historical:[AB]TC/USD:*').test(k));
  t.notOk(globRegExp('historical:[^B]TC/USD:*').test(k));
  t.ok(globRegExp('historical:[A-C]TC/USD:*').test(k));
  t.ok(globRegExp('a\\*b').test('a*b'), 'a backslash escapes');
  t.notOk(globRegExp('a\\*b').test('axb'));
  t.ok(globRegExp('a.b(c)').test('a.b(c)'), 'RegExp characters are literal');
  t.notOk(globRegExp('a.b').test('axb'));
  t.notOk(globRegExp('historical').test(k), 'a pattern matches whole keys');
});

t.test('memory cache: hits, misses, evictions past the byte bound, invalidation', async (t) => {
  const body = 'x'.repeat(1000);
  // Room for about four entries of ~2 kB each.
  const cache = new MemoryHistoryCache(9000);
  const key = (n: number) => historicalKey('BTC/USD', '1m', n, n + 60_000_000, 'close', 'json', 500, 0);
  t.equal(await cache.get(key(0)), undefined);
  for (let n = 0; n < 6; n++) cache.set(key(n), body);
  t.equal(await cache.get(key(5)), body);
  t.equal(await cache.get(key(0)), undefined, 'the oldest went first');
  const s = await cache.stats();
  t.equal(s.backend, 'memory');
  t.equal(s.hits, 1);
  t.equal(s.misses, 2);
  t.equal(s.evictions, 6 - s.keys, 'what the bound pushed out');
  t.ok(s.keys >= 1 && s.keys <= 4, `${s.keys} keys`);
  t.ok(s.memoryBytes > 0 && s.memoryBytes <= 9000);
  cache.set(historicalKey('ETH/USD', '1m', 0, 1, 'close', 'json', 500, 0), 'eth');
  const removed = await cache.invalidate('historical:BTC/USD:*');
  t.equal(removed, s.keys, 'every BTC/USD key');
  t.equal((await cache.stats()).keys, 1, 'ETH/USD stays');
  t.equal(s.evictions, (await cache.stats()).evictions, 'an invalidation is not an eviction');
  await cache.close();
});
