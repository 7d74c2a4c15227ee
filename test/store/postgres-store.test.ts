import t from 'tap';
import { openStore } from '../../src/store/open-store';
import { connectPostgres, openPostgresStore, postgresClient } from '../../src/store/postgres-store';
import { freshDatabase, POSTGRES_ADMIN_URL } from '../helpers/postgres';
import { serverFlavor, storeChecks, upgradeChecks } from './store-checks';

t.test('PostgreSQL store (native partitioning, or TimescaleDB where the server has it)', async (t) => {
  const database = await freshDatabase('store');
  if (database === null) {
    t.plan(0, `PostgreSQL unreachable at ${POSTGRES_ADMIN_URL} (set BOOKCAST_TEST_POSTGRES; with CI=true this fails)`);
    return;
  }
  t.teardown(() => database.drop());
  const raw = postgresClient(connectPostgres(database.url, { max: 1 }));
  t.teardown(() => raw.close());
  const flavor = await serverFlavor(raw, 'postgres');
  const store = await openStore({ databaseUrl: database.url, dataDir: '/nonexistent' });
  t.teardown(() => store.close());
  t.equal(store.kind, flavor === 'timescale' ? 'timescale' : 'postgres', `the server's flavor: ${flavor}`);
  await storeChecks(t, store, raw);
});

t.test('PostgreSQL store made by an older schema upgrades in place', async (t) => {
  const database = await freshDatabase('upgrade');
  if (database === null) {
    t.plan(0, `PostgreSQL unreachable at ${POSTGRES_ADMIN_URL} (set BOOKCAST_TEST_POSTGRES; with CI=true this fails)`);
    return;
  }
  t.teardown(() => database.drop());
  const raw = postgresClient(connectPostgres(database.url, { max: 1 }));
  t.teardown(() => raw.close());
  await upgradeChecks(t, raw, 'postgres');
});

t.test('an unreachable server rejects with the socket error instead of hanging', async (t) => {
  const error = await openPostgresStore('postgres://postgres@127.0.0.1:1/none', { connectTimeout: 2 }).then(
    () => null,
    (e: { code?: string }) => e,
  );
  t.equal(error?.code, 'ECONNREFUSED');
});
