import t, { type Test } from 'tap';
import { BookcastClient, FeedMessage, L2Book } from '../../src/client';
import { frameToMessage } from '../../src/client/flatbuffers-frames';
import { ClientRecorder } from '../helpers/client-recorder';
import { FrameProxy } from '../helpers/frame-proxy';
import { sharedTestServer, startTestServer, TestServer, waitFor } from '../helpers/test-server';

const SYMBOLS = ['BTC/USD', 'ETH/USD'];

/** Compares the client's L2 and L3 books with REST at REST's sequence, retrying when a resync skipped it. */
async function matchesRest(t: Test, srv: TestServer, client: BookcastClient, recorder: ClientRecorder, symbol: string, l3 = true): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const rest = await srv.get(`/api/v1/market/${encodeURIComponent(symbol)}/orderbook?depth=10`);
    const seq: number = rest.body.sequence;
    // Generous: on a loaded machine a client rendering every L3 state can fall behind (and be resynchronised) for minutes.
    await waitFor(
      `${symbol} past sequence ${seq} (the client was at ${client.book(symbol)?.sequence} when REST answered)`,
      () => (client.book(symbol)?.sequence ?? -1) > seq && (!l3 || (client.l3(symbol)?.sequence ?? -1) > seq),
      180_000,
    );
    const expected = JSON.stringify({ bids: rest.body.bids, asks: rest.body.asks });
    const l2State = recorder.stream(`l2 ${symbol}`).at(seq);
    const l3State = l3 ? recorder.stream(`l3 ${symbol}`).at(seq) : expected;
    if (l2State === undefined || l3State === undefined) continue;
    t.equal(l2State, expected, `${symbol}: L2 at sequence ${seq} equals REST`);
    t.equal(l3State, expected, `${symbol}: L3 aggregated at sequence ${seq} equals REST`);
    return;
  }
  t.fail(`${symbol}: no REST snapshot at a sequence the client knew`);
}

/**
 * One server for every subtest, started by the first that needs it and stopped when the file
 * ends: the fault subtests put their faults in a proxy of their own (a lost or changed frame, a
 * cut connection), never in the server, so they share it with the subtests that only follow it.
 */
const sharedServer = sharedTestServer(t, ['--rate', '2000', '--workers', '2']);

for (const format of ['json', 'flatbuffers'] as const) {
  t.test(`${format}: verified L2 and L3 books equal REST at the same sequence`, async (t) => {
    const srv = await sharedServer();
    const client = new BookcastClient({ url: srv.url, format });
    t.teardown(() => client.close());
    const recorder = new ClientRecorder(client, (s) => srv.symbols.get(s)!.size_decimals);
    let updates = 0;
    client.on('l2', (_b, m) => (updates += m.type === 'l2_update' ? 1 : 0));
    const trades: number[] = [];
    client.on('trade', (m) => trades.push(m.data.trade_id));
    await client.connect();
    client.subscribe({ channels: ['l2', 'l3', 'trades'], symbols: SYMBOLS, depth: 10 });
    await waitFor('100 verified L2 updates and a trade', () => updates >= 100 && trades.length > 0);
    for (const symbol of SYMBOLS) await matchesRest(t, srv, client, recorder, symbol);
    t.same(client.resyncs, { gap: 0, checksum: 0 }, 'no gap and no checksum mismatch on a healthy connection');
    t.equal(client.connections, 1);
  });
}

t.test('a lost message and a corrupted one are found and repaired with fresh snapshots', async (t) => {
  const srv = await sharedServer();
  let updates = 0;
  let recovered = false;
  let tampered = false;
  // The 40th BTC/USD L2 update is lost. Once the client has its fresh snapshot after that, the first
  // update that changes a level's size has a digit of it changed (same length: the frame stays well formed).
  const proxy = new FrameProxy(srv.server.port, (payload) => {
    const text = payload.toString();
    if (!text.startsWith('{"type":"l2_update","symbol":"BTC/USD"')) return 'pass';
    if (++updates === 40) return 'drop';
    // A level with a size (not a removal, which may be of the level pushed out past the depth, outside the checksum).
    const level = /\["[0-9.]+","(?=[0-9.]*[1-9])([0-9.]+)"\]/.exec(text);
    if (!recovered || tampered || level === null) return 'pass';
    tampered = true;
    const at = level.index + level[0].length - 3;
    const digit = text[at] === '.' ? at - 1 : at;
    return Buffer.from(text.slice(0, digit) + ((Number(text[digit]) + 1) % 10) + text.slice(digit + 1));
  });
  await proxy.start();
  t.teardown(() => proxy.close());
  const client = new BookcastClient({ url: `ws://127.0.0.1:${proxy.port}` });
  t.teardown(() => client.close());
  const recorder = new ClientRecorder(client, (s) => srv.symbols.get(s)!.size_decimals);
  const resyncs: string[] = [];
  client.on('resync', (r) => resyncs.push(`${r.channel} ${r.symbol} ${r.reason}`));
  client.on('l2', (_book, m) => {
    if (m.type === 'l2_snapshot' && client.resyncs.gap > 0) recovered = true;
  });
  await client.connect();
  client.subscribe({ channels: ['l2'], symbols: ['BTC/USD'], depth: 10 });
  await waitFor('the gap and the checksum mismatch found', () => client.resyncs.gap >= 1 && client.resyncs.checksum >= 1);
  t.same(resyncs.slice(0, 2), ['l2 BTC/USD gap', 'l2 BTC/USD checksum'], 'each fault is reported once, as what it was');
  await matchesRest(t, srv, client, recorder, 'BTC/USD', false);
  t.equal(client.connections, 1, 'repaired on the same connection');
});

t.test('flatbuffers: after the connection is cut, the client reconnects and its books resume verified', async (t) => {
  const srv = await sharedServer();
  const proxy = new FrameProxy(srv.server.port, () => 'pass');
  await proxy.start();
  t.teardown(() => proxy.close());
  const client = new BookcastClient({ url: `ws://127.0.0.1:${proxy.port}`, format: 'flatbuffers', reconnect: { baseMs: 50, capMs: 500 } });
  t.teardown(() => client.close());
  const recorder = new ClientRecorder(client, (s) => srv.symbols.get(s)!.size_decimals);
  const delays: number[] = [];
  client.on('reconnecting', (_attempt, delay) => delays.push(delay));
  await client.connect();
  client.subscribe({ channels: ['l2', 'l3'], symbols: SYMBOLS, depth: 10 });
  await waitFor('both books', () => SYMBOLS.every((s) => client.book(s) !== undefined && client.l3(s) !== undefined));
  const before = client.book('BTC/USD')!.sequence;
  proxy.cutAll();
  await waitFor('a second connection', () => client.connections === 2);
  t.ok(delays.length >= 1 && delays.every((d) => d >= 0 && d <= 500), `reconnected after a jittered delay within the cap (${delays.join(', ')} ms)`);
  await waitFor('the book moving on after the reconnect', () => client.book('BTC/USD')!.sequence > before);
  for (const symbol of SYMBOLS) await matchesRest(t, srv, client, recorder, symbol);
  t.same(client.resyncs, { gap: 0, checksum: 0 });
});

t.test('market-data dialect: verified books over the Market Data API stream, refusals and heartbeats as events, a lost update repaired', async (t) => {
  const srv = await sharedServer();
  t.throws(() => new BookcastClient({ url: srv.url, dialect: 'market-data', format: 'flatbuffers' }), 'the stream is JSON only');

  const client = new BookcastClient({ url: srv.url, dialect: 'market-data' });
  t.teardown(() => client.close());
  const recorder = new ClientRecorder(client, (s) => srv.symbols.get(s)!.size_decimals);
  let updates = 0;
  client.on('l2', (_b, m) => (updates += m.type === 'l2_update' ? 1 : 0));
  const trades: number[] = [];
  client.on('trade', (m) => trades.push(m.data.trade_id));
  const refused: { id: unknown; code?: string }[] = [];
  client.on('refused', (m) => refused.push({ id: m.id, code: m.data?.code }));
  const heartbeats: string[] = [];
  client.on('heartbeat', (m) => heartbeats.push(...m.data.subscriptions.map((s) => `${s.channel} ${s.symbol}`)));
  await client.connect();
  t.throws(() => client.subscribe({ channels: ['l3'], symbols: ['BTC/USD'] }), /no l3/, 'l3 is refused before it is sent');
  client.subscribe({ channels: ['l2', 'trades'], symbols: SYMBOLS, depth: 10 });
  client.subscribe({ channels: ['ticker'], symbols: ['NOPE/USD'] });
  await waitFor('100 verified L2 updates, a trade, the refusal and a heartbeat', () => updates >= 100 && trades.length > 0 && refused.length > 0 && heartbeats.length > 0);
  t.same(refused, [{ id: 'r2', code: 'UNKNOWN_SYMBOL' }], 'the refused request, by its request_id');
  t.ok(heartbeats.includes('ORDERBOOK BTC/USD'), 'heartbeats name the subscriptions');
  for (const symbol of SYMBOLS) await matchesRest(t, srv, client, recorder, symbol, false);
  t.same(client.resyncs, { gap: 0, checksum: 0 });

  // Through a proxy that loses the 40th BTC/USD update: found as a gap, repaired by a fresh SUBSCRIBE on the same connection.
  let seen = 0;
  const proxy = new FrameProxy(srv.server.port, (payload) => (payload.toString().includes('"type":"l2_update","symbol":"BTC/USD"') && ++seen === 40 ? 'drop' : 'pass'));
  await proxy.start();
  t.teardown(() => proxy.close());
  const lossy = new BookcastClient({ url: `ws://127.0.0.1:${proxy.port}`, dialect: 'market-data' });
  t.teardown(() => lossy.close());
  const lossyRecorder = new ClientRecorder(lossy, (s) => srv.symbols.get(s)!.size_decimals);
  await lossy.connect();
  lossy.subscribe({ channels: ['l2'], symbols: ['BTC/USD'], depth: 10 });
  await waitFor('the gap found', () => lossy.resyncs.gap >= 1);
  await matchesRest(t, srv, lossy, lossyRecorder, 'BTC/USD', false);
  t.equal(lossy.connections, 1, 'repaired on the same connection');
});

for (const format of ['json', 'flatbuffers'] as const) {
  t.test(`${format}: every message is emitted as it arrives, with its frame, before the books apply it`, async (t) => {
    const srv = await sharedServer();
    const client = new BookcastClient({ url: srv.url, format });
    t.teardown(() => client.close());
    const decimals = new Map([...srv.symbols].map(([symbol, s]) => [symbol, { price_decimals: s.price_decimals, size_decimals: s.size_decimals }]));
    const events: string[] = [];
    const frames: [FeedMessage, Buffer][] = [];
    client.on('message', (m, frame) => {
      frames.push([m, frame]);
      if (m.type === 'l2_snapshot' || m.type === 'l2_update') events.push(`message ${m.sequence}`);
    });
    client.on('l2', (book) => events.push(`l2 ${book.sequence}`));
    await client.connect();
    client.subscribe({ channels: ['l2'], symbols: ['BTC/USD'], depth: 10 });
    client.subscribe({ channels: ['l2'], symbols: ['NOPE/USD'] });
    await waitFor('50 book messages and the refusal', () => events.length >= 100 && frames.some(([m]) => m.type === 'error'));
    // Each book message is announced as a message first, then as the book it made.
    const pairs = events.slice(0, 100);
    for (let i = 0; i < pairs.length; i += 2) t.same([pairs[i].split(' ')[1], pairs[i + 1].split(' ')[0]], [pairs[i + 1].split(' ')[1], 'l2'], `pair ${i / 2}`);
    const book = frames.filter(([m]) => m.type === 'l2_update').slice(0, 20);
    for (const [m, frame] of book) {
      const decoded = format === 'json' ? JSON.parse(frame.toString()) : frameToMessage(new Uint8Array(frame), decimals);
      t.same(decoded, m, `update ${'sequence' in m ? m.sequence : ''}: the message is its frame, as received`);
    }
    const [refusal, refusalFrame] = frames.find(([m]) => m.type === 'error')!;
    t.match(refusal, { type: 'error', data: { code: 'UNKNOWN_SYMBOL' } });
    t.match(JSON.parse(refusalFrame.toString()), { type: 'error' }, 'control replies are JSON text in both formats');
  });
}

t.test('pauseReading leaves frames with the server until its slow-consumer handling acts; resumeReading picks up from there', async (t) => {
  // A modest rate: the paused window fills 64 KiB within moments at any rate, and the client
  // (in this process, beside the server's front thread) must then read faster than the feed to
  // see its resynchronisation through on a loaded machine.
  const srv = await startTestServer(['--rate', '1000', '--workers', '2', '--soft-backpressure', '65536', '--max-backpressure', String(512 * 1024 * 1024)]);
  t.teardown(() => srv.server.stop());
  const client = new BookcastClient({ url: srv.url, reconnect: false });
  t.teardown(() => client.close());
  const recorder = new ClientRecorder(client, (s) => srv.symbols.get(s)!.size_decimals);
  await client.connect();
  // Paused before anything flows, so that the receive window stays small.
  client.pauseReading();
  client.subscribe({ channels: ['l2', 'l3', 'trades'], symbols: [...srv.symbols.keys()], depth: 100 });
  await waitFor('the server to park the unread connection', async () => (await srv.get('/api/v1/health')).body.slow_consumer_resyncs >= 1, 120_000);
  const btc = recorder.stream('l2 BTC/USD');
  // Counted as the notice is read, not after the await: the resync's snapshots can arrive in the
  // same read as the notice and be counted before this test runs again (then it waited for one more).
  let snapshots = 0;
  let updates = 0;
  const notice = recorder.next((m) => {
    if (m.type !== 'error' || m.data?.code !== 'SLOW_CONSUMER') return false;
    ({ snapshots, updates } = btc);
    return true;
  });
  client.resumeReading();
  t.ok(await notice, 'told it fell behind once it reads again');
  // What was queued before the park is read first: minutes of decoding on a loaded machine.
  let closed: string | null = null;
  client.on('close', (code: number, reason: string) => (closed = `${code} ${reason}`));
  await waitFor('a fresh BTC/USD snapshot and updates on it', () => {
    // Closed by the server's last rung, there is nothing more to wait for: say so now.
    if (closed !== null) throw new Error(`the server closed the connection (${closed}) before the resynchronisation was read`);
    return btc.snapshots > snapshots && btc.updates > updates;
  }, 300_000);
  t.same(recorder.resyncs, [], 'the server resynchronised the streams: the client found no gap of its own');
  t.equal(client.connections, 1, 'the same connection');
});

t.test('L2Book keeps levels ordered and verifies checksums from its own strings', async (t) => {
  const book = new L2Book('X/Y');
  const snapshot = { type: 'l2_snapshot' as const, symbol: 'X/Y', timestamp: '', sequence: 5, checksum: 0, data: { depth: 10, bids: [['9.5', '1.0'], ['10.0', '2.0']] as [string, string][], asks: [['10.5', '1.0']] as [string, string][] } };
  t.equal(book.applySnapshot(snapshot), 'checksum', 'a wrong checksum is reported');
  t.same(book.bids, [['10.0', '2.0'], ['9.5', '1.0']], 'bids best first');
  const right = book.checksum();
  t.equal(book.applySnapshot({ ...snapshot, checksum: right }), 'ok');
  const update = { type: 'l2_update' as const, symbol: 'X/Y', timestamp: '', sequence: 7, prev_sequence: 5, checksum: 0, data: { depth: 10, bids: [['10.0', '0.0']] as [string, string][], asks: [] } };
  t.equal(book.applyUpdate({ ...update, sequence: 8, prev_sequence: 6 }), 'gap', 'prev_sequence after the snapshot is a gap');
  const after = new L2Book('X/Y');
  after.applySnapshot({ ...snapshot, checksum: right, data: { ...snapshot.data, bids: [['9.5', '1.0']] } });
  t.equal(book.applyUpdate({ ...update, checksum: after.checksum() }), 'ok', 'a size of 0 removes the level');
  t.same(book.bids, [['9.5', '1.0']]);
  t.equal(book.sequence, 7);
});
