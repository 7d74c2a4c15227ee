import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import { pgliteClient } from '../../src/store/pglite-store';
import type { SqlClient } from '../../src/store/sql-client';
import { sqlRelayClient } from '../../src/store/sql-relay';
import { serveSqlRelay } from '../../src/store/sql-relay-server';
import { seedPglite } from '../helpers/pglite-template';

/** A real PGlite served over a real MessageChannel: the relay exactly as the persistence worker runs it, one thread here. */
async function relayed(t: any, txTimeoutMs?: number): Promise<{ relay: SqlClient; direct: SqlClient }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bookcast-relay-'));
  await seedPglite(path.join(dir, 'pglite'));
  const direct = pgliteClient(await PGlite.create(path.join(dir, 'pglite')));
  const channel = new MessageChannel();
  serveSqlRelay(channel.port2, async () => direct, txTimeoutMs);
  const relay = sqlRelayClient(channel.port1);
  t.teardown(async () => {
    await relay.close();
    channel.port2.close();
    await direct.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await direct.exec('create table relay_t (id integer primary key, at timestamptz, bytes bytea, tags text[], doc jsonb)');
  return { relay, direct };
}

t.test('statements cross with their values intact: timestamps, bytes, arrays, JSON, nulls', async (t) => {
  const { relay } = await relayed(t);
  const at = new Date('2026-01-02T03:04:05.678Z');
  const bytes = new Uint8Array([0, 1, 254, 255]);
  await relay.rows('insert into relay_t values ($1, $2, $3, $4, $5)', [1, at, bytes, ['l1', 'l2'], { perSecond: 5 }]);
  await relay.rows('insert into relay_t values ($1, $2, $3, $4, $5)', [2, null, null, null, null]);
  const rows = await relay.rows('select id, at, bytes, tags, doc from relay_t order by id', []);
  t.same(rows[0], [1, at, bytes, ['l1', 'l2'], { perSecond: 5 }]);
  t.ok(rows[0][1] instanceof Date && rows[0][2] instanceof Uint8Array, 'a Date and a Uint8Array, not their JSON');
  t.same(rows[1], [2, null, null, null, null]);
  await relay.exec('update relay_t set tags = array[\'x\']; update relay_t set id = id + 10');
  t.same((await relay.rows('select id from relay_t order by id', [])).map((r) => r[0]), [11, 12], 'exec runs several statements');
});

t.test('a database refusal keeps its SQLSTATE, so callers can tell a unique violation', async (t) => {
  const { relay } = await relayed(t);
  await relay.rows('insert into relay_t (id) values (1)', []);
  await t.rejects(relay.rows('insert into relay_t (id) values (1)', []), { code: '23505' });
  await t.rejects(relay.rows('select * from no_such_table', []), { code: '42P01' });
});

t.test('transactions commit when their function resolves and roll back when it throws', async (t) => {
  const { relay, direct } = await relayed(t);
  const answer = await relay.transaction(async (tx) => {
    await tx.rows('insert into relay_t (id) values (1)', []);
    return (await tx.rows('select count(*)::integer from relay_t', []))[0][0];
  });
  t.equal(answer, 1, 'the transaction sees its own row and returns its value');
  await t.rejects(
    relay.transaction(async (tx) => {
      await tx.rows('insert into relay_t (id) values (2)', []);
      throw new Error('changed my mind');
    }),
    /changed my mind/,
  );
  t.same(await direct.rows('select id from relay_t', []), [[1]], 'the first committed, the second left nothing');
  await t.rejects(relay.transaction((tx) => tx.transaction(async () => 1)), /do not nest/);
  t.same(await direct.rows('select id from relay_t', []), [[1]]);
});

t.test('COPY crosses the relay', async (t) => {
  const { relay, direct } = await relayed(t);
  await relay.copyFrom('relay_t (id, tags)', 'text', Buffer.from('7\t{a,b}\n8\t\\N\n'));
  t.same(await direct.rows('select id, tags from relay_t order by id', []), [[7, ['a', 'b']], [8, null]]);
});

t.test('a transaction left open past the timeout is rolled back, and its commit is refused', async (t) => {
  const { relay, direct } = await relayed(t, 200);
  await t.rejects(
    relay.transaction(async (tx) => {
      await tx.rows('insert into relay_t (id) values (1)', []);
      // A statement outside the transaction runs only once PGlite is free of it: after the rollback.
      await relay.rows('select 1', []);
    }),
    /no open transaction/,
  );
  t.same(await direct.rows('select count(*)::integer from relay_t', []), [[0]], 'nothing of it stayed');
  t.same(await relay.rows('select 2', []), [[2]], 'the store serves on');
});

t.test('a closed relay refuses with a coded error', async (t) => {
  const { relay } = await relayed(t);
  await relay.close();
  await t.rejects(relay.rows('select 1', []), { code: 'STORE_UNAVAILABLE' });
});
