import t from 'tap';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import Redis from 'ioredis';
import { historicalKey } from '../../src/cache/history-cache';
import { HISTORY_FIELDS } from '../../src/store/history-render';
import { startTestServer, waitFor } from '../helpers/test-server';
import { instruments, MINUTE_US, MinuteTrades, pastMinute, PUBLISHER_TOKEN } from './past-trades';
import { cliJson } from '../helpers/auth-cli';
import { REDIS_URL, redisReachable } from '../helpers/redis';

/**
 * The history cache in the shared Redis, against one real server (--auth optional, so invalidation
 * can be refused): only final answers are kept (a range whose last candle is still open is not,
 * and once it closes the answer has it), under the documented key for an hour; a kept answer is
 * served again and counted as a hit; the statistics; invalidation by pattern (admin only, and
 * never reaching keys outside historical:*). Every key lives under a random prefix, removed at the end.
 */

t.test('shared history cache: only final answers, one hour, hits, stats, invalidation by pattern for admins', async (t) => {
  if (!(await redisReachable())) {
    if (process.env.CI === 'true') throw new Error(`Redis is required with CI=true and ${REDIS_URL} does not answer`);
    t.plan(0, `no Redis at ${REDIS_URL}`);
    return;
  }
  const prefix = `bookcast-test-${randomBytes(6).toString('hex')}:`;
  const redis = new Redis(REDIS_URL);
  t.teardown(async () => {
    const keys = await redis.keys(`${prefix}*`).catch(() => [] as string[]);
    if (keys.length > 0) await redis.unlink(...keys);
    redis.disconnect();
  });
  const dir = mkdtempSync(path.join(tmpdir(), 'bookcast-cache-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const admin = await cliJson('clients', ['create', '--name', 'ops', '--type', 'internal', '--tier', 'admin', '--data-dir', dir]);
  const adminKey = (await cliJson('keys', ['create', '--client', admin.client_id, '--name', 'ops-key', '--data-dir', dir])).api_key as string;
  const standardClient = await cliJson('clients', ['create', '--name', 'reader', '--type', 'external', '--tier', 'standard', '--data-dir', dir]);
  const standardKey = (await cliJson('keys', ['create', '--client', standardClient.client_id, '--name', 'reader-key', '--data-dir', dir])).api_key as string;
  const started = Date.now();
  const server = await startTestServer(['--data-dir', dir, '--auth', 'optional', '--source', 'ingest', '--publisher-token', PUBLISHER_TOKEN, '--redis-url', REDIS_URL, '--cache-prefix', prefix]);
  t.teardown(() => server.server.stop());
  t.comment(`server started in ${Date.now() - started} ms`);
  const call = async (p: string, options: { key?: string; method?: string } = {}) => {
    const res = await fetch(server.http + p, { method: options.method ?? 'GET', headers: options.key === undefined ? {} : { 'x-api-key': options.key } });
    const text = await res.text();
    return { status: res.status, text, body: JSON.parse(text) };
  };
  const ins = instruments[0];
  const t0 = pastMinute();
  const ms = (us: number) => us / 1000;
  const history = (from: number, to: number) => call(`/api/v1/market-data/${ins.slug}/history?interval=1m&start_time=${ms(from)}&end_time=${ms(to)}`, { key: adminKey });
  const historyKey = (from: number, to: number) => prefix + historicalKey(ins.symbol, '1m', from, to, HISTORY_FIELDS.join(','), 'json', 500, 0);
  const stats = async () => (await call('/api/v1/cache/stats')).body;

  const trades = await MinuteTrades.open(server.url, 'cache');
  t.teardown(() => trades.close());
  // Minutes 0..9: candles 0..8 close (each when the next trade passes it), candle 9 stays open.
  for (let m = 0; m <= 9; m++) await trades.trade(t0, m);
  t.comment(`trades acknowledged at ${Date.now() - started} ms`);
  const everything = () => history(t0, t0 + 20 * MINUTE_US);
  await waitFor('candles 0..8 stored', async () => (await everything()).body.data.length === 9);
  t.comment(`candles stored at ${Date.now() - started} ms`);
  t.notOk(await redis.exists(historyKey(t0, t0 + 20 * MINUTE_US)), 'a range reaching past the stored candles is not kept');

  await t.test('a final range is kept under its key for an hour and answered again from it', async (t) => {
    const first = await history(t0, t0 + 5 * MINUTE_US);
    t.equal(first.status, 200);
    t.equal(first.body.data.length, 5, 'minutes 0..4');
    const key = historyKey(t0, t0 + 5 * MINUTE_US);
    t.equal(await redis.get(key), first.text, `kept under ${key.slice(prefix.length)}`);
    const ttl = await redis.ttl(key);
    t.ok(ttl > 0 && ttl <= 3600, `expires within the hour (${ttl} s)`);
    const before = await stats();
    const again = await history(t0, t0 + 5 * MINUTE_US);
    t.equal(again.text, first.text, 'the same answer');
    const after = await stats();
    t.equal(after.hits, before.hits + 1, 'counted as a hit');
    t.equal(after.misses, before.misses, 'and not as a miss');
    const csv = await fetch(`${server.http}/api/v1/market-data/${ins.slug}/history?interval=1m&start_time=${ms(t0)}&end_time=${ms(t0 + 5 * MINUTE_US)}&format=csv&fields=close`, { headers: { 'x-api-key': adminKey } });
    t.equal(csv.headers.get('content-type'), 'text/csv');
    const csvText = await csv.text();
    t.equal(csvText.trim().split('\n').length, 6, 'a header and five rows');
    t.equal(await redis.get(prefix + historicalKey(ins.symbol, '1m', t0, t0 + 5 * MINUTE_US, 'close', 'csv', 500, 0)), csvText, 'fields and format are part of the key');
    const csvAgain = await fetch(`${server.http}/api/v1/market-data/${ins.slug}/history?interval=1m&start_time=${ms(t0)}&end_time=${ms(t0 + 5 * MINUTE_US)}&format=csv&fields=close`, { headers: { 'x-api-key': adminKey } });
    t.equal(csvAgain.headers.get('content-type'), 'text/csv', 'a kept CSV answer is still CSV');
    t.equal(await csvAgain.text(), csvText);
  });

  await t.test('a range whose last candle is open is not kept; once it closes the answer has it, and is kept', async (t) => {
    const from = t0 + 5 * MINUTE_US;
    const to = t0 + 10 * MINUTE_US;
    const open = await history(from, to);
    t.equal(open.body.data.length, 4, 'minutes 5..8: candle 9 is still open');
    t.notOk(await redis.exists(historyKey(from, to)), 'not kept: a later candle is not stored yet');
    await trades.trade(t0, 10);
    await waitFor('candle 9 stored', async () => (await everything()).body.data.length === 10);
    const closed = await history(from, to);
    t.equal(closed.body.data.length, 5, 'minutes 5..9: had the open answer been kept, this would still say 4');
    // Candle 9 is final (the clock passed it), but only a stored later candle proves it to the store's readers.
    t.notOk(await redis.exists(historyKey(from, to)), 'still not kept: nothing stored starts at or after the end');
    await trades.trade(t0, 11);
    await waitFor('candle 10 stored', async () => (await everything()).body.data.length === 11);
    const sealed = await history(from, to);
    t.equal(sealed.text, closed.text, 'the same five candles');
    // "Not final" is believed for up to a second before the store is asked again (candle-seal.ts):
    // the answer is kept by the first read after that, and it is the same answer.
    await waitFor('the final answer kept', async () => (await history(from, to)).text === closed.text && (await redis.get(historyKey(from, to))) !== null);
    t.equal(await redis.get(historyKey(from, to)), closed.text, 'kept now');
  });

  await t.test('Data Feed candles: kept once final, under the candles:feed key', async (t) => {
    const end = t0 + 3 * MINUTE_US - 1000; // inclusive: the last millisecond of minute 2
    const answer = await call(`/api/v1/market/${ins.slug}/candles?interval=1m&start=${ms(t0)}&end=${ms(end)}`, { key: adminKey });
    t.equal(answer.status, 200);
    t.equal(answer.body.count, 3, 'minutes 0..2');
    t.equal(await redis.get(prefix + historicalKey(ins.symbol, '1m', t0, end + 1, 'candles', 'feed', 1000, 0)), answer.text);
    const open = await call(`/api/v1/market/${ins.slug}/candles?interval=1m&start=${ms(t0)}`, { key: adminKey });
    t.equal(open.body.count, 11, 'no end: minutes 0..10');
    t.notOk(await redis.exists(prefix + historicalKey(ins.symbol, '1m', t0, Number.MAX_SAFE_INTEGER + 1, 'candles', 'feed', 1000, 0)), 'an open-ended range is never kept');
  });

  await t.test('stats: rates, memory and keys of this cache', async (t) => {
    const s = await stats();
    t.equal(s.backend, 'redis');
    t.equal(s.state, 'ready');
    t.equal(s.key_count, 4, 'two history answers, one CSV, one candles answer');
    t.ok(s.memory_usage_bytes > 0, `${s.memory_usage_bytes} bytes`);
    t.ok(s.hits >= 2 && s.misses >= 1);
    t.equal(s.hit_rate, s.hits / (s.hits + s.misses));
    t.equal(s.miss_rate, s.misses / (s.hits + s.misses));
    t.ok(s.eviction_rate >= 0 && s.eviction_rate <= 1, `eviction_rate ${s.eviction_rate}`);
    t.equal(s.ttl_seconds, 3600);
  });

  await t.test('invalidation: admin only, by pattern, historical keys only', async (t) => {
    const anonymous = await call('/api/v1/cache/historical:*', { method: 'DELETE' });
    t.equal(anonymous.status, 401);
    t.equal(anonymous.body.error.code, 'AUTH_REQUIRED', 'an anonymous caller may not invalidate');
    const standard = await call('/api/v1/cache/historical:*', { method: 'DELETE', key: standardKey });
    t.equal(standard.status, 403);
    t.equal(standard.body.error.code, 'PERMISSION_DENIED', 'nor may a key without the admin permission');
    t.equal((await stats()).key_count, 4, 'nothing removed');
    const candles = await call('/api/v1/cache/historical:*:candles:feed:*', { method: 'DELETE', key: adminKey });
    t.same(candles.body, { pattern: 'historical:*:candles:feed:*', removed: 1 });
    const outside = await call('/api/v1/cache/cache_stats*', { method: 'DELETE', key: adminKey });
    t.equal(outside.body.removed, 0, 'a pattern outside historical:* removes nothing');
    t.ok(await redis.exists(`${prefix}cache_stats:historical`), 'the shared counts stay');
    const bad = await call('/api/v1/cache/%ZZ', { method: 'DELETE', key: adminKey });
    t.equal(bad.status, 400);
    t.equal(bad.body.error.code, 'INVALID_PARAMETER');
    t.equal((await call('/api/v1/cache/historical:*')).status, 405, 'GET on a pattern is not a thing');
    const rest = await call(`/api/v1/cache/historical:${encodeURIComponent(ins.symbol)}:*`, { method: 'DELETE', key: adminKey });
    t.equal(rest.body.removed, 3, 'the rest of this symbol');
    t.equal((await stats()).key_count, 0);
    const fresh = await history(t0, t0 + 5 * MINUTE_US);
    t.equal(fresh.body.data.length, 5, 'answered from the store again');
    t.ok(await redis.exists(historyKey(t0, t0 + 5 * MINUTE_US)), 'and kept again');
  });
});
