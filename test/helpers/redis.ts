import Redis from 'ioredis';

/** The shared Redis the tests use (each under keys of its own). */
export const REDIS_URL = process.env.BOOKCAST_TEST_REDIS ?? 'redis://127.0.0.1:6379';

/** Whether a Redis answers at `url`; one attempt, no reconnecting. */
export async function redisReachable(url = REDIS_URL): Promise<boolean> {
  const probe = new Redis(url, { lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}
