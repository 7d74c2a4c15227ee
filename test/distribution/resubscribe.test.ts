import t from 'tap';
import { connectRecorded } from '../helpers/client-recorder';
import { startTestServer, waitFor } from '../helpers/test-server';

for (const dialect of ['feed', 'market-data'] as const) {
  t.test(`${dialect}: subscribing again to a stream the connection has resynchronises it`, async (t) => {
    const srv = await startTestServer(['--rate', '2000', '--workers', '2']);
    t.teardown(() => srv.server.stop());
    const recorder = await connectRecorded(srv, { dialect });
    const { client } = recorder;
    // The Market Data API stream has no l3.
    const channels = dialect === 'feed' ? (['l2', 'l3'] as const) : (['l2'] as const);
    client.subscribe({ channels: [...channels], symbols: ['BTC/USD'], depth: 10 });
    const l2 = recorder.stream('l2 BTC/USD');
    await waitFor('updates on the first snapshot', () => l2.updates > 5);
    const lastBefore = l2.last;
    // What a client following the README does after a gap: the same subscribe again.
    const l2Snapshot = recorder.next((m) => m.type === 'l2_snapshot' && m.symbol === 'BTC/USD');
    const l3Snapshot = dialect === 'feed' ? recorder.next((m) => m.type === 'l3_snapshot' && m.symbol === 'BTC/USD') : null;
    client.subscribe({ channels: [...channels], symbols: ['BTC/USD'], depth: 10 });
    const snapshot = await l2Snapshot;
    t.ok(snapshot.type === 'l2_snapshot' && snapshot.sequence >= lastBefore, 'a fresh snapshot, at or after what the client had');
    const updatesAtSnapshot = l2.updates;
    await waitFor('updates after the fresh snapshot', () => l2.updates > updatesAtSnapshot + 5);
    t.ok(l2.snapshots >= 2, 'the book restarted from the new snapshot');
    if (l3Snapshot !== null) t.ok((await l3Snapshot).type === 'l3_snapshot', 'a fresh L3 snapshot too');
    t.same(recorder.resyncs, [], 'no gap or duplicate before or after the resync');
    client.close();
  });
}
