import type { UsageRecord } from './store';

const MINUTE_MICROS = 60_000_000;
const DAY_MICROS = 86_400_000_000;

/** One api_metrics_ts row of a batch: per minute, endpoint, method and status. */
export interface MinuteRollup {
  minute: number;
  endpoint: string;
  method: string;
  status: number;
  requests: number;
  totalMs: number;
  maxMs: number;
  requestBytes: number;
  responseBytes: number;
}

/** One client_usage_analytics row of a batch: per UTC day and subject. */
export interface DayRollup {
  day: number;
  subject: string;
  clientId: string | null;
  requests: number;
  errors: number;
  rateLimited: number;
  totalMs: number;
  requestBytes: number;
  responseBytes: number;
}

/** One subject_usage_minutes row of a batch: per subject, minute, endpoint, method and status. */
export interface SubjectMinuteRollup {
  subject: string;
  minute: number;
  endpoint: string;
  method: string;
  status: number;
  requests: number;
  totalMs: number;
  requestBytes: number;
  responseBytes: number;
  /** The newest request's time (µs). */
  last: number;
}

/**
 * A usage batch's roll-ups, computed here rather than by GROUP BY over a staging table: a batch of
 * a thousand answers has a handful of keys, and the database then merges that handful instead of
 * reading every row twice more. Response times count as api_usage stores them (float4), so the
 * roll-ups add exactly what a sum over the stored rows would see, in double precision.
 */
export function rollUpUsage(rows: readonly UsageRecord[]): { minutes: MinuteRollup[]; days: DayRollup[]; subjects: SubjectMinuteRollup[] } {
  const minutes = new Map<string, MinuteRollup>();
  const days = new Map<string, DayRollup>();
  const subjects = new Map<string, SubjectMinuteRollup>();
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    const ms = Math.fround(r.responseTimeMs);
    const minute = Math.floor(r.time / MINUTE_MICROS) * MINUTE_MICROS;
    const minuteKey = `${minute}\u0000${r.endpoint}\u0000${r.method}\u0000${r.status}`;
    const m = minutes.get(minuteKey);
    if (m === undefined) {
      minutes.set(minuteKey, { minute, endpoint: r.endpoint, method: r.method, status: r.status, requests: 1, totalMs: ms, maxMs: ms, requestBytes: r.requestBytes, responseBytes: r.responseBytes });
    } else {
      m.requests++;
      m.totalMs += ms;
      if (ms > m.maxMs) m.maxMs = ms;
      m.requestBytes += r.requestBytes;
      m.responseBytes += r.responseBytes;
    }
    const subjectKey = `${r.subject}\u0000${minuteKey}`;
    const s = subjects.get(subjectKey);
    if (s === undefined) {
      subjects.set(subjectKey, { subject: r.subject, minute, endpoint: r.endpoint, method: r.method, status: r.status, requests: 1, totalMs: ms, requestBytes: r.requestBytes, responseBytes: r.responseBytes, last: r.time });
    } else {
      s.requests++;
      s.totalMs += ms;
      s.requestBytes += r.requestBytes;
      s.responseBytes += r.responseBytes;
      if (r.time > s.last) s.last = r.time;
    }
    const day = Math.floor(r.time / DAY_MICROS) * DAY_MICROS;
    const dayKey = `${day}\u0000${r.subject}`;
    const error = r.status >= 400 ? 1 : 0;
    const limited = r.status === 429 ? 1 : 0;
    const d = days.get(dayKey);
    if (d === undefined) {
      days.set(dayKey, { day, subject: r.subject, clientId: r.clientId, requests: 1, errors: error, rateLimited: limited, totalMs: ms, requestBytes: r.requestBytes, responseBytes: r.responseBytes });
    } else {
      // A subject is one client (or one address), so its rows agree on the client id; the
      // greatest is kept, as max() over the rows would.
      if (r.clientId !== null && (d.clientId === null || r.clientId > d.clientId)) d.clientId = r.clientId;
      d.requests++;
      d.errors += error;
      d.rateLimited += limited;
      d.totalMs += ms;
      d.requestBytes += r.requestBytes;
      d.responseBytes += r.responseBytes;
    }
  }
  return { minutes: [...minutes.values()], days: [...days.values()], subjects: [...subjects.values()] };
}
