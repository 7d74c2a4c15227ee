import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import t from 'tap';
import { runMigrations } from '../../src/store/migrations';
import { MIGRATIONS } from '../../src/store/schema';
import { openStore } from '../../src/store/open-store';
import { pgliteClient } from '../../src/store/pglite-store';
import { SqlStore } from '../../src/store/sql-store';
import { storeChecks, trade, upgradeChecks } from './store-checks';

const dir = mkdtempSync(join(tmpdir(), 'bookcast-pglite-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

t.test('PGlite store', async (t) => {
  // One PGlite instance serves both the store and the raw checks: a data directory has one owner.
  const db = await PGlite.create(join(dir, 'checks'));
  const raw = pgliteClient(db);
  t.equal(await runMigrations(raw, 'partitioned'), MIGRATIONS.length, 'first start applies the schema');
  const store = new SqlStore(raw, 'pglite', 'partitioned');
  await store.migrate();
  await storeChecks(t, store, raw);
  await store.close();
});

t.test('PGlite store made by an older schema upgrades in place', async (t) => {
  const db = await PGlite.create(join(dir, 'upgrade'));
  t.teardown(() => db.close());
  await upgradeChecks(t, pgliteClient(db), 'pglite');
});

t.test('openStore keeps PGlite data in <dataDir>/pglite across restarts', async (t) => {
  const dataDir = join(dir, 'data');
  const first = await openStore({ dataDir });
  t.equal(first.kind, 'pglite');
  await first.writeTrades([trade('KEEP-1', 1, 1_700_000_000_000_001)]);
  await first.close();
  const second = await openStore({ dataDir });
  t.same(await second.trades('KEEP-1', 0, Number.MAX_SAFE_INTEGER, 10, 0), [trade('KEEP-1', 1, 1_700_000_000_000_001)]);
  await second.close();
});

t.test('a timer fires between statements that PGlite settles without the event loop', async (t) => {
  const db = await PGlite.create();
  t.teardown(() => db.close());
  const raw = pgliteClient(db);
  const order: string[] = [];
  // Each statement starts when the one before settles, as a queue of reads runs, and takes a few
  // ms of the thread: a timer set after the first is due once the second has run.
  const statement = (i: number) => raw.rows('select count(*) from generate_series(1, 200000)', []).then(() => void order.push(`statement ${i}`));
  await statement(1);
  setTimeout(() => order.push('timer'), 1);
  for (let i = 2; i <= 4; i++) await statement(i);
  t.ok(order.indexOf('timer') !== -1 && order.indexOf('timer') < order.length - 1, `the timer ran before the last statement (${order.join(', ')})`);
});
