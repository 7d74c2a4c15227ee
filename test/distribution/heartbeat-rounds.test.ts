import t from 'tap';
import { connectRecorded } from '../helpers/client-recorder';
import { startTestServer, waitFor } from '../helpers/test-server';

const PERIOD_MS = 250;

t.test('heartbeats: one per --heartbeat-ms to each connection, however many there are', async (t) => {
  const srv = await startTestServer(['--rate', '500', '--workers', '1', '--heartbeat-ms', String(PERIOD_MS)]);
  t.teardown(() => srv.server.stop());

  // A lone connection: it is the first of every round.
  const lone = await connectRecorded(srv);
  lone.client.subscribe({ channels: ['ticker', 'trades'], symbols: ['BTC/USD', 'ETH/USD'] });
  await waitFor('six heartbeats', () => lone.heartbeats.length >= 6);
  // Each heartbeat is stamped when it is sent; the next round starts a whole period after the
  // previous one started, so load can only make the gaps longer.
  const stamps = lone.heartbeats.map((m) => Date.parse(m.timestamp) * 1000 + Number(m.timestamp.slice(23, 26)));
  const gaps = stamps.slice(1).map((s, i) => s - stamps[i]);
  t.ok(gaps.length >= 5);
  t.ok(gaps.every((g) => g >= PERIOD_MS * 1000), `gaps of at least ${PERIOD_MS} ms: ${gaps.join(', ')} µs`);

  // Twenty more: every one is served in each round.
  const others = await Promise.all(Array.from({ length: 20 }, () => connectRecorded(srv, { format: 'flatbuffers' })));
  await waitFor('three heartbeats on every connection', () => others.every((c) => c.heartbeats.length >= 3));
  t.pass('every connection heard from the server');
  for (const c of [lone, ...others]) c.client.close();
});
