import type Redis from 'ioredis';
import type { RatePolicy } from '../auth/caller';
import type { RateLimiter } from './rate-limiter';
import type { MemoryRateLimiter } from './memory-rate-limiter';
import { newDecision, planOf, RateDecision, WINDOW_NAMES } from './rate-windows';
import { failFastRedis } from '../util/fail-fast-redis';
import { log } from '../util/log';

/**
 * gcra() of rate-windows.ts in Lua, run atomically by Redis: one round trip per check, whatever
 * the number of windows. The clock is Redis's own (TIME), so every process behind one Redis
 * counts against the same time. Each key expires when its window would be full again (at most
 * the window): an idle subject costs nothing.
 *   KEYS[1..4]  rate_limit:{subject}:bucket:second|minute|hour|day
 *   ARGV[1..4]  emission interval per window, µs (0: window off)   ARGV[5..8] capacity per window
 *   returns     {allowed 0|1, window 0..3, remaining, wait µs (as text: past 2^53 Lua's numbers are not exact)}
 */
export const GCRA_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local refusedWait, refusedWindow = -1, 0
local bindWindow, bindRemaining, bindWait = 0, -1, 0
local nexts = {}
for w = 1, 4 do
  local interval = tonumber(ARGV[w])
  if interval > 0 then
    local tat = tonumber(redis.call('GET', KEYS[w]) or '0')
    local nxt = math.max(tat, now) + interval
    local room = tonumber(ARGV[w + 4]) * interval
    local ahead = nxt - now
    nexts[w] = nxt
    if ahead > room then
      if ahead - room > refusedWait then refusedWait = ahead - room; refusedWindow = w - 1 end
    else
      local remaining = math.floor((room - ahead) / interval)
      if bindRemaining < 0 or remaining < bindRemaining then bindRemaining = remaining; bindWindow = w - 1; bindWait = ahead end
    end
  end
end
if refusedWait >= 0 then return {0, refusedWindow, 0, string.format('%.0f', refusedWait)} end
for w = 1, 4 do
  if nexts[w] then redis.call('SET', KEYS[w], string.format('%.0f', nexts[w]), 'PX', math.ceil((nexts[w] - now) / 1000)) end
end
return {1, bindWindow, math.max(bindRemaining, 0), string.format('%.0f', bindWait)}
`;

/** After a failed or slow check, Redis is left alone this long before it is tried again. */
const RETRY_AFTER_FAILURE_MS = 1000;

export interface RedisLimiterOptions {
  url: string;
  /** A check that takes longer is answered by the in-process limiter (the Redis one may still count it). */
  timeoutMs: number;
}

type GcraReply = [number, number, number, string];
type WithGcra = Redis & { bookcastGcra(k1: string, k2: string, k3: string, k4: string, ...args: number[]): Promise<GcraReply> };

/**
 * The shared limiter: counters in Redis, so several bookcast processes behind one Redis enforce
 * one limit together. While Redis is unreachable, slow or failing, each check is answered by this
 * process's in-process limiter instead: limits stay enforced (per process, so N processes allow up
 * to N times the limit meanwhile), and no client ever sees an error for it. Redis is tried again
 * a second after a failure, and used again as soon as it answers.
 */
export class RedisRateLimiter implements RateLimiter {
  private readonly redis: WithGcra;
  private downUntil = 0;
  private checks = 0;
  private refused = 0;
  private fallbacks = 0;
  private lastError: string | null = null;

  constructor(
    options: RedisLimiterOptions,
    private readonly fallback: MemoryRateLimiter,
  ) {
    this.redis = failFastRedis(options.url, options.timeoutMs) as WithGcra;
    this.redis.defineCommand('bookcastGcra', { numberOfKeys: 4, lua: GCRA_LUA });
    this.redis.on('error', (err: Error) => this.note(err));
  }

  check(subject: string, bucket: string, policy: RatePolicy): RateDecision | Promise<RateDecision> {
    if (this.redis.status !== 'ready' || Date.now() < this.downUntil) {
      this.fallbacks++;
      return this.local(subject, bucket, policy);
    }
    const plan = planOf(policy);
    const prefix = `rate_limit:{${subject}}:${bucket}:`;
    return this.redis
      .bookcastGcra(
        prefix + WINDOW_NAMES[0],
        prefix + WINDOW_NAMES[1],
        prefix + WINDOW_NAMES[2],
        prefix + WINDOW_NAMES[3],
        plan.intervalUs[0], plan.intervalUs[1], plan.intervalUs[2], plan.intervalUs[3],
        plan.capacity[0], plan.capacity[1], plan.capacity[2], plan.capacity[3],
      )
      .then(
        (reply) => {
          this.checks++;
          const out = newDecision();
          out.allowed = reply[0] === 1;
          out.window = reply[1];
          out.remaining = reply[2];
          out.waitUs = Number(reply[3]);
          if (!out.allowed) this.refused++;
          return out;
        },
        (err: Error) => {
          this.note(err);
          this.downUntil = Date.now() + RETRY_AFTER_FAILURE_MS;
          this.fallbacks++;
          return this.local(subject, bucket, policy);
        },
      );
  }

  private local(subject: string, bucket: string, policy: RatePolicy): RateDecision {
    return this.fallback.check(subject, bucket, policy);
  }

  private note(err: Error): void {
    const text = `${err.name}: ${err.message}`;
    if (text !== this.lastError) log.warn({ error: text }, "rate limits fall back to this process's counts");
    this.lastError = text;
  }

  health(): object {
    const shared = this.redis.status === 'ready' && Date.now() >= this.downUntil;
    return {
      store: 'redis',
      state: shared ? 'shared' : 'local fallback',
      checks: this.checks,
      refused: this.refused,
      fallback_checks: this.fallbacks,
      last_error: this.lastError,
      local: this.fallback.health(),
    };
  }

  async close(): Promise<void> {
    this.redis.disconnect();
    await this.fallback.close();
  }
}
