import * as hdr from 'hdr-histogram-js';
import type { RatePolicy } from '../../src/auth/caller';
import { MemoryRateLimiter } from '../../src/limits/memory-rate-limiter';
import { RedisRateLimiter } from '../../src/limits/redis-rate-limiter';
import { runStandalone } from '../standalone';
import { loadAverage } from '../system';

/**
 * RateLimiterChecks: what one request-budget check costs, in this process (GCRA over four
 * windows in an LRU map, synchronous) and in Redis (the Lua script, one round trip), as the
 * admission makes it: one check per request, 10,000 subjects in turn, a policy of 2/s (burst 2)
 * per subject, so at these speeds most checks are refusals (the result says which share): both
 * outcomes cost one script run, and a refusal writes nothing.
 *   - in process: checks/s, one thread, closed loop (a check never waits for anything);
 *   - Redis: the most checks/s with 64 checks in flight (ioredis pipelines them on one
 *     connection), then open loop at half of that: latency from each check's scheduled start
 *     to its answer (so a stall delays the checks behind it, and is counted), p50/p99/p99.9/max.
 * Redis: REDIS_URL, else the local server on 6379 (keys rate_limit:{bench:…}, expiring).
 */

const SUBJECTS = 10_000;
const POLICY: RatePolicy = { perSecond: 2, burst: 2, perMinute: 120, perHour: 7200, perDay: 172_800 };
const IN_FLIGHT = 64;

function histogram() {
  return hdr.build({ bitBucketSize: 32, lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
}

function memoryChecks(seconds: number): { checksPerSecond: number; refusedShare: number } {
  const limiter = new MemoryRateLimiter();
  let n = 0;
  let refused = 0;
  const until = performance.now() + seconds * 1000;
  while (performance.now() < until) {
    for (let i = 0; i < 10_000; i++, n++) if (!limiter.check(`ip:10.0.${(n % SUBJECTS) >> 8}.${n & 255}`, 'rest', POLICY).allowed) refused++;
  }
  return { checksPerSecond: Math.round(n / seconds), refusedShare: Math.round((refused / n) * 1000) / 1000 };
}

async function redisMax(limiter: RedisRateLimiter, seconds: number): Promise<number> {
  let n = 0;
  const until = performance.now() + seconds * 1000;
  const lane = async () => {
    while (performance.now() < until) {
      await limiter.check(`bench:${n % SUBJECTS}`, 'rest', POLICY);
      n++;
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
  return Math.round(n / seconds);
}

async function redisOpenLoop(limiter: RedisRateLimiter, rate: number, seconds: number) {
  const h = histogram();
  const total = Math.round(rate * seconds);
  const start = performance.now();
  let sent = 0;
  const pending: Promise<void>[] = [];
  while (sent < total) {
    const due = start + (sent * 1000) / rate;
    const now = performance.now();
    if (now < due) {
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - now - 1)));
      continue;
    }
    // Every check already due goes now; each is timed from its own due time.
    while (sent < total && start + (sent * 1000) / rate <= performance.now()) {
      const scheduled = start + (sent * 1000) / rate;
      const check = limiter.check(`bench:${sent % SUBJECTS}`, 'rest', POLICY);
      pending.push(
        Promise.resolve(check).then(() => {
          h.recordValue(Math.max(1, Math.round((performance.now() - scheduled) * 1000)));
        }),
      );
      sent++;
    }
  }
  await Promise.all(pending);
  const us = (q: number) => h.getValueAtPercentile(q);
  return { offeredPerSecond: rate, checks: total, p50Us: us(50), p99Us: us(99), p999Us: us(99.9), maxUs: h.maxValue };
}

export async function run({ seconds }: { seconds: number; full: boolean }) {
  const load = loadAverage();
  const memory = memoryChecks(seconds);
  const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const fallback = new MemoryRateLimiter();
  const limiter = new RedisRateLimiter({ url, timeoutMs: 5000 }, fallback);
  try {
    const ready = Date.now() + 10_000;
    while ((limiter.health() as { state: string }).state !== 'shared') {
      if (Date.now() > ready) throw new Error(`Redis at ${url} did not answer`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const max = await redisMax(limiter, seconds);
    const open = await redisOpenLoop(limiter, Math.max(1000, Math.round(max / 2)), seconds);
    const fell = (limiter.health() as { fallback_checks: number }).fallback_checks;
    return {
      loadAverage: load,
      memory,
      redis: { url, maxChecksPerSecond: max, inFlight: IN_FLIGHT, openLoop: open, fallbackChecks: fell },
      redisShareOfMemory: Math.round((max / memory.checksPerSecond) * 1000) / 1000,
    };
  } finally {
    await limiter.close();
  }
}

if (require.main === module) runStandalone(run, 3);
