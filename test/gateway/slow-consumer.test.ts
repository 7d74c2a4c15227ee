import t from 'tap';
import { connectRecorded } from '../helpers/client-recorder';
import { startTestServer, waitFor } from '../helpers/test-server';

t.test('a stalled client is parked and resynchronised with snapshots; others never notice', async (t) => {
  const srv = await startTestServer([
    // 1000 events/s: the paused window overflows at any rate, and once it reads again the client
    // (in this process, beside the server) must outpace the feed to see its resync through on a
    // loaded machine (at 4000, beside a second suite, no update followed the resync in 180 s).
    '--rate', '1000', '--workers', '2', '--heartbeat-ms', '100',
    '--soft-backpressure', '65536', '--max-backpressure', String(512 * 1024 * 1024),
  ]);
  t.teardown(() => srv.server.stop());
  const symbols = [...srv.symbols.keys()];
  const [fast, slow] = await Promise.all([connectRecorded(srv), connectRecorded(srv)]);
  // Stop reading at once (before TCP autotuning grows the receive window): the kernel buffers
  // fill, then uWS buffers, and then the server must act.
  slow.client.pauseReading();
  // The slow client asks for a lot; the fast one for little, so that it keeps up on a busy machine.
  slow.client.subscribe({ channels: ['l2', 'l3', 'trades'], symbols, depth: 100 });
  fast.client.subscribe({ channels: ['l2'], symbols: ['BTC/USD'], depth: 10 });
  const fastBtc = fast.stream('l2 BTC/USD');
  await waitFor('the fast client to be under way', () => fastBtc.updates > 0);
  const fastBefore = fast.received;
  // Kernel socket buffers absorb a few megabytes first; the server acts once uWS buffers more.
  await waitFor('the server to park the stalled connection', async () => (await srv.get('/api/v1/health')).body.slow_consumer_resyncs >= 1, 120000);
  const tradeCount = () => [...slow.tradeIds.values()].reduce((n, ids) => n + ids.length, 0);
  let tradesAtNotice = 0;
  // Counted as the notice is read, not after the await: the resync's snapshots can arrive in the
  // same read as the notice and be counted before this test runs again.
  const slowBtc = slow.stream('l2 BTC/USD');
  let snapshots = 0;
  let updates = 0;
  const notice = slow.next((m) => {
    if (m.type !== 'error' || m.data?.code !== 'SLOW_CONSUMER') return false;
    tradesAtNotice = tradeCount();
    ({ snapshots, updates } = slowBtc);
    return true;
  });
  slow.client.resumeReading();
  t.ok(await notice, 'the slow client is told it fell behind');
  // After the notice it receives fresh snapshots and then consistent updates again.
  await waitFor('a fresh BTC/USD snapshot and updates on it', () => slowBtc.snapshots > snapshots && slowBtc.updates > updates);
  // The resync replays the trades printed while it was parked before any live one: once a trade
  // has come after the notice, the tape must have no hole, across the park included.
  await waitFor('trades after the resync', () => tradeCount() > tradesAtNotice);
  for (const [symbol, ids] of slow.tradeIds) {
    const holes = ids.slice(1).filter((id, k) => id !== ids[k] + 1);
    t.same(holes, [], `${symbol}: ${ids.length} trades, no hole in the tape`);
  }
  t.same(slow.resyncs, [], 'the resynchronised client verifies every sequence and checksum');
  t.same(fast.resyncs, [], 'the fast client saw no gap');
  await waitFor('the fast client receiving after the other stalled', () => fast.received > fastBefore);
  t.notOk(fast.replies.some((m) => m.type === 'error'), 'the fast client was never parked');
  fast.client.close();
  slow.client.close();
});
