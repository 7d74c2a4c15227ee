import { type Config, isLive } from '../config';
import { BookcastError } from '../errors';
import type { Instrument } from '../model/instruments';
import type { WorkerPool } from '../engine/worker-pool';
import { readIngestSession } from '../source/ingest-session-file';
import type { IngestGateway } from '../gateway/ingest-gateway';
import { InputPublisher } from '../edge/input-publisher';
import { PrimaryLease, leaseKeys } from '../edge/primary-lease';
import { replicationKeys } from '../edge/replication-format';
import { followerHealth } from '../edge/replication-status';
import { log } from '../util/log';

export interface Replication {
  readonly publisher: InputPublisher | null;
  readonly lease: PrimaryLease | null;
  /** The replication section of health, or null when this process neither publishes nor follows. */
  readonly health: (() => Record<string, unknown>) | null;
  /** After the journal is in the books: a primary takes the lease and publishes; a standby starts watching the lease. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The primary's side of replication (src/edge/) and, with --lease-ms, who is primary: a live
 * primary takes the lease at start (waiting up to two lease times for one that lapses), renews it,
 * and fences every write to the stream with its epoch; a standby follows, refuses publishers with
 * NOT_PRIMARY and, when the lease lapses, takes it, has its source apply the stream to its end
 * (`promote`) and from then on is the primary. A primary that finds its lease taken refuses and
 * acks nothing more (PRIMARY_FENCED).
 */
export function buildReplication(
  config: Config,
  instruments: readonly Instrument[],
  pool: WorkerPool,
  sourceStats: Float64Array,
  journalDir: string,
  ingest: IngestGateway,
  promote: () => void,
): Replication {
  const standby = config.source.kind === 'standby';
  const publishes = config.redisUrl !== undefined && (standby || isLive(config.source));
  const lease = publishes && config.leaseMs > 0 ? new PrimaryLease(config.redisUrl!, leaseKeys(config.replicationPrefix), config.leaseMs) : null;
  const takesPublishers = config.source.kind === 'ingest' || standby;
  const publisher = publishes
    ? new InputPublisher({
        redisUrl: config.redisUrl!,
        keys: replicationKeys(config.replicationPrefix),
        journalDir,
        sourceStats,
        retention: config.replicationRetention,
        meta: {
          instruments: instruments.map(({ symbol, base, quote, tickSize, lotSize, minOrderSize, status }) => ({ symbol, base, quote, tickSize, lotSize, minOrderSize, status })),
          workers: pool.channels.length,
        },
        restoredFrom: pool.checkpoints?.restoredFrom ?? null,
        lease,
        session: takesPublishers ? () => readIngestSession(journalDir) : null,
      })
    : null;
  if (publisher !== null && pool.checkpoints !== null) pool.checkpoints.onCompleted = (checkpoint) => publisher.checkpointCompleted(checkpoint);
  // Under a lease an ack also waits for the stream: what a standby applies is all it will hold.
  if (lease !== null && publisher !== null) {
    ingest.replicatedThrough = () => publisher.publishedThrough;
    // The front loop sends acks when woken: the stream taking a batch is a reason, as the journal's sync is.
    publisher.onPublished = () => pool.frontDoorbell.ring();
  }
  const fenced = (): void => ingest.refuseWith('PRIMARY_FENCED');

  const health = (): Record<string, unknown> => {
    const following = standby && lease?.role === 'standby';
    return {
      ...(following ? followerHealth(sourceStats) : publisher!.health()),
      ...(lease === null ? {} : { lease: lease.health() }),
    };
  };

  return {
    publisher,
    lease,
    health: publisher === null ? null : health,
    async start() {
      if (lease === null) {
        publisher?.start();
        return;
      }
      if (standby) {
        if ((await lease.currentEpoch()) === 0) {
          throw new BookcastError('CONFIG_INVALID', `no primary holds a lease under ${config.replicationPrefix}: start the primary with --lease-ms (the standby's is ${config.leaseMs})`);
        }
        ingest.refuseWith('NOT_PRIMARY');
        lease.watch(() => {
          promote();
          publisher!.start();
          lease.hold(fenced);
        });
        return;
      }
      const giveUpAt = Date.now() + 2 * config.leaseMs;
      while ((await lease.acquire()) === 0) {
        if (Date.now() > giveUpAt) throw new BookcastError('NOT_PRIMARY', `another process holds the primary lease under ${config.replicationPrefix} (epoch ${await lease.currentEpoch()}): start this one as \`bookcast standby\`, or stop the other`);
        await new Promise((resolve) => setTimeout(resolve, Math.max(10, config.leaseMs / 10)));
      }
      log.info({ epoch: lease.epoch }, `primary lease taken (epoch ${lease.epoch})`);
      lease.hold(fenced);
      publisher!.start();
    },
    async stop() {
      lease?.close();
      await publisher?.stop();
    },
  };
}
