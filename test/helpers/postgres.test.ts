import t from 'tap';
import { freshDatabase, POSTGRES_ADMIN_URL } from './postgres';

t.test('a refused connection skips (outside CI) or fails (CI=true)', async (t) => {
  const attempt = freshDatabase('refused', 'postgres://postgres@127.0.0.1:1/postgres');
  if (process.env.CI === 'true') await t.rejects(attempt, /required with CI=true/);
  else t.equal(await attempt, null);
});

t.test('a server that answers but cannot create the database is a failure, not a skip', async (t) => {
  const probe = await freshDatabase('probe');
  if (probe === null) {
    t.plan(0, `PostgreSQL unreachable at ${POSTGRES_ADMIN_URL} (set BOOKCAST_TEST_POSTGRES; with CI=true this fails)`);
    return;
  }
  await probe.drop();
  // The name makes `create database` a syntax error: the server is there, the request is wrong.
  await t.rejects(freshDatabase('not a name'), /creating a test database on .* failed/);
  await t.rejects(freshDatabase('login', POSTGRES_ADMIN_URL.replace('postgres@', 'no_such_role_bookcast@')), /failed/, 'a refused login too');
});
