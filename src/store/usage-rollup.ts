import type { UsageRecord, UsageSummaryRow, UsageTotals } from './store';

const MINUTE_MICROS = 60_000_000;
const DAY_MICROS = 86_400_000_000;

/** One api_metrics_ts row of a batch: per minute, endpoint, method and status. */
export interface MinuteRollup extends UsageTotals {
  minute: number;
  endpoint: string;
  method: string;
  status: number;
  maxMs: number;
}

/** One client_usage_analytics row of a batch: per UTC day and subject. */
export interface DayRollup extends UsageTotals {
  day: number;
  subject: string;
  clientId: string | null;
  errors: number;
  rateLimited: number;
}

/** One subject_usage_minutes row of a batch: per subject, minute, endpoint, method and status (`last`: the newest request's time). */
export interface SubjectMinuteRollup extends UsageSummaryRow {
  subject: string;
  minute: number;
}

/** One row's finest key: per subject, minute, endpoint, method and status. Every roll-up folds these. */
interface Tally extends SubjectMinuteRollup {
  maxMs: number;
  errors: number;
  rateLimited: number;
  /** The greatest client id of its rows (greaterClientId). */
  clientId: string | null;
}

type ByStatus = Map<number, Tally>;
type ByMethod = Map<string, ByStatus>;
type ByEndpoint = Map<string, ByMethod>;
type ByMinute = Map<number, ByEndpoint>;

function branch<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let next = map.get(key);
  if (next === undefined) map.set(key, (next = make()));
  return next;
}

/**
 * A subject is one client (or one address), so its rows agree on the client id; the greatest is
 * kept, as max() over the rows would.
 */
function greaterClientId(a: string | null, b: string | null): string | null {
  return b !== null && (a === null || b > a) ? b : a;
}

const byMinute = (): ByMinute => new Map();
const byEndpoint = (): ByEndpoint => new Map();
const byMethod = (): ByMethod => new Map();
const byStatus = (): ByStatus => new Map();

/**
 * A usage batch's roll-ups, computed here rather than by GROUP BY over a staging table: a batch of
 * a thousand answers has a handful of keys, and the database then merges that handful instead of
 * reading every row twice more. Response times count as api_usage stores them (float4), so the
 * roll-ups add exactly what a sum over the stored rows would see, in double precision.
 *
 * Each row is added to one tally, found through nested maps keyed by the row's own values: a
 * batch's strings are shared objects (usage-pack.ts), so each is hashed once, where a key joined
 * per row was a new string to build and hash three times a row. A row with the previous row's key
 * (a client repeating one request) skips the lookups. The three roll-ups fold the tallies.
 */
export function rollUpUsage(rows: readonly UsageRecord[]): { minutes: MinuteRollup[]; days: DayRollup[]; subjects: SubjectMinuteRollup[] } {
  const tree = new Map<string, ByMinute>();
  const tallies: Tally[] = [];
  let t: Tally | null = null;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    const ms = Math.fround(r.responseTimeMs);
    const minute = Math.floor(r.time / MINUTE_MICROS) * MINUTE_MICROS;
    if (t === null || t.minute !== minute || t.status !== r.status || t.subject !== r.subject || t.endpoint !== r.endpoint || t.method !== r.method) {
      const statuses: ByStatus = branch(branch(branch(branch(tree, r.subject, byMinute), minute, byEndpoint), r.endpoint, byMethod), r.method, byStatus);
      t = statuses.get(r.status) ?? null;
      if (t === null) {
        t = { subject: r.subject, minute, endpoint: r.endpoint, method: r.method, status: r.status, requests: 0, totalMs: 0, requestBytes: 0, responseBytes: 0, last: r.time, maxMs: ms, errors: 0, rateLimited: 0, clientId: null };
        statuses.set(r.status, t);
        tallies.push(t);
      }
    }
    t.requests++;
    t.totalMs += ms;
    t.requestBytes += r.requestBytes;
    t.responseBytes += r.responseBytes;
    if (r.time > t.last) t.last = r.time;
    if (ms > t.maxMs) t.maxMs = ms;
    if (r.status >= 400) t.errors++;
    if (r.status === 429) t.rateLimited++;
    t.clientId = greaterClientId(t.clientId, r.clientId);
  }
  return fold(tallies);
}

function fold(tallies: readonly Tally[]): { minutes: MinuteRollup[]; days: DayRollup[]; subjects: SubjectMinuteRollup[] } {
  const minutes = new Map<string, MinuteRollup>();
  const days = new Map<string, DayRollup>();
  const subjects: SubjectMinuteRollup[] = [];
  for (const t of tallies) {
    subjects.push({ subject: t.subject, minute: t.minute, endpoint: t.endpoint, method: t.method, status: t.status, requests: t.requests, totalMs: t.totalMs, requestBytes: t.requestBytes, responseBytes: t.responseBytes, last: t.last });
    const minuteKey = `${t.minute}\u0000${t.endpoint}\u0000${t.method}\u0000${t.status}`;
    const m = minutes.get(minuteKey);
    if (m === undefined) {
      minutes.set(minuteKey, { minute: t.minute, endpoint: t.endpoint, method: t.method, status: t.status, requests: t.requests, totalMs: t.totalMs, maxMs: t.maxMs, requestBytes: t.requestBytes, responseBytes: t.responseBytes });
    } else {
      m.requests += t.requests;
      m.totalMs += t.totalMs;
      if (t.maxMs > m.maxMs) m.maxMs = t.maxMs;
      m.requestBytes += t.requestBytes;
      m.responseBytes += t.responseBytes;
    }
    const day = Math.floor(t.minute / DAY_MICROS) * DAY_MICROS;
    const dayKey = `${day}\u0000${t.subject}`;
    const d = days.get(dayKey);
    if (d === undefined) {
      days.set(dayKey, { day, subject: t.subject, clientId: t.clientId, requests: t.requests, errors: t.errors, rateLimited: t.rateLimited, totalMs: t.totalMs, requestBytes: t.requestBytes, responseBytes: t.responseBytes });
    } else {
      d.clientId = greaterClientId(d.clientId, t.clientId);
      d.requests += t.requests;
      d.errors += t.errors;
      d.rateLimited += t.rateLimited;
      d.totalMs += t.totalMs;
      d.requestBytes += t.requestBytes;
      d.responseBytes += t.responseBytes;
    }
  }
  return { minutes: [...minutes.values()], days: [...days.values()], subjects };
}
