import t from 'tap';
import * as path from 'node:path';
import { loadConfig } from '../../src/config';
import { journalInstruments } from '../../src/source/journal-replay';
import { BookcastClient, type ControlMessage } from '../../src/client';
import { connectRecorded } from '../helpers/client-recorder';
import { startTestServer, TestServer, waitFor } from '../helpers/test-server';
import { expectedBooks, ExpectedBook, journalTimes, recordJournal, SYMBOLS } from './journal-replay-fixtures';

/**
 * A recorded journal re-published by a real server (`--source journal:<dir>`) and followed by
 * real WebSocket clients, which must end with exactly the books an independent replay of the
 * journal builds, and can tell the replay from the live feed by the `replay` flag alone.
 */

/** About two seconds of simulated market, so a 1x replay of part of it lasts long enough to watch. */
const recorded = recordJournal(t, 8000, 4000);
const DEPTH = 50;

/** Waits until the replay has finished and the server's books are the expected ones. */
async function replayDone(srv: TestServer, expected: Map<string, ExpectedBook>): Promise<void> {
  await waitFor('the replay to finish', async () => (await srv.get('/api/v1/health')).body.source.done === true);
  for (const symbol of SYMBOLS) {
    await waitFor(`${symbol} at its final sequence`, async () => (await srv.get(`/api/v1/market/${symbol.replace('/', '-')}/orderbook?depth=1`)).body.sequence === expected.get(symbol)!.sequence);
  }
}

t.test('the configuration: journal:<dir> with a window, never the data directory\'s own journal', async (t) => {
  const c = loadConfig(['--source', 'journal:/j', '--from', '2024-05-01T00:00:00.000001Z', '--until', '1714521700000', '--speed', '4', '--replay-time', 'original', '--data-dir', '/d'], {});
  t.same(c.source, { kind: 'journal', dir: '/j', from: 1714521600000001, until: 1714521700000000, speed: 4, originalTime: true });
  t.same(loadConfig(['--source', 'journal:/j', '--until', '1714521600000001'], {}).source, { kind: 'journal', dir: '/j', from: -Infinity, until: 1714521600000001, speed: 1, originalTime: false }, 'epoch µs');
  t.throws(() => loadConfig(['--source', 'journal:/d/journal', '--data-dir', '/d'], {}), { code: 'CONFIG_INVALID', message: /live journal of --data-dir/ });
  t.throws(() => loadConfig(['--source', 'journal:./d/x/../journal', '--data-dir', 'd'], {}), { code: 'CONFIG_INVALID' }, 'the same directory spelt differently');
  t.throws(() => loadConfig(['--source', 'journal:/j', '--from', 'soon'], {}), { code: 'CONFIG_INVALID', message: /from must be an ISO-8601 time/ });
  t.throws(() => loadConfig(['--source', 'journal:/j', '--from', '3', '--until', '2'], {}), { code: 'CONFIG_INVALID', message: /after until/ });
});

t.test('the replay uses the instruments recorded beside the journal, not the configured ones', async (t) => {
  const dir = await recorded;
  const instruments = journalInstruments(dir);
  t.same(instruments.map((i) => [i.symbol, i.minOrderSize, i.priceDecimals, i.sizeDecimals]), [
    ['BTC/USD', '0.0001', 1, 5],
    ['ETH/USD', '0.001', 2, 4],
    ['SIM001/USD', '0.01', 2, 3],
  ]);
  t.throws(() => journalInstruments(path.join(dir, 'missing')), { code: 'JOURNAL_NOT_FOUND' });
});

t.test('at full speed, l2 and l3 clients end with the journal\'s books and see the replay flag', async (t) => {
  const dir = await recorded;
  const expected = expectedBooks(dir, Infinity, DEPTH);
  // --symbols names other symbols on purpose: the journal's own list wins.
  const srv = await startTestServer(['--source', `journal:${dir}`, '--speed', '0', '--symbols', 'XRP/USD', '--workers', '2']);
  t.teardown(() => srv.server.stop());
  t.same([...srv.symbols.keys()], SYMBOLS);
  t.equal((await srv.get('/api/v1/market/symbols')).body.replay, true, '/symbols says replay');
  const health = (await srv.get('/api/v1/health')).body;
  t.match(health.source, { kind: 'journal', replay: true, restored_from_journal: 0 });

  // The SDK (bookcast/client): it verifies every sequence and checksum itself and counts what it had to repair.
  const client = new BookcastClient({ url: srv.url, reconnect: false });
  t.teardown(() => client.close());
  const l3Updates = new Map<string, number>();
  client.on('l3', (book, m) => l3Updates.set(book.symbol, (l3Updates.get(book.symbol) ?? 0) + (m.type === 'l3_update' ? 1 : 0)));
  const ack = new Promise<ControlMessage>((resolve) => client.once('subscribed', resolve));
  await client.connect();
  client.subscribe({ channels: ['l2', 'l3'], symbols: SYMBOLS, depth: DEPTH });
  t.equal((await ack).data?.replay, true, 'the subscription acknowledgement carries the flag');

  await replayDone(srv, expected);
  for (const symbol of SYMBOLS) {
    const e = expected.get(symbol)!;
    const decimals = srv.symbols.get(symbol)!.size_decimals;
    await waitFor(`${symbol}: the client's books reach the journal's`, () =>
      JSON.stringify(client.book(symbol)?.top(DEPTH)) === e.levels && JSON.stringify(client.l3(symbol)?.levels(DEPTH, decimals)) === e.levels,
    );
    t.pass(`${symbol}: l2 and l3 rebuilt by the client equal the journal's book`);
    const rest = (await srv.get(`/api/v1/market/${symbol.replace('/', '-')}/orderbook?depth=50`)).body;
    t.equal(rest.checksum, e.checksum, `${symbol}: checksum`);
    t.comment(`${symbol}: ${l3Updates.get(symbol) ?? 0} l3 updates after the snapshot`);
  }
  t.same(client.resyncs, { gap: 0, checksum: 0 }, 'every sequence and checksum checked out');
});

t.test('at 1x over a --from/--until window, in the Market Data dialect, with the recorded timestamps', async (t) => {
  const dir = await recorded;
  const times = journalTimes(dir);
  const from = times[Math.floor(times.length * 0.4)];
  const until = times[Math.floor(times.length * 0.9)];
  const expected = expectedBooks(dir, until, DEPTH);
  const srv = await startTestServer(['--source', `journal:${dir}`, '--speed', '1', '--from', String(from), '--until', String(until), '--replay-time', 'original', '--workers', '1']);
  t.teardown(() => srv.server.stop());

  const recorder = await connectRecorded(srv, { dialect: 'market-data' });
  const { client } = recorder;
  t.teardown(() => client.close());
  const stamps: { type: string; timestamp: string }[] = [];
  client.on('message', (m) => {
    if (m.type === 'l2_snapshot' || m.type === 'l2_update') stamps.push({ type: m.type, timestamp: m.timestamp });
  });
  client.subscribe({ channels: ['l2'], symbols: SYMBOLS, depth: DEPTH });
  const ack = await recorder.next<ControlMessage>((m) => m.type === 'subscribed');
  t.match(ack, { id: 'r1', data: { status: 'subscribed', replay: true } });

  await replayDone(srv, expected);
  for (const symbol of SYMBOLS) {
    const e = expected.get(symbol)!;
    await waitFor(`${symbol}: the client's book reaches the journal's at --until`, () => JSON.stringify(client.book(symbol)?.top(DEPTH)) === e.levels);
    t.pass(`${symbol}: the book at --until`);
  }
  t.same(recorder.resyncs, []);
  const micros = (iso: string) => Date.parse(iso.slice(0, 23) + 'Z') * 1000 + Number(iso.slice(23, 26));
  const stamped = (type: string) => stamps.filter((m) => m.type === type).map((m) => micros(m.timestamp));
  // The snapshots always come (one per symbol), so this never checks an empty list; how many
  // updates follow them depends on how soon the client subscribed, possibly none on a busy machine.
  const snapshots = stamped('l2_snapshot');
  const updates = stamped('l2_update');
  t.ok(snapshots.length >= SYMBOLS.length, `a snapshot per symbol (${snapshots.length})`);
  t.same(snapshots.filter((s) => !(s >= times[0] && s <= until)), [], 'every snapshot is stamped with a recorded time, none past the window');
  t.same(updates.filter((s) => !(s >= from && s <= until)), [], 'every update is stamped with its recorded time, inside the window');
  t.comment(`${updates.length} l2 updates after the snapshots`);
});
