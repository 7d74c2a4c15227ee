import type { RatePolicy } from '../auth/caller';

/**
 * The four windows of a RatePolicy, in one numbering shared by the in-process limiter, the Redis
 * script and the response headers. Times are integer microseconds, so that the arithmetic is
 * exact in a double (and in Redis's Lua) for any date before 2255.
 */
export const WINDOW_NAMES = ['second', 'minute', 'hour', 'day'] as const;
export const WINDOWS = WINDOW_NAMES.length;
export const WINDOW_US = [1e6, 60e6, 3600e6, 86_400e6] as const;

/**
 * GCRA parameters per window: the emission interval (µs per request, rounded up so that a window
 * never grants more than its limit) and the capacity (requests that may arrive at once). The
 * per-second window holds the burst on top of its rate; the longer windows hold a whole window's
 * quota (a client may spend a day's budget in an hour, never more than it). An interval of 0
 * switches a window off (a limit of 0 in the policy).
 */
export interface WindowPlan {
  readonly intervalUs: Float64Array;
  readonly capacity: Float64Array;
  /** `"second";q=..;w=1, ...`: the RateLimit-Policy header, made once per policy. */
  readonly policyHeader: string;
  /** Whether any window is on. */
  readonly limited: boolean;
}

export function windowLimits(policy: RatePolicy): number[] {
  return [policy.perSecond, policy.perMinute, policy.perHour, policy.perDay];
}

const plans = new WeakMap<RatePolicy, WindowPlan>();

/** The plan of a policy, made once per policy object (tiers are a handful of shared objects). */
export function planOf(policy: RatePolicy): WindowPlan {
  let plan = plans.get(policy);
  if (plan !== undefined) return plan;
  const limits = windowLimits(policy);
  const intervalUs = new Float64Array(WINDOWS);
  const capacity = new Float64Array(WINDOWS);
  const parts: string[] = [];
  for (let w = 0; w < WINDOWS; w++) {
    if (limits[w] <= 0) continue;
    intervalUs[w] = Math.ceil(WINDOW_US[w] / limits[w]);
    capacity[w] = limits[w] + (w === 0 ? policy.burst : 0);
    parts.push(`"${WINDOW_NAMES[w]}";q=${capacity[w]};w=${WINDOW_US[w] / 1e6}`);
  }
  plan = { intervalUs, capacity, policyHeader: parts.join(', '), limited: parts.length > 0 };
  plans.set(policy, plan);
  return plan;
}

/** One check's outcome, for the answer's headers. */
export interface RateDecision {
  allowed: boolean;
  /** The window that binds: the one with the fewest requests left, or the one that refused. */
  window: number;
  /** Requests left in that window after this one. */
  remaining: number;
  /** µs until that window is full again (allowed), or until a retry can pass (refused). */
  waitUs: number;
  /** The limiter answered from this process's counts because the shared store could not (see fallback). */
  local: boolean;
}

/**
 * The Generic Cell Rate Algorithm (ATM Forum TM 4.0; as in Brandur Leach's "throttled"): each
 * window keeps one number, the theoretical arrival time (TAT) of the next request. A request at
 * `now` is allowed in a window when max(TAT, now) + interval - now <= capacity × interval; it
 * then moves TAT on by one interval. All windows must allow, and only then do all move: a refused
 * request costs nothing. `tat` is updated in place; `out` is filled.
 *
 * The Redis script (redis-rate-limiter.ts) is this function in Lua; a test runs both on the same inputs.
 */
export function gcra(plan: WindowPlan, tat: Float64Array, nowUs: number, out: RateDecision): RateDecision {
  let refusedWait = -1;
  let refusedWindow = 0;
  let bindWindow = 0;
  let bindRemaining = Infinity;
  let bindWait = 0;
  for (let w = 0; w < WINDOWS; w++) {
    const interval = plan.intervalUs[w];
    if (interval === 0) continue;
    const next = Math.max(tat[w], nowUs) + interval;
    const room = plan.capacity[w] * interval;
    const ahead = next - nowUs;
    if (ahead > room) {
      const wait = ahead - room;
      if (wait > refusedWait) {
        refusedWait = wait;
        refusedWindow = w;
      }
      continue;
    }
    const remaining = Math.floor((room - ahead) / interval);
    if (remaining < bindRemaining) {
      bindRemaining = remaining;
      bindWindow = w;
      bindWait = ahead;
    }
  }
  out.local = false;
  if (refusedWait >= 0) {
    out.allowed = false;
    out.window = refusedWindow;
    out.remaining = 0;
    out.waitUs = refusedWait;
    return out;
  }
  for (let w = 0; w < WINDOWS; w++) {
    const interval = plan.intervalUs[w];
    if (interval !== 0) tat[w] = Math.max(tat[w], nowUs) + interval;
  }
  out.allowed = true;
  out.window = bindWindow;
  out.remaining = bindRemaining === Infinity ? 0 : bindRemaining;
  out.waitUs = bindWait;
  return out;
}

export function newDecision(): RateDecision {
  return { allowed: true, window: 0, remaining: 0, waitUs: 0, local: false };
}
