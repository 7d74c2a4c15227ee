import t from 'tap';
import { BookClient, stateAt } from '../helpers/book-client';
import { startTestServer, waitFor } from '../helpers/test-server';

const SYMBOLS = ['BTC/USD', 'ETH/USD', 'SOL/USD'];

for (const format of ['json', 'flatbuffers'] as const) {
  t.test(`${format}: books rebuilt from snapshot + updates match every checksum and the REST snapshot`, async (t) => {
    // The rate is the flow's, not a load test's: a client parked too long by a loaded machine misses
    // more trades than the server keeps and is closed by the ladder (slow-consumer tests cover that).
    const srv = await startTestServer(['--rate', '1500', '--workers', '2', '--heartbeat-ms', '200']);
    t.teardown(() => srv.server.stop());
    const client = new BookClient(srv.url, format, srv.symbols);
    await client.opened();
    client.send({ type: 'subscribe', channels: ['l2', 'l3', 'trades', 'ticker'], symbols: SYMBOLS, depth: 10 });
    const subscribed = await client.next((m) => m.type === 'subscribed');
    t.same(subscribed.data.symbols, SYMBOLS);
    // Let enough flow that every kind of message has been seen and verified for every symbol.
    await waitFor('50 l2 and l3 updates, a trade and a ticker per symbol', () =>
      SYMBOLS.every(
        (s) =>
          (client.l2.get(s)?.check.messages ?? 0) >= 50 &&
          (client.l3.get(s)?.check.messages ?? 0) >= 50 &&
          (client.trades.get(s) ?? []).length > 0 &&
          client.tickers.has(s),
      ),
    );

    for (const symbol of SYMBOLS) {
      const book = client.l2.get(symbol)!;
      const l3 = client.l3.get(symbol)!;
      // A slow-consumer resync on a loaded machine can skip the REST snapshot's sequence: then the
      // client cannot know the book there, and a newer REST snapshot is compared instead.
      let compared = false;
      for (let attempt = 0; attempt < 5 && !compared; attempt++) {
        const rest = await srv.get(`/api/v1/market/${encodeURIComponent(symbol)}/orderbook?depth=10`);
        t.equal(rest.status, 200);
        const seq: number = rest.body.sequence;
        // The stream moves on; wait until this client has seen past the REST snapshot's sequence.
        await waitFor(`${symbol} updates past sequence ${seq}`, () => {
          if (client.closedWith !== null) throw new Error(`the server closed the client: ${client.closedWith}`);
          return book.check.last > seq && l3.check.last > seq;
        });
        const l2State = stateAt(book, seq);
        const l3State = stateAt(l3, seq);
        if (l2State === undefined || l3State === undefined) continue;
        const expected = JSON.stringify({ bids: rest.body.bids, asks: rest.body.asks });
        t.equal(l2State, expected, `${symbol}: L2 at sequence ${seq} equals REST`);
        t.equal(l3State, expected, `${symbol}: L3 aggregated at sequence ${seq} equals REST`);
        compared = true;
      }
      t.ok(compared, `${symbol}: a REST snapshot compared with the stream`);
      t.ok(book.checksums >= book.check.messages, `${symbol}: all ${book.checksums} checksums verified`);
    }
    t.same(client.failures, [], 'no sequence gap, duplicate or checksum mismatch');

    // What the client had received when the heartbeat arrived (later updates may follow it at once).
    const receivedBefore = new Map<string, number>();
    const heartbeat = await client.next((m) => {
      if (m.type !== 'heartbeat') return false;
      for (const symbol of SYMBOLS) receivedBefore.set(symbol, client.l2.get(symbol)!.check.last);
      return true;
    });
    const states = heartbeat.data.subscriptions as { channel: string; symbol: string; sequence: number }[];
    t.equal(states.length, SYMBOLS.length * 4, 'heartbeat names every subscription');
    for (const s of states.filter((x) => x.channel === 'l2')) {
      t.ok(s.sequence >= receivedBefore.get(s.symbol)!, 'heartbeat sequence is at least what was received before it');
    }

    client.send({ type: 'unsubscribe', channels: ['l2'], symbols: ['BTC/USD'] });
    await client.next((m) => m.type === 'unsubscribed');
    const before = client.l2.get('BTC/USD')!.check.messages;
    const eth = client.l2.get('ETH/USD')!.check.messages;
    await waitFor('more ETH/USD updates', () => client.l2.get('ETH/USD')!.check.messages > eth + 20);
    t.equal(client.l2.get('BTC/USD')!.check.messages, before, 'no BTC/USD l2 updates after unsubscribe, while others flow');
    client.close();
  });
}

t.test('a second subscriber joining mid-stream and one changing depth both stay consistent', async (t) => {
  const srv = await startTestServer(['--rate', '4000', '--workers', '2']);
  t.teardown(() => srv.server.stop());
  const first = new BookClient(srv.url, 'json', srv.symbols);
  await first.opened();
  first.send({ type: 'subscribe', channels: ['l2'], symbols: ['BTC/USD'], depth: 25 });
  await waitFor('first client updates', () => (first.l2.get('BTC/USD')?.check.messages ?? 0) > 20);
  const second = new BookClient(srv.url, 'flatbuffers', srv.symbols);
  await second.opened();
  second.send({ type: 'subscribe', channels: ['l2'], symbols: ['BTC/USD'], depth: 25 });
  await waitFor('second client updates', () => (second.l2.get('BTC/USD')?.check.messages ?? 0) > 20);
  first.send({ type: 'subscribe', channels: ['l2'], symbols: ['BTC/USD'], depth: 10 });
  await first.next((m) => m.type === 'l2_snapshot' && m.data.depth === 10, 30000);
  await waitFor('updates at depth 10', () => first.l2.get('BTC/USD')!.check.messages > 20);
  t.same(first.failures, []);
  t.same(second.failures, []);
  first.close();
  second.close();
});
