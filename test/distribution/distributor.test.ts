import t from 'tap';
import WebSocket from 'ws';
import type { OutMessage, StreamConsumer } from '../../src/distribution/consumer';
import { streamOf } from '../../src/model/streams';
import { L2_DEPTHS } from '../../src/model/depths';
import { decodeMessage } from '../../src/wire/message-decoder';
import { startTestServer, waitFor } from '../helpers/test-server';

/** A consumer of its own, as a FIX acceptor or an edge publisher would be: it keeps what it is handed. */
class Recorder implements StreamConsumer {
  snapshot = -1;
  readonly messages = new Map<number, Buffer>();

  onSnapshot(m: OutMessage, reset: boolean): void {
    if (!reset && this.snapshot < 0) this.snapshot = m.sequence;
  }

  onMessage(m: OutMessage): void {
    // The view is only valid during the call: keep a copy.
    this.messages.set(m.sequence, Buffer.from(m.bytes()));
  }
}

t.test('a consumer of its own and a WebSocket client see the same records, sequence by sequence', async (t) => {
  const srv = await startTestServer(['--rate', '4000', '--workers', '2']);
  t.teardown(() => srv.server.stop());
  const distributor = srv.server.distributor;
  const btc = srv.server.instruments.find((i) => i.symbol === 'BTC/USD')!;
  const l2 = distributor.streams.index(btc.index, streamOf('l2', L2_DEPTHS.indexOf(10)));
  const trades = distributor.streams.index(btc.index, streamOf('trades', 0));
  const bookRecorder = new Recorder();
  const tradeRecorder = new Recorder();
  distributor.follow(bookRecorder, l2);
  distributor.follow(tradeRecorder, trades);

  // The WebSocket client (FlatBuffers: the owner's bytes as they are) joins while they follow.
  const ws = new WebSocket(`${srv.url}/ws?format=flatbuffers`);
  const seen = new Map<string, Map<number, Buffer>>([['l2', new Map()], ['trade', new Map()]]);
  let wsSnapshot = -1;
  ws.on('message', (data: Buffer, binary: boolean) => {
    if (!binary) return;
    const m = decodeMessage(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    if (m.type === 'l2_snapshot') wsSnapshot = m.sequence;
    else if (m.type === 'l2_update') seen.get('l2')!.set(m.sequence, Buffer.from(new Uint8Array(data)));
    else if (m.type === 'trade') seen.get('trade')!.set(m.sequence, Buffer.from(new Uint8Array(data)));
  });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  ws.send(JSON.stringify({ type: 'subscribe', channels: ['l2', 'trades'], symbols: ['BTC/USD'], depth: 10 }));
  await waitFor('the client to have its snapshot and 50 updates', () => wsSnapshot >= 0 && seen.get('l2')!.size >= 50 && seen.get('trade')!.size >= 5);
  ws.close();
  distributor.leave(bookRecorder, l2);
  distributor.leave(tradeRecorder, trades);

  t.ok(bookRecorder.snapshot >= 0, 'the consumer got its snapshot first');
  for (const [name, recorder] of [['l2', bookRecorder], ['trade', tradeRecorder]] as const) {
    const client = seen.get(name)!;
    const first = Math.min(...client.keys());
    const last = Math.max(...client.keys());
    // Both followed the stream over [first, last]: the same sequences, and the same bytes for each.
    const mine = [...recorder.messages.keys()].filter((s) => s >= first && s <= last);
    t.same(mine, [...client.keys()], `${name}: the same ${client.size} sequences, in the same order`);
    t.ok(mine.every((s) => recorder.messages.get(s)!.toString('hex') === client.get(s)!.toString('hex')), `${name}: the same bytes at every sequence`);
  }
});
