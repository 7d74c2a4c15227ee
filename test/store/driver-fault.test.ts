import t from 'tap';
import type { Writable } from 'node:stream';
import { isDriverFault } from '../../src/store/driver-fault';
import { connectPostgres } from '../../src/store/postgres-store';
import { freshDatabase, POSTGRES_ADMIN_URL } from '../helpers/postgres';
import { waitFor } from '../helpers/test-server';

t.test("postgres.js writing to a connection it has dropped is told apart from the worker's own faults", async (t) => {
  const database = await freshDatabase('driver_fault');
  if (database === null) {
    t.plan(0, `PostgreSQL unreachable at ${POSTGRES_ADMIN_URL} (set BOOKCAST_TEST_POSTGRES; with CI=true this fails)`);
    return;
  }
  t.teardown(() => database.drop());
  const sql = connectPostgres(database.url, { max: 1 });
  t.teardown(() => sql.end({ timeout: 1 }));
  const admin = connectPostgres(database.url, { max: 1 });
  t.teardown(() => admin.end({ timeout: 1 }));
  await sql`create table copied (x int)`;
  const [{ pid }] = await sql`select pg_backend_pid() as pid`;
  // A COPY under way when the server ends the connection, as a database going away does.
  const stream = (await sql`copy copied from stdin`.writable()) as Writable & { _write(chunk: Buffer, encoding: string, done: () => void): void };
  stream.on('error', () => undefined);
  await admin`select pg_terminate_backend(${pid})`;
  // Once the driver has handled the close, its socket is null and the COPY's own write throws,
  // as it did from a callback in the persistence worker (where nothing caught it).
  let fault: unknown = null;
  await waitFor('the driver to drop the connection', () => {
    try {
      stream._write(Buffer.from('1\n'), 'utf8', () => undefined);
      return false;
    } catch (err) {
      fault = err;
      return true;
    }
  });
  t.match(fault, { name: 'TypeError', message: /null \(reading 'write'\)/ }, "the driver's fault as it happened");
  t.ok(isDriverFault(fault), 'is taken as the store failing');

  let own: unknown = null;
  try {
    (null as unknown as Writable).write('x');
  } catch (err) {
    own = err;
  }
  t.notOk(isDriverFault(own), 'the same TypeError from our own code is not');
  t.notOk(isDriverFault(Object.assign(new Error('connection closed'), { stack: (fault as Error).stack })), 'nor an error of another kind');
});
