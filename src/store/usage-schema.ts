import { migrationLedger } from './migrations';
import type { Migration } from './schema';

/**
 * Usage accounting's tables, with a migration ledger of their own (`accounting_migrations`, as
 * access control keeps `auth_migrations`), so each part numbers its migrations by itself.
 *
 * - api_usage: one row per answered REST request, written in batches by COPY (never an INSERT
 *   per request). Append-only, no primary key: a batch is written once, in one transaction with
 *   its roll-ups. No index (migration 4 dropped (subject, time): half of a row's cost in PGlite);
 *   a caller's summary reads subject_usage_minutes instead.
 * - api_metrics_ts: per minute, endpoint, method and status: requests, time and bytes. Roll-up of
 *   each batch in the same transaction (insert … on conflict do update), so it never disagrees
 *   with api_usage. TimescaleDB: 1 hour chunks. Native partitioning: daily partitions (hourly
 *   ones would be 24 tables a day for a few hundred rows each).
 * - client_usage_analytics: per UTC day and subject (client id, or ip:<address>): requests,
 *   errors, bytes, time. TimescaleDB: 1 day chunks; natively, monthly partitions.
 * - rate_limit_buckets (migration 3; migration 1's table of GCRA arrival times was dropped by
 *   migration 2, unwritten): per subject (client id or ip:<address>), bucket, window (minute,
 *   hour, day) and window start, what the limiter allowed and refused and the quota in force.
 *   The live state of a limit stays in Redis or the process (limits/rate-windows.ts); these are
 *   its counts, rolled up in memory per minute (limits/rate-rollup.ts) and added in here with
 *   each usage batch, never a write per request. Not partitioned: one row per active subject and
 *   minute at most, and the operator prunes old minutes as with any accounting table.
 * - subject_usage_minutes (migration 4): per subject, minute, endpoint, method and status:
 *   requests, time, bytes and the newest request's time, for GET /api/v1/usage. A roll-up like
 *   api_metrics_ts, in the same transaction; a batch adds a handful of rows where an index on
 *   api_usage took one entry per request. TimescaleDB: 1 day chunks and no default time index
 *   (the key leads with subject and serves every read); natively, daily partitions.
 * Partition widths use migration 1's bookcast_partitioning (day or month).
 */
export const ACCOUNTING_LEDGER = migrationLedger('accounting_migrations', 0x75736167); // 'usag'

const TABLES = `
create table api_usage (
  time timestamptz not null,
  response_time_ms real not null,
  request_bytes bigint not null,
  response_bytes bigint not null,
  status_code smallint not null,
  subject text collate "C" not null,
  client_id text,
  key_id text,
  endpoint text not null,
  method text not null,
  user_agent text not null,
  ip_address text not null
)%PARTITION_TIME%;
create index api_usage_subject_time on api_usage (subject, time);

create table api_metrics_ts (
  time timestamptz not null,
  endpoint text not null,
  method text not null,
  status_code smallint not null,
  requests bigint not null,
  total_ms double precision not null,
  max_ms real not null,
  request_bytes bigint not null,
  response_bytes bigint not null,
  primary key (time, endpoint, method, status_code)
)%PARTITION_TIME%;

create table client_usage_analytics (
  day timestamptz not null,
  subject text collate "C" not null,
  client_id text,
  requests bigint not null,
  errors bigint not null,
  rate_limited bigint not null,
  total_ms double precision not null,
  request_bytes bigint not null,
  response_bytes bigint not null,
  primary key (subject, day)
)%PARTITION_DAY%;

create table rate_limit_buckets (
  subject text collate "C" not null,
  bucket text not null,
  "window" text not null check ("window" in ('second', 'minute', 'hour', 'day')),
  theoretical_arrival_us bigint not null,
  expires_at timestamptz not null,
  primary key (subject, bucket, "window")
);
`;

const PARTITIONED = `${TABLES.replace(/%PARTITION_TIME%/g, ' partition by range (time)').replace('%PARTITION_DAY%', ' partition by range (day)')}
create table api_usage_default partition of api_usage default;
create table api_metrics_ts_default partition of api_metrics_ts default;
create table client_usage_analytics_default partition of client_usage_analytics default;
insert into bookcast_partitioning values
  ('api_usage', 'time', 'day'),
  ('api_metrics_ts', 'time', 'day'),
  ('client_usage_analytics', 'day', 'month');
`;

const TIMESCALE = `${TABLES.replace(/%PARTITION_TIME%/g, '').replace('%PARTITION_DAY%', '')}
select create_hypertable('api_usage', 'time', chunk_time_interval => interval '1 day');
select create_hypertable('api_metrics_ts', 'time', chunk_time_interval => interval '1 hour');
select create_hypertable('client_usage_analytics', 'day', chunk_time_interval => interval '1 day');
`;

const DROP_BUCKETS = 'drop table if exists rate_limit_buckets;';

const RATE_LIMIT_BUCKETS = `
create table rate_limit_buckets (
  subject text collate "C" not null,
  client_id text,
  bucket text not null,
  "window" text not null check ("window" in ('minute', 'hour', 'day')),
  window_start timestamptz not null,
  "limit" bigint not null,
  allowed bigint not null,
  refused bigint not null,
  primary key (subject, bucket, "window", window_start)
);
create index rate_limit_buckets_client on rate_limit_buckets (client_id, window_start) where client_id is not null;
`;

const SUBJECT_MINUTES = `
create table subject_usage_minutes (
  time timestamptz not null,
  subject text collate "C" not null,
  endpoint text not null,
  method text not null,
  status_code smallint not null,
  requests bigint not null,
  total_ms double precision not null,
  request_bytes bigint not null,
  response_bytes bigint not null,
  last_time timestamptz not null,
  primary key (subject, time, endpoint, method, status_code)
)%PARTITION_TIME%;
`;

/** api_usage's rows before migration 4, summed into subject_usage_minutes. */
const BACKFILL_SUBJECT_MINUTES = `
insert into subject_usage_minutes
select date_trunc('minute', time, 'UTC'), subject, endpoint, method, status_code, count(*), sum(response_time_ms::float8), sum(request_bytes), sum(response_bytes), max(time)
from api_usage group by 1, 2, 3, 4, 5;
drop index api_usage_subject_time;
`;

/**
 * Migration 4. Natively, the partitions of the days api_usage holds are made before the backfill,
 * so its rows never pass through the default partition. On TimescaleDB api_usage's default
 * (time desc) index goes too: nothing reads api_usage by time but retention, which drops chunks.
 */
const SUBJECT_MINUTES_PARTITIONED = `${SUBJECT_MINUTES.replace('%PARTITION_TIME%', ' partition by range (time)')}
create table subject_usage_minutes_default partition of subject_usage_minutes default;
insert into bookcast_partitioning values ('subject_usage_minutes', 'time', 'day');
select bookcast_ensure_partitions('subject_usage_minutes',
  array(select distinct (extract(epoch from date_trunc('day', time, 'UTC')) / 86400)::integer from api_usage));
${BACKFILL_SUBJECT_MINUTES}`;

const SUBJECT_MINUTES_TIMESCALE = `${SUBJECT_MINUTES.replace('%PARTITION_TIME%', '')}
select create_hypertable('subject_usage_minutes', 'time', chunk_time_interval => interval '1 day', create_default_indexes => false);
${BACKFILL_SUBJECT_MINUTES}
drop index if exists api_usage_time_idx;
`;

export const ACCOUNTING_MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'api usage, metrics, client analytics, rate limit buckets', sql: { partitioned: PARTITIONED, timescale: TIMESCALE } },
  { version: 2, name: 'rate_limit_buckets dropped: never written (limits live in Redis or the process)', sql: { partitioned: DROP_BUCKETS, timescale: DROP_BUCKETS } },
  { version: 3, name: 'rate_limit_buckets: the limiter\'s counts per subject, bucket and minute, hour, day window', sql: { partitioned: RATE_LIMIT_BUCKETS, timescale: RATE_LIMIT_BUCKETS } },
  { version: 4, name: 'subject_usage_minutes: a caller\'s usage per minute, replacing api_usage\'s (subject, time) index', sql: { partitioned: SUBJECT_MINUTES_PARTITIONED, timescale: SUBJECT_MINUTES_TIMESCALE } },
];

/** Columns of the staging COPY (text format): times as µs integers, converted in SQL. */
const at = (column: string): string => `timestamptz 'epoch' + ${column} * interval '1 microsecond'`;

/**
 * A batch's roll-ups (usage-rollup.ts; JSON text, one element per key) added in: $1 per minute,
 * endpoint, method and status into api_metrics_ts, $2 per UTC day and subject into
 * client_usage_analytics, $3 per subject, minute, endpoint, method and status into
 * subject_usage_minutes. One statement in the transaction that COPYs the batch's rows into
 * api_usage: in PGlite each statement costs a millisecond or two of its own, whatever its rows.
 */
export const MERGE_USAGE_ROLLUPS = `
with minutes as (
  insert into api_metrics_ts (time, endpoint, method, status_code, requests, total_ms, max_ms, request_bytes, response_bytes)
  select ${at('m.minute')}, m.endpoint, m.method, m.status, m.requests, m."totalMs", m."maxMs", m."requestBytes", m."responseBytes"
  from jsonb_to_recordset($1::text::jsonb) as m(minute bigint, endpoint text, method text, status smallint, requests bigint, "totalMs" double precision, "maxMs" real, "requestBytes" bigint, "responseBytes" bigint)
  on conflict (time, endpoint, method, status_code) do update set
    requests = api_metrics_ts.requests + excluded.requests,
    total_ms = api_metrics_ts.total_ms + excluded.total_ms,
    max_ms = greatest(api_metrics_ts.max_ms, excluded.max_ms),
    request_bytes = api_metrics_ts.request_bytes + excluded.request_bytes,
    response_bytes = api_metrics_ts.response_bytes + excluded.response_bytes
), days as (
  insert into client_usage_analytics (day, subject, client_id, requests, errors, rate_limited, total_ms, request_bytes, response_bytes)
  select ${at('d.day')}, d.subject, d."clientId", d.requests, d.errors, d."rateLimited", d."totalMs", d."requestBytes", d."responseBytes"
  from jsonb_to_recordset($2::text::jsonb) as d(day bigint, subject text, "clientId" text, requests bigint, errors bigint, "rateLimited" bigint, "totalMs" double precision, "requestBytes" bigint, "responseBytes" bigint)
  on conflict (subject, day) do update set
    client_id = coalesce(excluded.client_id, client_usage_analytics.client_id),
    requests = client_usage_analytics.requests + excluded.requests,
    errors = client_usage_analytics.errors + excluded.errors,
    rate_limited = client_usage_analytics.rate_limited + excluded.rate_limited,
    total_ms = client_usage_analytics.total_ms + excluded.total_ms,
    request_bytes = client_usage_analytics.request_bytes + excluded.request_bytes,
    response_bytes = client_usage_analytics.response_bytes + excluded.response_bytes
), subjects as (
  insert into subject_usage_minutes (time, subject, endpoint, method, status_code, requests, total_ms, request_bytes, response_bytes, last_time)
  select ${at('s.minute')}, s.subject, s.endpoint, s.method, s.status, s.requests, s."totalMs", s."requestBytes", s."responseBytes", ${at('s.last')}
  from jsonb_to_recordset($3::text::jsonb) as s(subject text, minute bigint, endpoint text, method text, status smallint, requests bigint, "totalMs" double precision, "requestBytes" bigint, "responseBytes" bigint, last bigint)
  on conflict (subject, time, endpoint, method, status_code) do update set
    requests = subject_usage_minutes.requests + excluded.requests,
    total_ms = subject_usage_minutes.total_ms + excluded.total_ms,
    request_bytes = subject_usage_minutes.request_bytes + excluded.request_bytes,
    response_bytes = subject_usage_minutes.response_bytes + excluded.response_bytes,
    last_time = greatest(subject_usage_minutes.last_time, excluded.last_time)
)
select 1`;

/**
 * A subject's usage from $2 to $3 (µs), per endpoint, method and status, to the minute: every
 * minute the range touches counts whole (the minute holding $2 included, the one starting at $3
 * not).
 */
export const USAGE_SUMMARY = `
select endpoint, method, status_code, sum(requests), sum(total_ms), sum(request_bytes), sum(response_bytes), (extract(epoch from max(last_time)) * 1000000)::bigint
from subject_usage_minutes
where subject = $1 and time >= date_trunc('minute', ${at('$2::bigint')}, 'UTC') and time < ${at('$3::bigint')}
group by endpoint, method, status_code order by endpoint, method, status_code`;

/**
 * A batch of the limiter's minute counts ($1, JSON text of RateBucketRecords: text, since postgres.js would encode a string given for jsonb as a JSON string) added into
 * each window that holds the minute. Grouped first: one INSERT … ON CONFLICT may touch a row once,
 * and several minutes of a batch fall in one hour. The limit is the newest minute's (a key's
 * override can change within a window).
 */
export const MERGE_RATE_BUCKETS = `
insert into rate_limit_buckets (subject, client_id, bucket, "window", window_start, "limit", allowed, refused)
select b.subject, max(b."clientId"), b.bucket, w.name, date_trunc(w.name, ${at('b.minute')}, 'UTC'),
  (array_agg(w.quota order by b.minute desc))[1], sum(b.allowed), sum(b.refused)
from jsonb_to_recordset($1::text::jsonb) as b(subject text, "clientId" text, bucket text, minute bigint, allowed bigint, refused bigint, "perMinute" bigint, "perHour" bigint, "perDay" bigint)
  cross join lateral (values ('minute', b."perMinute"), ('hour', b."perHour"), ('day', b."perDay")) as w(name, quota)
group by b.subject, b.bucket, w.name, 5
on conflict (subject, bucket, "window", window_start) do update set
  client_id = coalesce(excluded.client_id, rate_limit_buckets.client_id),
  "limit" = excluded."limit",
  allowed = rate_limit_buckets.allowed + excluded.allowed,
  refused = rate_limit_buckets.refused + excluded.refused`;

/** A subject's hour and day windows overlapping $2 to $3 (µs). */
export const RATE_BUCKETS_OF = `
select bucket, "window", (extract(epoch from window_start) * 1000000)::bigint, "limit", allowed, refused
from rate_limit_buckets
where subject = $1 and "window" in ('hour', 'day')
  and window_start < ${at('$3::bigint')} and window_start + case "window" when 'hour' then interval '1 hour' else interval '1 day' end > ${at('$2::bigint')}
order by "window" desc, window_start, bucket`;
