import t from 'tap';
import { connectRecorded } from '../helpers/client-recorder';
import { startTestServer, waitFor } from '../helpers/test-server';
import { CLOSE_SLOW_CONSUMER } from '../../src/distribution/session-hub';
import type { StreamConsumer } from '../../src/distribution/consumer';
import { streamOf } from '../../src/model/streams';

const SLOW = 12;

t.test('many stalled clients at once: notice, then a resync with a whole tape, or a coded close; never a silent cut', async (t) => {
  // The default --max-backpressure (4 MiB): the ladder must act before uWS's own limit does.
  const srv = await startTestServer(['--rate', '4000', '--workers', '2', '--heartbeat-ms', '100', '--soft-backpressure', '65536']);
  t.teardown(() => srv.server.stop());
  const symbols = [...srv.symbols.keys()];
  const clients = await Promise.all(Array.from({ length: SLOW }, (_, i) => connectRecorded(srv, { format: i % 2 === 0 ? 'json' : 'flatbuffers' })));
  const closes = clients.map((c) => new Promise<number>((resolve) => c.client.once('close', (code) => resolve(code))));
  const closed = new Set<number>();
  closes.forEach((p, i) => void p.then(() => closed.add(i)));
  for (const c of clients) c.client.subscribe({ channels: ['l2', 'l3', 'trades'], symbols, depth: 100 });
  await waitFor('every client to receive trades', () => clients.every((c) => c.tradeIds.size > 0));
  // Stop reading: kernel buffers fill, then the server's, and the server must act on each.
  for (const c of clients) c.client.pauseReading();
  await waitFor(
    'every stalled client to be parked or closed',
    async () => {
      const h = (await srv.get('/api/v1/health')).body;
      return h.slow_consumer_resyncs + (SLOW - h.connections) >= SLOW;
    },
    240000,
  );
  // Snapshots each client had when its notice arrived: the resync's come after it.
  const atNotice: number[][] = clients.map(() => []);
  const notices = clients.map((c, i) =>
    c.next((m) => {
      if (m.type !== 'error' || m.data?.code !== 'SLOW_CONSUMER') return false;
      atNotice[i] = symbols.map((s) => c.stream(`l2 ${s}`).snapshots);
      return true;
    }, 240000),
  );
  for (const c of clients) c.client.resumeReading();

  for (let i = 0; i < SLOW; i++) {
    const c = clients[i];
    await notices[i];
    // After the notice: fresh snapshots and trades from where the client left them, or a coded close.
    await waitFor(`client ${i} to resume or be closed`, () => closed.has(i) || symbols.every((s, k) => c.stream(`l2 ${s}`).snapshots > atNotice[i][k]));
    if (closed.has(i)) {
      t.equal(await closes[i], CLOSE_SLOW_CONSUMER, `client ${i}: closed with the slow-consumer code`);
      continue;
    }
    t.same(c.resyncs, [], `client ${i}: every sequence and checksum verified across the resync`);
    for (const [symbol, ids] of c.tradeIds) {
      const holes = ids.slice(1).filter((id, k) => id !== ids[k] + 1);
      t.same(holes, [], `client ${i} ${symbol}: ${ids.length} trades, no hole in the tape`);
    }
  }
  for (const c of clients) c.client.close();
  const codes = await Promise.all(closes);
  t.notOk(codes.includes(1006), `no connection cut without a close frame: ${codes.join(', ')}`);
});

t.test('a session parked right after a trade was published to it still gets that trade', async (t) => {
  // The resync replays the trades printed while the session was parked from the tape, which keeps
  // the last TRADE_HISTORY of each symbol; a longer park closes the connection instead (coded).
  // The park lasts as long as this in-process client takes to read what the kernel holds for it,
  // which beside a second suite may pass what the tape holds at 4000 events/s (one run in ~6 got no
  // trade after its resync there; the close was not recorded then, so it is now reported at once).
  // At 2000 the tape covers twice as long, and a park still comes right after a trade in about
  // two runs of three (fewer trades per read of the rings: at 1000 the one run tried did not).
  const srv = await startTestServer(['--rate', '2000', '--workers', '2', '--soft-backpressure', '65536']);
  t.teardown(() => srv.server.stop());
  const { distributor, hub } = srv.server;
  const symbols = [...srv.symbols.keys()];
  const client = await connectRecorded(srv);
  const session = [...hub.sessions][0];
  // Followed before the client subscribes, this consumer is served after the hub: it runs the
  // ladder the moment a trade has been published, so the park comes with that trade still in uWS.
  let parkedAfterTrade = false;
  const parker: StreamConsumer = {
    onSnapshot: () => {},
    onMessage: () => {
      if (session.closed || session.parked) return;
      hub.check(session);
      parkedAfterTrade = session.parked;
    },
  };
  const tradeStreams = srv.server.instruments.map((i) => distributor.streams.index(i.index, streamOf('trades', 0)));
  for (const s of tradeStreams) distributor.follow(parker, s);
  t.teardown(() => tradeStreams.forEach((s) => distributor.leave(parker, s)));
  client.client.subscribe({ channels: ['l2', 'l3', 'trades'], symbols, depth: 100 });
  await waitFor('trades', () => client.tradeIds.size === symbols.length);
  client.client.pauseReading();
  await waitFor('the session to be parked', async () => (await srv.get('/api/v1/health')).body.slow_consumer_resyncs >= 1, 240000);
  // The front loop's own ladder may park the session first (no trade left queued in uWS); then
  // this run checks only that the tape has no hole, and says so.
  if (!parkedAfterTrade) t.comment('the front loop parked the session before a trade was published: the queued-trade case was not reached');
  const atNotice = new Map<string, number>();
  const notice = client.next((m) => {
    if (m.type !== 'error' || m.data?.code !== 'SLOW_CONSUMER') return false;
    for (const [s, ids] of client.tradeIds) atNotice.set(s, ids.length);
    return true;
  }, 120000);
  client.client.resumeReading();
  await notice;
  // The replay comes at the resume, before any live trade: one trade past it per symbol shows the whole tape.
  await waitFor(
    'trades after the resync on every symbol',
    () => {
      // A coded close is the server's answer to a park longer than the tape: say so at once.
      if (client.closedWith !== null) throw new Error(`the connection closed before trades followed the resync: ${client.closedWith}`);
      return symbols.every((s) => (client.tradeIds.get(s)?.length ?? 0) > (atNotice.get(s) ?? 0));
    },
    240000,
  );
  for (const [symbol, ids] of client.tradeIds) {
    const holes = ids.slice(1).filter((id, k) => id !== ids[k] + 1);
    t.same(holes, [], `${symbol}: ${ids.length} trades, no hole in the tape`);
  }
  client.client.close();
});
