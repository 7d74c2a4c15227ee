import t from 'tap';
import { BookClient } from '../helpers/book-client';
import { startTestServer, waitFor } from '../helpers/test-server';

for (const format of ['json', 'market-data'] as const) {
  t.test(`${format}: subscribing again to a stream the connection has resynchronises it`, async (t) => {
    const srv = await startTestServer(['--rate', '2000', '--workers', '2']);
    t.teardown(() => srv.server.stop());
    const client = new BookClient(srv.url, format, srv.symbols);
    await client.opened();
    const subscribe =
      format === 'json'
        ? { type: 'subscribe', channels: ['l2', 'l3'], symbols: ['BTC/USD'], depth: 10 }
        : { type: 'SUBSCRIBE', request_id: 'again', payload: { symbols: ['BTC/USD'], data_types: ['ORDERBOOK'], filters: { depth: 10 } } };
    client.send(subscribe);
    await waitFor('updates on the first snapshot', () => (client.l2.get('BTC/USD')?.check.messages ?? 0) > 5);
    const first = client.l2.get('BTC/USD')!;
    const lastBefore = first.check.last;
    // What a client following the README does after a gap: the same subscribe again.
    const l2Snapshot = client.next((m) => m.type === 'l2_snapshot' && m.symbol === 'BTC/USD', 60000);
    const l3Snapshot = format === 'json' ? client.next((m) => m.type === 'l3_snapshot' && m.symbol === 'BTC/USD', 60000) : null;
    client.send(subscribe);
    const snapshot = await l2Snapshot;
    t.ok(snapshot.sequence! >= lastBefore, 'a fresh snapshot, at or after what the client had');
    await waitFor('updates after the fresh snapshot', () => client.l2.get('BTC/USD')!.check.messages > 5);
    t.ok(first.snapshots >= 2, 'the book restarted from the new snapshot');
    if (l3Snapshot !== null) t.ok((await l3Snapshot).sequence! > 0, 'a fresh L3 snapshot too');
    t.same(client.failures, [], 'no gap or duplicate before or after the resync');
    client.close();
  });
}
