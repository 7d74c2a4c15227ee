import t from 'tap';
import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { PrimaryLease, defineFencedCommands, isFenced, leaseKeys } from '../../src/edge/primary-lease';
import { waitFor } from '../helpers/test-server';
import { REDIS_URL, redisReachable } from '../helpers/redis';

/** Long enough that a loaded machine renews in time; the lapses below are waited for, not timed. */
const LEASE_MS = 400;

t.test('the primary lease: one holder, renewal, a lapse taken over with a new epoch, and the old epoch fenced at Redis', async (t) => {
  if (!(await redisReachable())) {
    if (process.env.CI === 'true') throw new Error(`Redis at ${REDIS_URL} is required with CI=true`);
    t.comment('Redis is not running: skipped');
    return;
  }
  const prefix = `test:lease:${randomBytes(6).toString('hex')}`;
  const keys = leaseKeys(prefix);
  const stream = `${prefix}:input`;
  const checkpoint = `${prefix}:checkpoint`;
  const redis = defineFencedCommands(new Redis(REDIS_URL));
  t.teardown(async () => {
    await redis.unlink(keys.lease, keys.epoch, stream, checkpoint);
    redis.disconnect();
  });
  const a = new PrimaryLease(REDIS_URL, keys, LEASE_MS);
  const b = new PrimaryLease(REDIS_URL, keys, LEASE_MS);
  t.teardown(() => {
    a.close();
    b.close();
  });

  t.equal(await b.currentEpoch(), 0, 'no epoch before anyone held the lease');
  const first = await a.acquire();
  t.equal(first, 1, 'the first holder takes epoch 1');
  t.equal(a.role, 'primary');
  t.equal(await b.acquire(), 0, 'a second process cannot take a held lease');
  t.equal(b.role, 'standby');

  let aFenced = 0;
  a.hold(() => aFenced++);
  await waitFor('three renewals', () => a.renewals >= 3, 30_000);
  t.equal(await redis.get(keys.lease), `1:${a.holder}`, 'renewals keep the lease under the same epoch and holder');
  t.equal(await b.acquire(), 0, 'still held while renewed');

  // Writes through the fenced scripts pass while the epoch is the writer's.
  await redis.bookcastFencedXadd(keys.epoch, stream, '1', '1-0', 'r', 'x');
  await redis.bookcastFencedReplaceHash(keys.epoch, checkpoint, '1', 'sequence', '1');
  t.equal(await redis.xlen(stream), 1, 'the holder of the current epoch appends');

  // The primary stops renewing (its process is gone): the standby takes the lease once it lapses.
  a.close();
  let promotedTo = 0;
  b.watch((epoch) => (promotedTo = epoch));
  await waitFor('the standby to take the lapsed lease', () => promotedTo > 0, 30_000);
  t.equal(promotedTo, 2, 'taking the lease bumps the epoch');
  t.equal(b.role, 'primary');
  t.equal(b.epoch, 2);
  t.equal(await redis.get(keys.epoch), '2');

  const refused = await redis.bookcastFencedXadd(keys.epoch, stream, '1', '2-0', 'r', 'late').then(() => null, (err: Error) => err);
  t.ok(refused !== null && isFenced(refused), `the old epoch's append is refused by Redis: ${refused?.message}`);
  const refusedHash = await redis.bookcastFencedReplaceHash(keys.epoch, checkpoint, '1', 'sequence', '99').then(() => null, (err: Error) => err);
  t.ok(refusedHash !== null && isFenced(refusedHash), "and so is its checkpoint");
  t.equal(await redis.xlen(stream), 1, 'nothing of the old epoch reached the stream');
  t.equal(await redis.hget(checkpoint, 'sequence'), '1', 'nor the checkpoint');
  await redis.bookcastFencedXadd(keys.epoch, stream, '2', '2-0', 'r', 'new');
  t.equal(await redis.xlen(stream), 2, 'the new epoch appends');
  t.equal(aFenced, 0, 'a closed holder hears nothing');
});

t.test('a holder that renews after its lease was taken is fenced; one whose lapsed lease nobody took keeps it', async (t) => {
  if (!(await redisReachable())) {
    if (process.env.CI === 'true') throw new Error(`Redis at ${REDIS_URL} is required with CI=true`);
    return;
  }
  const prefix = `test:lease:${randomBytes(6).toString('hex')}`;
  const keys = leaseKeys(prefix);
  const redis = new Redis(REDIS_URL);
  t.teardown(async () => {
    await redis.unlink(keys.lease, keys.epoch);
    redis.disconnect();
  });
  const paused = new PrimaryLease(REDIS_URL, keys, LEASE_MS);
  const standby = new PrimaryLease(REDIS_URL, keys, LEASE_MS);
  t.teardown(() => {
    paused.close();
    standby.close();
  });

  // Nobody took it: the renewal takes it back under the same epoch (nobody else wrote meanwhile).
  t.equal(await paused.acquire(), 1);
  await waitFor('the lease to lapse', async () => (await redis.exists(keys.lease)) === 0, 30_000);
  let fenced = 0;
  paused.hold(() => fenced++);
  await waitFor('a renewal', () => paused.renewals >= 1, 30_000);
  t.equal(paused.role, 'primary', 'a lapsed lease that nobody took is renewed');
  t.equal(await redis.get(keys.lease), `1:${paused.holder}`, 'under the same epoch');
  t.equal(fenced, 0);

  // Someone took it while this holder was paused (simulated: the key is taken over directly).
  await redis.set(keys.epoch, '2');
  await redis.set(keys.lease, `2:${standby.holder}`, 'PX', 60_000);
  await waitFor('the paused holder to find itself fenced', () => fenced === 1, 30_000);
  t.equal(paused.role, 'fenced', 'its role says so');
  t.equal((paused.health() as { role: string }).role, 'fenced', 'and health shows it');
  t.equal(await redis.get(keys.lease), `2:${standby.holder}`, 'the new holder keeps the lease');
});
