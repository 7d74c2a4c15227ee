import t from 'tap';
import type { HeartbeatMessage } from '../../src/client';
import { connectRecorded } from '../helpers/client-recorder';
import { startTestServer, waitFor } from '../helpers/test-server';

const SYMBOLS = ['BTC/USD', 'ETH/USD', 'SOL/USD'];

for (const format of ['json', 'flatbuffers'] as const) {
  t.test(`${format}: books rebuilt from snapshot + updates match every checksum and the REST snapshot`, async (t) => {
    const srv = await startTestServer(['--rate', '1500', '--workers', '2', '--heartbeat-ms', '200']);
    t.teardown(() => srv.server.stop());
    // Reconnecting as the SDK does by default: a client parked too long by a loaded machine is closed
    // by the slow-consumer ladder (1013; slow-consumer tests cover that) and comes back on fresh
    // snapshots, and the sequences it missed are unknown to it, not wrong.
    const recorder = await connectRecorded(srv, { format, reconnect: {} });
    const { client } = recorder;
    const subscribed = recorder.next((m) => m.type === 'subscribed');
    client.subscribe({ channels: ['l2', 'l3', 'trades', 'ticker'], symbols: SYMBOLS, depth: 10 });
    t.match(await subscribed, { data: { symbols: SYMBOLS } });
    // Let enough flow that every kind of message has been seen and verified for every symbol.
    await waitFor('50 l2 and l3 updates, a trade and a ticker per symbol', () =>
      SYMBOLS.every(
        (s) => recorder.stream(`l2 ${s}`).updates >= 50 && recorder.stream(`l3 ${s}`).updates >= 50 && (recorder.tradeIds.get(s)?.length ?? 0) > 0 && recorder.tickers.has(s),
      ),
    );

    for (const symbol of SYMBOLS) {
      const l2 = recorder.stream(`l2 ${symbol}`);
      const l3 = recorder.stream(`l3 ${symbol}`);
      // A resync or a reconnect can skip the REST snapshot's sequence: then the client cannot know
      // the book there, and a newer REST snapshot is compared instead.
      let compared = false;
      for (let attempt = 0; attempt < 5 && !compared; attempt++) {
        const rest = await srv.get(`/api/v1/market/${encodeURIComponent(symbol)}/orderbook?depth=10`);
        t.equal(rest.status, 200);
        const seq: number = rest.body.sequence;
        // The stream moves on; wait until this client has seen past the REST snapshot's sequence.
        await waitFor(`${symbol} updates past sequence ${seq}`, () => l2.last > seq && l3.last > seq);
        const l2State = l2.at(seq);
        const l3State = l3.at(seq);
        if (l2State === undefined || l3State === undefined) continue;
        const expected = JSON.stringify({ bids: rest.body.bids, asks: rest.body.asks });
        t.equal(l2State, expected, `${symbol}: L2 at sequence ${seq} equals REST`);
        t.equal(l3State, expected, `${symbol}: L3 aggregated at sequence ${seq} equals REST`);
        compared = true;
      }
      t.ok(compared, `${symbol}: a REST snapshot compared with the stream`);
    }
    t.same(recorder.resyncs, [], 'no sequence gap, duplicate or checksum mismatch');
    if (client.connections > 1) t.comment(`${client.connections - 1} reconnect(s) after a slow-consumer close: ${recorder.closedWith}`);

    // What the client had received when the heartbeat arrived (later updates may follow it at once).
    const receivedBefore = new Map<string, number>();
    const heartbeat = await recorder.next<HeartbeatMessage>((m) => {
      if (m.type !== 'heartbeat') return false;
      for (const symbol of SYMBOLS) receivedBefore.set(symbol, recorder.stream(`l2 ${symbol}`).last);
      return true;
    });
    const states = heartbeat.data.subscriptions;
    t.equal(states.length, SYMBOLS.length * 4, 'heartbeat names every subscription');
    for (const s of states.filter((x) => x.channel === 'l2')) {
      t.ok(s.sequence >= receivedBefore.get(s.symbol)!, 'heartbeat sequence is at least what was received before it');
    }

    const unsubscribed = recorder.next((m) => m.type === 'unsubscribed');
    client.unsubscribe({ channels: ['l2'], symbols: ['BTC/USD'] });
    await unsubscribed;
    const btc = recorder.stream('l2 BTC/USD');
    const eth = recorder.stream('l2 ETH/USD');
    const before = btc.updates;
    const ethBefore = eth.updates;
    await waitFor('more ETH/USD updates', () => eth.updates > ethBefore + 20);
    t.equal(btc.updates, before, 'no BTC/USD l2 updates after unsubscribe, while others flow');
    client.close();
  });
}

t.test('a second subscriber joining mid-stream and one changing depth both stay consistent', async (t) => {
  const srv = await startTestServer(['--rate', '4000', '--workers', '2']);
  t.teardown(() => srv.server.stop());
  const first = await connectRecorded(srv);
  first.client.subscribe({ channels: ['l2'], symbols: ['BTC/USD'], depth: 25 });
  await waitFor('first client updates', () => first.stream('l2 BTC/USD').updates > 20);
  const second = await connectRecorded(srv, { format: 'flatbuffers' });
  second.client.subscribe({ channels: ['l2'], symbols: ['BTC/USD'], depth: 25 });
  await waitFor('second client updates', () => second.stream('l2 BTC/USD').updates > 20);
  const depth10 = first.next((m) => m.type === 'l2_snapshot' && m.data.depth === 10);
  first.client.subscribe({ channels: ['l2'], symbols: ['BTC/USD'], depth: 10 });
  await depth10;
  const atDepth10 = first.stream('l2 BTC/USD').updates;
  await waitFor('updates at depth 10', () => first.stream('l2 BTC/USD').updates > atDepth10 + 20);
  t.equal(first.client.book('BTC/USD')!.depth, 10, 'the book follows the new depth');
  t.same(first.resyncs, []);
  t.same(second.resyncs, []);
  first.client.close();
  second.client.close();
});
