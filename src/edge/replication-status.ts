import { Gauge, Registry } from 'prom-client';
import { FOLLOW_APPLIED, FOLLOW_APPLIED_AT, FOLLOW_CONNECTED, FOLLOW_HEAD, FOLLOW_LAG_MS } from '../model/source-words';
import type { InputPublisher } from './input-publisher';
import type { PrimaryLease } from './primary-lease';

/** An edge that has applied nothing for this long while the stream was silent or Redis away says `stale`. */
const STALE_MS = 3_000;

/** A follower's position as /api/v1/health shows it (the source thread's words). */
export function followerHealth(stats: Float64Array): Record<string, unknown> {
  const head = stats[FOLLOW_HEAD];
  const appliedAt = stats[FOLLOW_APPLIED_AT];
  const connected = stats[FOLLOW_CONNECTED] === 1;
  const behind = Math.max(0, head - stats[FOLLOW_APPLIED]);
  return {
    applied_through: stats[FOLLOW_APPLIED],
    primary_published_through: head,
    lag_records: behind,
    lag_ms: stats[FOLLOW_LAG_MS],
    last_applied_at: appliedAt === 0 ? null : new Date(appliedAt).toISOString(),
    connected,
    stale: !connected || (behind > 0 && Date.now() - appliedAt > STALE_MS),
  };
}

function gauge(registry: Registry, name: string, help: string, read: () => number): void {
  new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      this.set(read());
    },
  });
}

/** The replication families of /metrics: a follower's lag, or a primary's published position, and the lease. */
export function registerReplicationMetrics(registry: Registry, follower: Float64Array | null, publisher: InputPublisher | null, lease: PrimaryLease | null): void {
  if (lease !== null) {
    gauge(registry, 'bookcast_lease_primary', '1 while this process holds the primary lease (0: a standby, or a fenced primary)', () => (lease.role === 'primary' ? 1 : 0));
    gauge(registry, 'bookcast_lease_fenced', '1 once another process took the lease from this one', () => (lease.role === 'fenced' ? 1 : 0));
    gauge(registry, 'bookcast_lease_epoch', 'Fencing epoch this process holds (0 before it ever held the lease)', () => lease.epoch);
  }
  if (follower !== null) {
    gauge(registry, 'bookcast_follower_applied_sequence', "Last primary journal record this edge applied", () => follower[FOLLOW_APPLIED]);
    gauge(registry, 'bookcast_follower_lag_records', "Journal records the primary published that this edge has not applied yet", () => Math.max(0, follower[FOLLOW_HEAD] - follower[FOLLOW_APPLIED]));
    gauge(registry, 'bookcast_follower_lag_seconds', "From the primary's publication of the last applied entry to its application here", () => follower[FOLLOW_LAG_MS] / 1000);
    gauge(registry, 'bookcast_follower_connected', '1 while the Redis of the replication stream answers', () => follower[FOLLOW_CONNECTED]);
  }
  if (publisher !== null) {
    gauge(registry, 'bookcast_replication_published_sequence', 'Last journal record published to the replication stream', () => publisher.publishedThrough);
    gauge(registry, 'bookcast_replication_connected', '1 while the Redis of the replication stream answers', () => (publisher.connected ? 1 : 0));
  }
}
