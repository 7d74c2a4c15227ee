import t from 'tap';
import { MemoryRateLimiter } from '../../src/limits/memory-rate-limiter';
import { rateHeaders } from '../../src/limits/rate-limit-headers';
import type { RatePolicy } from '../../src/auth/caller';

/** A clock the test moves: µs since the epoch. */
function clock(start = Date.UTC(2026, 11, 2) * 1000) {
  const c = { now: start, read: () => c.now };
  return c;
}

function policy(p: Partial<RatePolicy>): RatePolicy {
  return { perSecond: 0, perMinute: 0, perHour: 0, perDay: 0, burst: 0, ...p };
}

function drain(limiter: MemoryRateLimiter, subject: string, p: RatePolicy, max = 10_000): number {
  let n = 0;
  while (n < max && limiter.check(subject, 'rest', p).allowed) n++;
  return n;
}

t.test('per second with a burst: rate + burst at once, then one per emission interval', async (t) => {
  const c = clock();
  const limiter = new MemoryRateLimiter(100, c.read);
  const p = policy({ perSecond: 10, burst: 5 });
  t.equal(drain(limiter, 'a', p), 15, 'the rate plus the burst at once');
  c.now += 99_999;
  t.equal(limiter.check('a', 'rest', p).allowed, false, 'one interval (100 ms) has not passed');
  c.now += 1;
  t.equal(drain(limiter, 'a', p), 1, 'one request per 100 ms');
  c.now += 1_000_000;
  t.equal(drain(limiter, 'a', p), 10, 'a second refills ten');
  t.equal(drain(limiter, 'b', p), 15, 'another subject has its own budget');
});

t.test('windows together: the tightest binds, a refused request costs nothing', async (t) => {
  const c = clock();
  const limiter = new MemoryRateLimiter(100, c.read);
  const p = policy({ perSecond: 100, burst: 100, perMinute: 30, perHour: 40, perDay: 50 });
  t.equal(drain(limiter, 'a', p), 30, 'the minute window binds first');
  const refused = limiter.check('a', 'rest', p);
  t.match(refused, { allowed: false, window: 1, remaining: 0, local: true });
  t.equal(refused.waitUs, 2_000_000, 'the next request fits the minute window in 2 s (60 s / 30)');
  // Refusals did not move any window: after one minute the minute window is whole again, and
  // the hour window has 10 left (40 - 30), not fewer.
  for (let i = 0; i < 100; i++) limiter.check('a', 'rest', p);
  c.now += 60_000_000;
  t.equal(drain(limiter, 'a', p), 10, 'the hour window binds: 40 - 30');
  c.now += 3_600_000_000;
  // The day window refills one request per 28.8 min: two in the 61 minutes since the first.
  t.equal(drain(limiter, 'a', p), 12, 'then the day window: 50 - 40 + 2 refilled');
});

t.test('a window of 0 is off; a policy with no window allows everything', async (t) => {
  const limiter = new MemoryRateLimiter(100, clock().read);
  t.equal(drain(limiter, 'a', policy({}), 500), 500);
  t.equal(drain(limiter, 'b', policy({ perDay: 7 }), 500), 7);
});

t.test('bounded memory: past maxSubjects the least recently seen subject is forgotten', async (t) => {
  const limiter = new MemoryRateLimiter(3, clock().read);
  const p = policy({ perDay: 1 });
  for (const s of ['a', 'b', 'c', 'd']) t.equal(limiter.check(s, 'rest', p).allowed, true);
  t.match(limiter.health(), { subjects: 3 });
  t.equal(limiter.check('a', 'rest', p).allowed, true, '"a" was forgotten: a fresh budget');
  t.equal(limiter.check('d', 'rest', p).allowed, false, '"d" is remembered');
});

t.test('headers: RateLimit-Policy lists every window, RateLimit the binding one, Retry-After on refusals', async (t) => {
  const c = clock();
  const limiter = new MemoryRateLimiter(100, c.read);
  const p = policy({ perSecond: 2, burst: 1, perDay: 1000 });
  const first = rateHeaders(p, limiter.check('a', 'rest', p));
  t.same(first, { policy: '"second";q=3;w=1, "day";q=1000;w=86400', state: '"second";r=2;t=1', retryAfter: null });
  limiter.check('a', 'rest', p);
  limiter.check('a', 'rest', p);
  const refused = rateHeaders(p, limiter.check('a', 'rest', p));
  t.same(refused, { policy: first.policy, state: '"second";r=0;t=1', retryAfter: '1' });
});
