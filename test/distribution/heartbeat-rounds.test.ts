import t from 'tap';
import { BookClient } from '../helpers/book-client';
import { startTestServer, waitFor } from '../helpers/test-server';

const PERIOD_MS = 250;

t.test('heartbeats: one per --heartbeat-ms to each connection, however many there are', async (t) => {
  const srv = await startTestServer(['--rate', '500', '--workers', '1', '--heartbeat-ms', String(PERIOD_MS)]);
  t.teardown(() => srv.server.stop());

  // A lone connection: it is the first of every round.
  const client = new BookClient(srv.url, 'json', srv.symbols);
  await client.opened();
  client.send({ type: 'subscribe', channels: ['ticker', 'trades'], symbols: ['BTC/USD', 'ETH/USD'] });
  const beats = () => client.control.filter((m) => m.type === 'heartbeat');
  await waitFor('six heartbeats', () => beats().length >= 6);
  // Each heartbeat is stamped when it is sent; the next round starts a whole period after the
  // previous one started, so load can only make the gaps longer.
  const stamps = beats().map((m) => Date.parse(m.timestamp as string) * 1000 + Number((m.timestamp as string).slice(23, 26)));
  const gaps = stamps.slice(1).map((s, i) => s - stamps[i]);
  t.ok(gaps.length >= 5);
  t.ok(gaps.every((g) => g >= PERIOD_MS * 1000), `gaps of at least ${PERIOD_MS} ms: ${gaps.join(', ')} µs`);

  // Twenty more: every one is served in each round.
  const clients = Array.from({ length: 20 }, () => new BookClient(srv.url, 'flatbuffers', srv.symbols));
  await Promise.all(clients.map((c) => c.opened()));
  await waitFor('three heartbeats on every connection', () => clients.every((c) => c.control.filter((m) => m.type === 'heartbeat').length >= 3));
  t.pass('every connection heard from the server');
  for (const c of [client, ...clients]) c.close();
});
