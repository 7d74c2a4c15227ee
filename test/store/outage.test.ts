import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { JournalReader } from '../../src/journal/journal-reader';
import { PrivatePostgres } from '../helpers/private-postgres';
import { startTestServer, waitFor } from '../helpers/test-server';

const available = PrivatePostgres.available();
if (!available && process.env.CI === 'true') t.fail('the database outage test needs root and /usr/lib/postgresql/15/bin (required with CI=true)');

t.test(
  'the database goes away mid-run and comes back: the feed never stalls, no trade or input event is lost or stored twice',
  { skip: available ? false : 'needs root and PostgreSQL 15 binaries to run a private server' },
  async (t) => {
    const pg = PrivatePostgres.create(55000 + (process.pid % 1000));
    t.teardown(() => pg.destroy());
    const dataDir = mkdtempSync(join(tmpdir(), 'bookcast-outage-'));
    t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
    const srv = await startTestServer([
      '--rate', '3000', '--symbols', 'BTC/USD,ETH/USD', '--database-url', pg.url, '--batch-ms', '50', '--batch-rows', '2000', '--data-dir', dataDir, '--store-events', 'true',
    ]);
    let stopped = false;
    t.teardown(() => (stopped ? undefined : srv.server.stop()));
    const health = async () => (await srv.get('/api/v1/health')).body;
    await waitFor('rows stored', async () => (await health()).persistence.trades > 100);

    pg.stop();
    const sequenceAtStop = (await srv.get('/api/v1/market/BTC-USD/ticker')).body.sequence;
    await waitFor('a failed write', async () => (await health()).persistence.failed_writes > 0, 180_000);
    // Generous: with a second test on the two cores, the first failing trade batch came late.
    let last: unknown;
    await waitFor('rows waiting in the spool', async () => ((last = (await health()).persistence) as { spool_rows: number }).spool_rows > 500, 180_000).catch((err: Error) => {
      throw new Error(`${err.message}; persistence health: ${JSON.stringify(last)}`);
    });
    t.ok((await srv.get('/api/v1/market/BTC-USD/ticker')).body.sequence > sequenceAtStop, 'the feed went on while the database was down');
    const stored = await srv.get('/api/v1/market/BTC-USD/events?limit=1');
    t.same([stored.status, stored.body.error?.code], [503, 'STORE_UNAVAILABLE'], 'stored events cannot be read meanwhile');
    // Waited for, not sampled: how far behind it is by now depends on how fast a busy machine simulates.
    await waitFor('the journal tail to wait for the database (1000 events behind)', async () => (await health()).persistence.order_events.behind > 1000, 180_000);

    pg.start();
    await waitFor('the spool to drain', async () => (await health()).persistence.spool_rows === 0, 300_000);
    const lastTrade = (await srv.get('/api/v1/market/BTC-USD/trades?limit=1')).body.trades[0].trade_id;
    await srv.server.stop();
    stopped = true;

    const sql = postgres(pg.url, { max: 1, onnotice: () => undefined });
    t.teardown(() => sql.end({ timeout: 1 }));
    const rows = await sql`select symbol, count(*)::int as n, count(distinct trade_id)::int as ids, max(trade_id)::int as last from trades group by symbol order by symbol`;
    t.equal(rows.length, 2);
    for (const r of rows) {
      t.equal(r.n, r.ids, `${r.symbol}: no trade stored twice`);
      t.equal(r.n, r.last, `${r.symbol}: trade ids 1..${r.last} all stored, none lost`);
    }
    t.ok(rows.find((r) => r.symbol === 'BTC/USD')!.last >= lastTrade, 'everything the feed printed is stored');

    let journaled = 0;
    new JournalReader(join(dataDir, 'journal')).read({ onEvent: () => void journaled++ });
    const [events] = await sql`select count(*)::int as n, count(distinct journal_sequence)::int as distinct, min(journal_sequence)::int as first, max(journal_sequence)::int as last from order_events`;
    t.same(events, { n: journaled, distinct: journaled, first: 1, last: journaled }, `every journaled input event stored once (${journaled})`);
  },
);
