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
