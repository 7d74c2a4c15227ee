import t from 'tap';
import type { Socket } from 'node:net';
import { BookClient } from '../helpers/book-client';
import { startTestServer, waitFor } from '../helpers/test-server';

t.test('a stalled client is parked and resynchronised with snapshots; others never notice', async (t) => {
  const srv = await startTestServer([
    '--rate', '4000', '--workers', '2', '--heartbeat-ms', '100',
    '--soft-backpressure', '65536', '--max-backpressure', String(512 * 1024 * 1024),
  ]);
  t.teardown(() => srv.server.stop());
  const symbols = [...srv.symbols.keys()];
  const fast = new BookClient(srv.url, 'json', srv.symbols);
  const slow = new BookClient(srv.url, 'json', srv.symbols);
  await Promise.all([fast.opened(), slow.opened()]);
  // The slow client asks for a lot; the fast one for little, so that it keeps up on a busy machine.
  slow.send({ type: 'subscribe', channels: ['l2', 'l3', 'trades'], symbols, depth: 100 });
  fast.send({ type: 'subscribe', channels: ['l2'], symbols: ['BTC/USD'], depth: 10 });
  // Stop reading at once (before TCP autotuning grows the receive window): the kernel buffers
  // fill, then uWS buffers, and then the server must act.
  const socket = (slow.ws as unknown as { _socket: Socket })._socket;
  socket.pause();
  await waitFor('the fast client to be under way', () => (fast.l2.get('BTC/USD')?.check.messages ?? 0) > 0);
  const fastBefore = fast.received;
  // Kernel socket buffers absorb a few megabytes first; the server acts once uWS buffers more.
  await waitFor('the server to park the stalled connection', async () => (await srv.get('/api/v1/health')).body.slow_consumer_resyncs >= 1, 120000);
  socket.resume();
  let tradesAtNotice = 0;
  const notice = await slow.next((m) => {
    if (m.type !== 'error' || m.data.code !== 'SLOW_CONSUMER') return false;
    tradesAtNotice = [...slow.tradeIds.values()].reduce((n, ids) => n + ids.length, 0);
    return true;
  });
  t.ok(notice, 'the slow client is told it fell behind');
  // After the notice it receives fresh snapshots and then consistent updates again.
  await slow.next((m) => m.type === 'l2_snapshot' && m.symbol === 'BTC/USD');
  const atResync = slow.l2.get('BTC/USD')!.check.messages;
  await waitFor('updates after the resync', () => slow.l2.get('BTC/USD')!.check.messages > atResync);
  // The resync replays the trades printed while it was parked before any live one: once a trade
  // has come after the notice, the tape must have no hole, across the park included.
  await waitFor('trades after the resync', () => [...slow.tradeIds.values()].reduce((n, ids) => n + ids.length, 0) > tradesAtNotice);
  for (const [symbol, ids] of slow.tradeIds) {
    const holes = ids.slice(1).filter((id, k) => id !== ids[k] + 1);
    t.same(holes, [], `${symbol}: ${ids.length} trades, no hole in the tape`);
  }
  t.same(slow.failures, [], 'the resynchronised client verifies every sequence and checksum');
  t.ok(slow.l2.get('BTC/USD')!.check.messages > 0, 'updates flow again after the resync');
  t.same(fast.failures, [], 'the fast client saw no gap');
  t.ok(fast.received > fastBefore, 'the fast client kept receiving while the other stalled');
  t.notOk(fast.control.some((m) => m.type === 'error'), 'the fast client was never parked');
  fast.close();
  slow.close();
});
