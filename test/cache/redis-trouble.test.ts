import t from 'tap';
import Redis from 'ioredis';
import { historicalKey } from '../../src/cache/history-cache';
import { HISTORY_FIELDS } from '../../src/store/history-render';
import { PrivateRedis } from '../helpers/private-redis';
import { startTestServer, waitFor } from '../helpers/test-server';
import { instruments, MINUTE_US, MinuteTrades, pastMinute, PUBLISHER_TOKEN } from './past-trades';

/**
 * Redis stopped and started again under a real server (a private redis-server, killed with
 * SIGKILL): history keeps answering, from the store, with no error to clients; the feed keeps
 * being journaled; only invalidation says CACHE_UNAVAILABLE; the server reconnects by itself and
 * keeps answers in the new Redis again.
 */
const available = PrivateRedis.available();
if (!available && process.env.CI === 'true') throw new Error('redis-server is required with CI=true');

t.test('Redis killed and restarted: history from the store meanwhile, reconnection by itself', { skip: available ? false : 'redis-server is not installed' }, async (t) => {
  const redis = await PrivateRedis.create();
  t.teardown(() => redis.kill());
  const server = await startTestServer(['--source', 'ingest', '--publisher-token', PUBLISHER_TOKEN, '--redis-url', redis.url]);
  t.teardown(() => server.server.stop());
  // A client of the test's own that never queues a command while Redis is away.
  const peek = new Redis(redis.url, { enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => 100 });
  peek.on('error', () => undefined);
  t.teardown(() => peek.disconnect());
  const ins = instruments[0];
  const t0 = pastMinute();
  const history = async (minutes: number) => {
    const res = await fetch(`${server.http}/api/v1/market-data/${ins.slug}/history?interval=1m&start_time=${t0 / 1000}&end_time=${(t0 + minutes * MINUTE_US) / 1000}`);
    const text = await res.text();
    return { status: res.status, text, rows: (JSON.parse(text).data ?? []).length as number };
  };
  const key = (minutes: number) => historicalKey(ins.symbol, '1m', t0, t0 + minutes * MINUTE_US, HISTORY_FIELDS.join(','), 'json', 500, 0);
  const stats = async () => (await server.get('/api/v1/cache/stats')).body;

  const trades = await MinuteTrades.open(server.url, 'trouble');
  t.teardown(() => trades.close());
  for (let m = 0; m <= 5; m++) await trades.trade(t0, m);
  await waitFor('candles 0..4 stored', async () => (await history(20)).rows === 5);
  const kept = await history(3);
  t.equal(kept.rows, 3);
  await waitFor('the answer kept in Redis', async () => (await peek.get(key(3))) === kept.text);

  await redis.kill();
  await waitFor('the server to see Redis gone', async () => (await stats()).state === 'unavailable');
  const down = await history(3);
  t.equal(down.status, 200, 'no error to the client');
  t.equal(down.text, kept.text, 'the same answer, from the store');
  const wider = await history(4);
  t.equal(wider.status, 200);
  t.equal(wider.rows, 4, 'an answer never kept is read from the store too');
  await trades.trade(t0, 6);
  t.pass('the feed is journaled while Redis is away');
  const s = await stats();
  t.equal(s.state, 'unavailable');
  t.ok(s.bypassed >= 2, `lookups answered by the store meanwhile: ${s.bypassed}`);
  const invalidate = await fetch(`${server.http}/api/v1/cache/historical:*`, { method: 'DELETE' });
  t.equal(invalidate.status, 503);
  t.equal(((await invalidate.json()) as any).error.code, 'CACHE_UNAVAILABLE', 'an invalidation cannot be done, and says so');

  await redis.start();
  await waitFor('the server to reconnect by itself', async () => (await stats()).state === 'ready');
  const back = await history(3);
  t.equal(back.text, kept.text);
  await waitFor('answers kept in the new Redis', async () => peek.status === 'ready' && (await peek.get(key(3))) === kept.text);
  const after = await stats();
  t.equal(after.key_count, 1, 'the restarted Redis holds what was kept since');
});
