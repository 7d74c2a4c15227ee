import t, { type Test } from 'tap';
import { freshDatabase, POSTGRES_ADMIN_URL } from '../helpers/postgres';
import { startTestServer, TestServer, waitFor } from '../helpers/test-server';

/** Concurrent history reads per round: more than the store's read queue holds (64). */
const FLOOD = 150;

/**
 * Writes keep committing while a flood of history reads waits: within one flood, the server's
 * batch counter moves on by three while reads are still unanswered. Before writes went first,
 * a batch queued behind every read already in the store's queue (one PGlite connection, or a
 * shared pool), so no batch committed until the flood had drained. Rounds repeat until the
 * condition is seen, because a round whose reads all finish before three batches are due proves
 * nothing either way.
 */
async function writesProgressUnderReads(t: Test, srv: TestServer): Promise<void> {
  const health = async () => (await srv.get('/api/v1/health')).body.persistence;
  await waitFor('trades stored to read back', async () => (await health()).trades >= 2000, 120_000);
  const path = '/api/v1/market/BTC-USD/trades?start=2000-01-01T00:00:00Z&end=2199-01-01T00:00:00Z&limit=1000';
  let progressed = false;
  let busy = 0;
  let retryAfter = true;
  let other = 0;
  const deadline = Date.now() + 120_000;
  while (!(progressed && busy > 0) && Date.now() < deadline) {
    const before = (await health()).batches;
    let outstanding = FLOOD;
    const flood = Array.from({ length: FLOOD }, async () => {
      try {
        const res = await fetch(srv.http + path);
        const body = (await res.json()) as any;
        if (res.status === 503 && body.error?.code === 'BUSY') {
          busy++;
          if (res.headers.get('retry-after') === null) retryAfter = false;
        } else if (res.status !== 200) other++;
      } finally {
        outstanding--;
      }
    });
    while (outstanding > 0 && !progressed) {
      const h = await health();
      if (h.batches >= before + 3 && outstanding > 0) progressed = true;
    }
    await Promise.all(flood);
  }
  t.ok(progressed, 'three write batches committed while history reads were still pending');
  t.ok(busy > 0, `reads past the queue's bound were refused (${busy} BUSY)`);
  t.ok(retryAfter, 'every BUSY answer says when to retry');
  t.equal(other, 0, 'every other read was answered');
  const after = await health();
  t.equal(after.reads.pending, 0, 'no read left waiting');
  t.ok(after.reads.refused >= busy, 'health counts the refused reads');
}

t.test('a flood of history reads does not hold writes back (embedded store)', async (t) => {
  const srv = await startTestServer(['--symbols', 'BTC/USD', '--rate', '3000', '--batch-ms', '20']);
  t.teardown(() => srv.server.stop());
  await writesProgressUnderReads(t, srv);
});

t.test('a flood of history reads does not hold writes back (PostgreSQL)', async (t) => {
  const db = await freshDatabase('read_flood');
  if (db === null) {
    t.plan(0, `PostgreSQL unreachable at ${POSTGRES_ADMIN_URL} (set BOOKCAST_TEST_POSTGRES; with CI=true this fails)`);
    return;
  }
  t.teardown(() => db.drop());
  const srv = await startTestServer(['--symbols', 'BTC/USD', '--rate', '3000', '--batch-ms', '20', '--database-url', db.url]);
  t.teardown(() => srv.server.stop());
  await writesProgressUnderReads(t, srv);
});
