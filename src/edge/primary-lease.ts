import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { BookcastError } from '../errors';
import { log } from '../util/log';

/** How long the first lease command waits for Redis at start-up. */
const CONNECT_TIMEOUT_MS = 5_000;

/**
 * Who is primary, decided in Redis (issue 12). Two keys beside the replication stream:
 *
 *   <prefix>:lease   "<epoch>:<holder>" with a PX expiry of --lease-ms; the primary renews it every
 *                    lease-ms / 4, so three renewals in a row may be lost to a busy loop first
 *   <prefix>:epoch   the fencing epoch, an integer that only ever grows (never expires)
 *
 * Every write a primary makes to what followers read (stream entries, the checkpoint) goes through
 * a script that first compares the writer's epoch with <prefix>:epoch, atomically with the write:
 * a process that lost the lease while it was paused or cut off has its late writes refused by
 * Redis itself, whatever it believes (Kleppmann's fencing token, with Redis as the storage that
 * checks it). A standby that takes a lapsed lease bumps the epoch in the same script, so from that
 * instant no entry of the old primary can reach the stream.
 */

/** KEYS lease, epoch; ARGV holder, ms. Returns the epoch taken, or 0 while another holds it. */
const ACQUIRE_LUA = `
local held = redis.call('GET', KEYS[1])
if held then return 0 end
local epoch = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], epoch .. ':' .. ARGV[1], 'PX', ARGV[2])
return epoch
`;

/**
 * KEYS lease, epoch; ARGV holder, epoch, ms. 1: still ours (renewed, or taken again: it had lapsed
 * and nobody bumped the epoch since, so nothing was written by anyone else meanwhile); 0: fenced.
 */
const RENEW_LUA = `
local mine = ARGV[2] .. ':' .. ARGV[1]
local held = redis.call('GET', KEYS[1])
if held == mine then redis.call('PEXPIRE', KEYS[1], ARGV[3]) return 1 end
if held == false and redis.call('GET', KEYS[2]) == ARGV[2] then
  redis.call('SET', KEYS[1], mine, 'PX', ARGV[3])
  return 1
end
return 0
`;

/** KEYS epoch, stream; ARGV epoch, then XADD's arguments. */
const FENCED_XADD_LUA = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return redis.error_reply('PRIMARY_FENCED epoch ' .. ARGV[1] .. ' is no longer the primary') end
return redis.call('XADD', KEYS[2], unpack(ARGV, 2))
`;

/** KEYS epoch, checkpoint hash; ARGV epoch, then field, value, … (the whole hash, replaced). */
const FENCED_REPLACE_HASH_LUA = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return redis.error_reply('PRIMARY_FENCED epoch ' .. ARGV[1] .. ' is no longer the primary') end
redis.call('DEL', KEYS[2])
return redis.call('HSET', KEYS[2], unpack(ARGV, 2))
`;

export interface LeaseKeys {
  lease: string;
  epoch: string;
}

export function leaseKeys(prefix: string): LeaseKeys {
  return { lease: `${prefix}:lease`, epoch: `${prefix}:epoch` };
}

/** The fenced commands, defined on a connection (the publisher's), so writes and checks are one script each. */
interface FencedRedis {
  bookcastFencedXadd(epochKey: string, stream: string, epoch: string, ...args: (string | Buffer)[]): Promise<string>;
  bookcastFencedReplaceHash(epochKey: string, hash: string, epoch: string, ...fields: (string | Buffer)[]): Promise<number>;
}

export function defineFencedCommands(redis: Redis): Redis & FencedRedis {
  redis.defineCommand('bookcastFencedXadd', { numberOfKeys: 2, lua: FENCED_XADD_LUA });
  redis.defineCommand('bookcastFencedReplaceHash', { numberOfKeys: 2, lua: FENCED_REPLACE_HASH_LUA });
  return redis as Redis & FencedRedis;
}

/** True for the refusal the fenced scripts answer with. */
export function isFenced(err: unknown): boolean {
  return String((err as Error)?.message ?? err).startsWith('PRIMARY_FENCED');
}

export type LeaseRole = 'standby' | 'primary' | 'fenced';

interface LeaseCommands {
  bookcastLeaseAcquire(lease: string, epochKey: string, holder: string, ms: number): Promise<number>;
  bookcastLeaseRenew(lease: string, epochKey: string, holder: string, epoch: number, ms: number): Promise<number>;
}

/**
 * One process's side of the lease: `acquire` once (a primary at start-up), `hold` (renew until
 * fenced), `watch` (a standby: take it as soon as it lapses). The role and epoch are what health
 * and /metrics show.
 */
export class PrimaryLease {
  readonly holder = `${process.pid}-${randomBytes(4).toString('hex')}`;
  role: LeaseRole = 'standby';
  epoch = 0;
  renewedAt = 0;
  promotedAt = 0;
  renewals = 0;
  private readonly redis: Redis & LeaseCommands;
  private timer: NodeJS.Timeout | null = null;
  private busy = false;
  private onFenced: () => void = () => undefined;

  constructor(
    redisUrl: string,
    readonly keys: LeaseKeys,
    readonly leaseMs: number,
  ) {
    // Commands fail at once while Redis is away: a renewal that cannot reach Redis is simply not
    // made, and the lease lapses on its own clock, which is the point.
    const redis = new Redis(redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => 100 });
    redis.on('error', () => undefined);
    redis.defineCommand('bookcastLeaseAcquire', { numberOfKeys: 2, lua: ACQUIRE_LUA });
    redis.defineCommand('bookcastLeaseRenew', { numberOfKeys: 2, lua: RENEW_LUA });
    this.redis = redis as Redis & LeaseCommands;
  }

  /** Takes the lease if nobody holds it; returns the new epoch, or 0. */
  async acquire(): Promise<number> {
    await this.connected();
    const epoch = Number(await this.redis.bookcastLeaseAcquire(this.keys.lease, this.keys.epoch, this.holder, this.leaseMs));
    if (epoch > 0) {
      this.epoch = epoch;
      this.role = 'primary';
      this.promotedAt = this.renewedAt = Date.now();
    }
    return epoch;
  }

  /** The epoch Redis holds now (0: no primary ever held a lease under these keys). */
  async currentEpoch(): Promise<number> {
    await this.connected();
    return Number((await this.redis.get(this.keys.epoch)) ?? 0);
  }

  /** At start-up, the first command waits for the connection (there is no offline queue), a few seconds at most. */
  private async connected(): Promise<void> {
    if (this.redis.status === 'ready') return;
    let timer: NodeJS.Timeout | undefined;
    let onReady = (): void => undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        onReady = resolve;
        this.redis.once('ready', onReady);
        timer = setTimeout(() => reject(new BookcastError('REPLICATION_UNAVAILABLE', `the lease's Redis did not answer within ${CONNECT_TIMEOUT_MS} ms`)), CONNECT_TIMEOUT_MS);
      });
    } finally {
      clearTimeout(timer);
      this.redis.off('ready', onReady);
    }
  }

  /** Renews every leaseMs / 4 until the lease is found taken: then `fenced` is called once. */
  hold(fenced: () => void): void {
    this.onFenced = fenced;
    const every = Math.max(1, Math.floor(this.leaseMs / 4));
    // A promoted standby's watch ends here.
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = setInterval(() => {
      if (this.busy || this.role !== 'primary') return;
      this.busy = true;
      this.redis
        .bookcastLeaseRenew(this.keys.lease, this.keys.epoch, this.holder, this.epoch, this.leaseMs)
        .then(
          (held) => {
            if (Number(held) === 1) {
              this.renewedAt = Date.now();
              this.renewals++;
            } else this.fence();
          },
          // Redis away: no renewal; whoever reaches Redis after the lapse decides.
          () => undefined,
        )
        .finally(() => (this.busy = false));
    }, every);
  }

  /** A write was refused as fenced, or a renewal found the lease taken: this process is primary no more. */
  fence(): void {
    if (this.role !== 'primary') return;
    this.role = 'fenced';
    log.error({ code: 'PRIMARY_FENCED', epoch: this.epoch }, `the primary lease was taken by another process (this one held epoch ${this.epoch}): no more acks, no more writes to the stream`);
    this.onFenced();
  }

  /** A standby: tries to take the lease every leaseMs / 10 (at least 10 ms); `promoted` once it has. */
  watch(promoted: (epoch: number) => void): void {
    const every = Math.max(10, Math.floor(this.leaseMs / 10));
    this.timer = setInterval(() => {
      if (this.busy || this.role !== 'standby' || this.redis.status !== 'ready') return;
      this.busy = true;
      this.acquire()
        .then(
          (epoch) => {
            if (epoch > 0) {
              log.warn({ epoch }, `the primary's lease lapsed: this standby took it (epoch ${epoch}) and promotes itself`);
              promoted(epoch);
            }
          },
          () => undefined,
        )
        .finally(() => (this.busy = false));
    }, every);
  }

  health(): Record<string, unknown> {
    return {
      role: this.role,
      epoch: this.epoch,
      holder: this.holder,
      lease_ms: this.leaseMs,
      renewed_at: this.renewedAt === 0 ? null : new Date(this.renewedAt).toISOString(),
      promoted_at: this.promotedAt === 0 ? null : new Date(this.promotedAt).toISOString(),
    };
  }

  close(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.redis.disconnect();
  }
}
