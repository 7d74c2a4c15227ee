import t, { type Test } from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { loadConfig } from '../../src/config';
import { W_KIND, W_NEW_ORDER_ID, W_ORDER_ID, W_PRICE, W_SIDE, W_SIZE, W_SYMBOL, W_TIMESTAMP } from '../../src/model/events';
import { JournalReader } from '../../src/journal/journal-reader';
import { pgliteClient } from '../../src/store/pglite-store';
import { connectPostgres, postgresClient } from '../../src/store/postgres-store';
import type { SqlClient } from '../../src/store/sql-client';
import type { OrderEventRecord } from '../../src/store/store';
import { formatUnits } from '../../src/util/decimal';
import { formatTimestampMicros } from '../../src/wire/timestamp';
import { freshDatabase, POSTGRES_ADMIN_URL } from '../helpers/postgres';
import { startServerProcess, stopServerProcess } from '../helpers/server-process';
import { startTestServer, TestServer, waitFor } from '../helpers/test-server';

const SYMBOLS = ['BTC/USD', 'ETH/USD'];
const ARGS = ['--store-events', 'true', '--rate', '4000', '--symbols', SYMBOLS.join(','), '--batch-ms', '50'];
const KINDS = ['', 'add', 'modify', 'replace', 'cancel', 'delete', 'execute', 'trade', 'clear'];

/** Every record of the journal, read independently of the server, as order_events rows. */
function journalEvents(dataDir: string): OrderEventRecord[] {
  const rows: OrderEventRecord[] = [];
  new JournalReader(join(dataDir, 'journal')).read({
    onEvent(sequence, f, w) {
      rows.push({
        sequence, symbol: SYMBOLS[f[w + W_SYMBOL]], kind: f[w + W_KIND], side: f[w + W_SIDE], orderId: f[w + W_ORDER_ID],
        price: f[w + W_PRICE], size: f[w + W_SIZE], newOrderId: f[w + W_NEW_ORDER_ID], time: f[w + W_TIMESTAMP],
      });
    },
  });
  return rows;
}

async function storedEvents(raw: SqlClient): Promise<OrderEventRecord[]> {
  const rows = await raw.rows(
    `select journal_sequence, symbol, kind, side, order_id, price, size, new_order_id, (extract(epoch from time) * 1000000)::bigint
     from order_events order by journal_sequence`,
    [],
  );
  return rows.map((r) => ({
    sequence: Number(r[0]), symbol: r[1] as string, kind: Number(r[2]), side: Number(r[3]), orderId: Number(r[4]),
    price: Number(r[5]), size: Number(r[6]), newOrderId: Number(r[7]), time: Number(r[8]),
  }));
}

/** The REST rendering of a journal record, built here from the words: decimal strings in the symbol's precision. */
function rendered(e: OrderEventRecord, priceDecimals: number, sizeDecimals: number): object {
  return {
    time: formatTimestampMicros(e.time),
    sequence: e.sequence,
    kind: KINDS[e.kind],
    side: e.kind === 1 || e.kind === 7 ? (e.side === 0 ? 'buy' : 'sell') : null,
    order_id: e.orderId || null,
    price: e.price ? formatUnits(e.price, priceDecimals) : null,
    size: e.size ? formatUnits(e.size, sizeDecimals) : null,
    new_order_id: e.newOrderId || null,
  };
}

/** Runs a server on `dataDir` until order events through journal sequence `through` are stored; stops it. */
async function runUntil(t: Test, dataDir: string, extra: string[], through: number, whileRunning?: (srv: TestServer) => Promise<void>): Promise<void> {
  const srv = await startTestServer(['--data-dir', dataDir, ...ARGS, ...extra]);
  let running = true;
  t.teardown(() => (running ? srv.server.stop() : undefined));
  const events = async () => (await srv.get('/api/v1/health')).body.persistence.order_events;
  await waitFor(`order events through ${through} stored`, async () => (await events()).stored_through >= through);
  t.equal((await srv.get('/api/v1/health')).body.persistence.failed_writes, 0, 'resumed where the database stood: no write refused');
  await whileRunning?.(srv);
  await srv.server.stop();
  running = false;
}

/** The REST endpoint against the journal, while the server runs. */
async function restChecks(t: Test, srv: TestServer, dataDir: string): Promise<void> {
  const info = srv.symbols.get('BTC/USD')!;
  const btc = journalEvents(dataDir).filter((e) => e.symbol === 'BTC/USD');
  // Well inside what is stored (events through 3000 are): every BTC event up to that time.
  const end = btc[299].time;
  const expected = btc.filter((e) => e.time <= end).map((e) => rendered(e, info.price_decimals, info.size_decimals));
  const at = formatTimestampMicros(end);

  const whole = await srv.get(`/api/v1/market/BTC-USD/events?end=${at}&limit=10000`);
  t.equal(whole.status, 200);
  t.same(whole.body, { symbol: 'BTC/USD', events: expected, has_more: false }, 'the journal, exactly');
  t.match(whole.body.events[0], { kind: 'add', price: /^\d+\.\d$/, size: /^\d+\.\d{5}$/ }, 'decimals in the symbol precision');

  const paged: object[] = [];
  let query = `end=${at}&limit=7`;
  for (;;) {
    const page = await srv.get(`/api/v1/market/BTC-USD/events?${query}`);
    paged.push(...page.body.events);
    if (!page.body.has_more) break;
    t.equal(page.body.events.length, 7, 'a full page before the last');
    const last = page.body.events[6];
    query = `end=${at}&limit=7&start=${last.time}&after_sequence=${last.sequence}`;
  }
  t.same(paged, expected, 'pages of 7 (start = last time, after_sequence = last sequence) give every event once');
  t.equal((await srv.get('/api/v1/market/BTC-USD/events')).body.events.length, 1000, 'default limit');

  const errors: [string, number, string][] = [
    ['limit=0', 400, 'INVALID_PARAMETER'],
    ['limit=10001', 400, 'INVALID_PARAMETER'],
    ['after_sequence=-1', 400, 'INVALID_PARAMETER'],
    ['after_sequence=9007199254740993', 400, 'INVALID_PARAMETER'],
    ['start=2026-01-02T00:00:00Z&end=2026-01-01T00:00:00Z', 400, 'INVALID_PARAMETER'],
    ['start=yesterday', 400, 'INVALID_PARAMETER'],
    ['offset=5', 400, 'INVALID_PARAMETER'],
  ];
  for (const [q, status, code] of errors) {
    const r = await srv.get(`/api/v1/market/BTC-USD/events?${q}`);
    t.same([r.status, r.body.error.code], [status, code], q);
  }
  const unknown = await srv.get('/api/v1/market/NOPE-USD/events');
  t.same([unknown.status, unknown.body.error.code], [404, 'UNKNOWN_SYMBOL']);
}

/**
 * Runs on one data directory and one database, each checked against the journal: what is stored
 * is the journal, no more, no less. With `crash`, a run in its own process is killed (SIGKILL)
 * in between, while it writes.
 */
async function storesTheJournal(t: Test, extra: string[], open: (dataDir: string) => Promise<SqlClient>, crash = false): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'bookcast-events-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const compare = async (what: string) => {
    const journal = journalEvents(dataDir);
    const raw = await open(dataDir);
    const stored = await storedEvents(raw);
    await raw.close();
    t.equal(stored.length, journal.length, `${what}: one row per journal record`);
    t.same(stored, journal, `${what}: every record, field for field`);
    return journal.length;
  };
  await runUntil(t, dataDir, extra, 3000, (srv) => restChecks(t, srv, dataDir));
  const first = await compare('first run');
  let last = first;
  if (crash) {
    const child = await startServerProcess(['--data-dir', dataDir, ...ARGS, ...extra]);
    t.teardown(() => stopServerProcess(child, 'SIGKILL'));
    const events = async () => ((await (await fetch(`${child.http}/api/v1/health`)).json()) as any).persistence.order_events;
    await waitFor('the killed run to store events', async () => (await events()).stored_through >= first + 2000);
    await stopServerProcess(child, 'SIGKILL');
    last = journalEvents(dataDir).length;
    t.ok((await events().catch(() => null)) === null, 'killed');
  }
  await runUntil(t, dataDir, extra, last + 3000);
  const second = await compare(crash ? 'after kill -9 and a restart' : 'after a restart');
  t.ok(second >= last + 3000, 'the last run went on from the one before');
}

t.test('--store-events on the embedded store: order_events is the journal, across a restart', async (t) => {
  // After the server stopped: a PGlite directory has one owner at a time.
  await storesTheJournal(t, [], async (dataDir) => pgliteClient(await PGlite.create(join(dataDir, 'pglite'))));
});

t.test('--store-events on PostgreSQL: order_events is the journal, across a restart and a kill -9', async (t) => {
  const database = await freshDatabase('events');
  if (database === null) {
    t.plan(0, `PostgreSQL unreachable at ${POSTGRES_ADMIN_URL} (set BOOKCAST_TEST_POSTGRES; with CI=true this fails)`);
    return;
  }
  t.teardown(() => database.drop());
  await storesTheJournal(t, ['--database-url', database.url], async () => postgresClient(connectPostgres(database.url, { max: 1 })), true);
});

t.test('without --store-events the endpoint says so; a replay refuses the option', async (t) => {
  const srv = await startTestServer(['--rate', '100', '--symbols', 'BTC/USD']);
  t.teardown(() => srv.server.stop());
  const r = await srv.get('/api/v1/market/BTC-USD/events');
  t.same([r.status, r.body.error.code], [404, 'EVENTS_DISABLED']);
  t.equal((await srv.get('/api/v1/health')).body.persistence.order_events, null);
  t.throws(() => loadConfig(['--source', 'journal:/tmp/elsewhere', '--store-events', 'true'], {}), { code: 'CONFIG_INVALID' });
  t.throws(() => loadConfig(['--store-events', 'yes'], {}), { code: 'CONFIG_INVALID' });
  t.equal(loadConfig([], { BOOKCAST_STORE_EVENTS: 'true' }).storeEvents, true, 'from the environment');
});
