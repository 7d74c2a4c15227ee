import { migrationLedger } from './migrations';
import type { Migration } from './schema';

/**
 * The access-control tables, in their own ledger (auth_migrations) so they are numbered apart
 * from the market-data schema. The same SQL serves PGlite and PostgreSQL (with or without
 * TimescaleDB: these are small, row-at-a-time tables).
 *
 * - api_clients / api_keys: the specification's columns and indexes, plus `tier` (the client's
 *   tier, tiers.ts) and the login-failure counters of the password grant. Keys are found by
 *   key_id (the public part of the key), and key_hash is unique so no two keys ever share one.
 * - refresh_tokens: opaque tokens stored as SHA-256 (they are 256-bit random: a plain hash is
 *   enough), chained into families; a spent one is kept (used_at) so its reuse is recognised.
 * - signing_keys: Ed25519 key pairs for access tokens, the private half sealed with the server
 *   secret; every process signs with the newest and verifies with any not retired.
 * - audit_log: append-only (a trigger refuses UPDATE and DELETE), each row hashing the one before.
 *   Times are integer µs and the detail is JSON text, so a row hashes the same when read back.
 */
const AUTH_TABLES = `
create table api_clients (
  client_id text primary key,
  client_secret_hash text,
  name text not null,
  client_type text not null check (client_type in ('internal', 'external', 'partner')),
  tier text not null,
  permissions text[] not null,
  rate_limit jsonb,
  status text not null default 'active' check (status in ('active', 'suspended', 'inactive')),
  failed_logins integer not null default 0,
  retry_after timestamptz,
  locked boolean not null default false,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  last_activity timestamptz
);
create index api_clients_status_idx on api_clients (status);
create index api_clients_type_idx on api_clients (client_type);
create unique index api_clients_name_idx on api_clients (name);

create table api_keys (
  key_id text primary key,
  key_hash bytea not null unique,
  client_id text not null references api_clients (client_id),
  name text not null,
  permissions text[] not null,
  rate_limit jsonb,
  expires_at timestamptz,
  status text not null default 'active' check (status in ('active', 'revoked')),
  created_at timestamptz not null default now(),
  last_used timestamptz
);
create index api_keys_client_idx on api_keys (client_id);
create index api_keys_status_idx on api_keys (status);
create index api_keys_expires_idx on api_keys (expires_at) where expires_at is not null;

create table refresh_tokens (
  token_hash bytea primary key,
  family_id text not null,
  client_id text not null references api_clients (client_id),
  key_id text references api_keys (key_id),
  scope text[] not null,
  expires_at timestamptz not null,
  used_at timestamptz,
  revoked_at timestamptz,
  created_at timestamptz not null default now()
);
create index refresh_tokens_family_idx on refresh_tokens (family_id);
create index refresh_tokens_client_idx on refresh_tokens (client_id);

create table signing_keys (
  kid text primary key,
  public_jwk text not null,
  private_sealed bytea not null,
  created_at timestamptz not null default now(),
  retired_at timestamptz
);

create table audit_log (
  seq bigint primary key,
  at_us bigint not null,
  actor text not null,
  action text not null,
  subject text,
  ip text,
  detail text not null,
  prev_hash bytea not null,
  hash bytea not null
);
create index audit_log_subject_idx on audit_log (subject, seq);

create function audit_log_append_only() returns trigger language plpgsql as $$
begin
  raise exception 'audit_log is append-only';
end $$;
create trigger audit_log_append_only before update or delete on audit_log
  for each row execute function audit_log_append_only();
`;

/** Failed password logins per client address (address-guard.ts). */
const LOGIN_FAILURES = `
create table login_failures (
  ip text primary key,
  failures integer not null,
  last_failure timestamptz not null,
  retry_after timestamptz,
  locked_until timestamptz
);
`;

export const AUTH_MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'clients, keys, refresh tokens, signing keys, audit log', sql: { partitioned: AUTH_TABLES, timescale: AUTH_TABLES } },
  { version: 2, name: 'failed logins per address', sql: { partitioned: LOGIN_FAILURES, timescale: LOGIN_FAILURES } },
];

export const AUTH_LEDGER = migrationLedger('auth_migrations', 0x61757468); // 'auth'
